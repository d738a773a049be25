/**
 * Mutations of valid encodings for decoder robustness properties. Random bytes almost never get past the
 * signature; mutating a valid message reaches every check of `spec/wire.md` §9.2, and the length-prefix
 * mutation aims straight at the overrun checks, whose prefixes are located by walking the valid body frame
 * with the schema.
 */
import fc from "fast-check";
import type { CodecSchema, MessageSchema } from "../../../runtime/wire/schema.js";

/** Where a length or count prefix sits in the body frame, and how wide it is. */
export interface Prefix {
  readonly offset: number;
  readonly width: 1 | 4;
}

/** A `hash` or `dictionary` in the body frame: its count prefix and the octet range of each entry. */
export interface MapLayout {
  readonly count: Prefix;
  readonly entries: readonly { readonly start: number; readonly end: number }[];
}

/** What the mutations need to know about a valid body frame. */
export interface BodyLayout {
  /** Every length/count prefix, nested ones (list items, hash keys and values, dictionary entries) included. */
  readonly prefixes: readonly Prefix[];
  readonly maps: readonly MapLayout[];
}

/**
 * The layout of the body frame of a VALID binary encoding of `message`, found by walking it with the schema.
 * Frame-per-field framing has no prefixes in its frames.
 */
export function bodyLayout(schema: CodecSchema, message: MessageSchema, body: Uint8Array): BodyLayout {
  const prefixes: Prefix[] = [];
  const maps: MapLayout[] = [];
  if (schema.framing !== "binary") return { prefixes, maps };
  const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let at = 3;
  // Each reader records its prefix and returns it; the caller skips what it announces. (Counts are
  // returned the same way and drive the loops over items.)
  const prefix = (width: 1 | 4): number => {
    prefixes.push({ offset: at, width });
    const value = width === 1 ? view[at] : view.readUInt32BE(at);
    at += width;
    return value;
  };
  const skipped = (width: 1 | 4): void => {
    const length = prefix(width);
    at += length;
  };
  const map = (countWidth: 1 | 4, entry: () => void): void => {
    const count = { offset: at, width: countWidth };
    const entries: { start: number; end: number }[] = [];
    for (let n = prefix(countWidth); n > 0; n--) {
      const start = at;
      entry();
      entries.push({ start, end: at });
    }
    maps.push({ count, entries });
  };
  for (const field of message.fields) {
    switch (field.type) {
      case "number": at += field.size ?? 1; break;
      case "octets": at += field.size ?? 0; break;
      case "uuid": at += 16; break;
      case "string": skipped(1); break;
      case "longstr": case "chunk": skipped(4); break;
      case "strings": for (let n = prefix(4); n > 0; n--) skipped(4); break;
      case "hash": map(4, () => { skipped(1); skipped(4); }); break;
      case "dictionary": map(1, () => skipped(1)); break;
      case "shortstrings": for (let n = prefix(1); n > 0; n--) skipped(1); break;
      case "frame": case "msg": break;
    }
  }
  // The walk must land exactly on the end of a valid body; anything else is a bug in this helper.
  if (at !== view.length) throw new Error(`lengthPrefixes: walked to ${at} of ${view.length} octets in ${message.name}`);
  return { prefixes, maps };
}

/**
 * One mutation. Positions are free naturals reduced modulo what exists when the mutation is applied, so any
 * mutation applies to any frame list (and shrinks well).
 */
export type Mutation =
  | { readonly kind: "flip"; readonly frame: number; readonly at: number; readonly mask: number }
  | { readonly kind: "insert"; readonly frame: number; readonly at: number; readonly octet: number }
  | { readonly kind: "delete"; readonly frame: number; readonly at: number }
  | { readonly kind: "truncate"; readonly frame: number; readonly keep: number }
  | { readonly kind: "append"; readonly frame: number; readonly octets: Uint8Array }
  | { readonly kind: "addFrame"; readonly at: number; readonly octets: Uint8Array }
  | { readonly kind: "dropFrame"; readonly at: number }
  | { readonly kind: "emptyFrame"; readonly at: number }
  | { readonly kind: "swapFrames"; readonly a: number; readonly b: number }
  | { readonly kind: "setId"; readonly id: number }
  | { readonly kind: "bigLength"; readonly which: number; readonly value: number }
  | { readonly kind: "duplicateEntry"; readonly which: number; readonly entry: number };

const index = fc.nat({ max: 1 << 16 });

/** Values written over a length prefix: the classic overflows, and neighbours of the true length. */
const lengthValue = fc.oneof(
  fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 0xff, 0x100, 0x1_0000, 0),
  fc.integer({ min: -3, max: 3 }), // relative: added to the true length
  fc.nat().map((n) => n * 2 + 1000), // a large random value
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), frame: index, at: index, mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), frame: index, at: index, octet: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("delete" as const), frame: index, at: index }),
  fc.record({ kind: fc.constant("truncate" as const), frame: index, keep: index }),
  fc.record({ kind: fc.constant("append" as const), frame: index, octets: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("addFrame" as const), at: index, octets: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant("dropFrame" as const), at: index }),
  fc.record({ kind: fc.constant("emptyFrame" as const), at: index }),
  fc.record({ kind: fc.constant("swapFrames" as const), a: index, b: index }),
  fc.record({ kind: fc.constant("setId" as const), id: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("bigLength" as const), which: index, value: lengthValue }),
  // Random octets almost never repeat a key; this copies an entry of a hash/dictionary to its end and bumps
  // the count, which keeps the frame well-formed and leaves only the duplicate for the decoder to find.
  fc.record({ kind: fc.constant("duplicateEntry" as const), which: index, entry: index }),
);

/** Index of the frame that carries the message id, or -1 when the id is not on the wire. */
export function idLocation(schema: CodecSchema): { frame: number; offset: number } | null {
  if (schema.framing === "binary") return { frame: 0, offset: 2 };
  if (schema.framing === "pubsub") return { frame: 0, offset: 0 };
  return schema.command === "frame" ? { frame: schema.headerFields, offset: 0 } : null;
}

/**
 * Applies mutations in order to a copy of `frames` (the input is never touched). `prefixes` are the length
 * prefixes of the original body frame; after an earlier mutation moved bytes they may point elsewhere,
 * which only makes the input more random.
 */
export function mutate(schema: CodecSchema, frames: readonly Uint8Array[], layout: BodyLayout, mutations: readonly Mutation[]): Buffer[] {
  const { prefixes, maps } = layout;
  const out = frames.map((frame) => Buffer.from(frame));
  const pick = (n: number, length: number): number => n % length;
  for (const m of mutations) {
    switch (m.kind) {
      case "flip": {
        if (out.length === 0) break;
        const f = pick(m.frame, out.length);
        if (out[f].length === 0) break;
        out[f][pick(m.at, out[f].length)] ^= m.mask;
        break;
      }
      case "insert": {
        if (out.length === 0) break;
        const f = pick(m.frame, out.length);
        const at = pick(m.at, out[f].length + 1);
        out[f] = Buffer.concat([out[f].subarray(0, at), Buffer.of(m.octet), out[f].subarray(at)]);
        break;
      }
      case "delete": {
        if (out.length === 0) break;
        const f = pick(m.frame, out.length);
        if (out[f].length === 0) break;
        const at = pick(m.at, out[f].length);
        out[f] = Buffer.concat([out[f].subarray(0, at), out[f].subarray(at + 1)]);
        break;
      }
      case "truncate": {
        if (out.length === 0) break;
        const f = pick(m.frame, out.length);
        out[f] = out[f].subarray(0, pick(m.keep, out[f].length + 1));
        break;
      }
      case "append": {
        if (out.length === 0) break;
        const f = pick(m.frame, out.length);
        out[f] = Buffer.concat([out[f], m.octets]);
        break;
      }
      case "addFrame":
        out.splice(pick(m.at, out.length + 1), 0, Buffer.from(m.octets));
        break;
      case "dropFrame":
        if (out.length > 0) out.splice(pick(m.at, out.length), 1);
        break;
      case "emptyFrame":
        if (out.length > 0) out[pick(m.at, out.length)] = Buffer.alloc(0);
        break;
      case "swapFrames": {
        if (out.length < 2) break;
        const a = pick(m.a, out.length);
        const b = pick(m.b, out.length);
        [out[a], out[b]] = [out[b], out[a]];
        break;
      }
      case "setId": {
        const where = idLocation(schema);
        if (where === null || out.length <= where.frame || out[where.frame].length <= where.offset) break;
        out[where.frame][where.offset] = m.id;
        break;
      }
      case "bigLength": {
        if (prefixes.length === 0 || out.length === 0) break;
        const prefix = prefixes[pick(m.which, prefixes.length)];
        const body = out[0];
        if (prefix.offset + prefix.width > body.length) break;
        const current = prefix.width === 1 ? body[prefix.offset] : body.readUInt32BE(prefix.offset);
        const limit = prefix.width === 1 ? 0x100 : 0x1_0000_0000;
        // Small values are relative to the true length (off-by-one overruns); the others are absolute.
        const raw = m.value >= -3 && m.value <= 3 ? current + m.value : m.value;
        const value = ((raw % limit) + limit) % limit;
        if (prefix.width === 1) body[prefix.offset] = value;
        else body.writeUInt32BE(value, prefix.offset);
        break;
      }
      case "duplicateEntry": {
        const withEntries = maps.filter((candidate) => candidate.entries.length > 0);
        if (withEntries.length === 0 || out.length === 0) break;
        const target = withEntries[pick(m.which, withEntries.length)];
        const entry = target.entries[pick(m.entry, target.entries.length)];
        const last = target.entries[target.entries.length - 1].end;
        const body = out[0];
        if (last > body.length || target.count.offset + target.count.width > body.length) break;
        const count = target.count.width === 1 ? body[target.count.offset] : body.readUInt32BE(target.count.offset);
        const copy = Buffer.concat([body.subarray(0, last), body.subarray(entry.start, entry.end), body.subarray(last)]);
        if (target.count.width === 1) copy[target.count.offset] = (count + 1) & 0xff;
        else copy.writeUInt32BE((count + 1) >>> 0, target.count.offset);
        out[0] = copy;
        break;
      }
    }
  }
  return out;
}

/**
 * Random frame lists: 0–5 frames of random octets. Half of them get the model's valid header (signature
 * and a defined id, or the constant frames and a command frame), so that the body decoders see random
 * bytes too, not only the signature check.
 */
export function randomFrames(schema: CodecSchema): fc.Arbitrary<Buffer[]> {
  const raw = fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 0, maxLength: 5 }).map((frames) => frames.map((f) => Buffer.from(f)));
  const ids = schema.messages.map((message) => message.id);
  const headed = fc.tuple(raw, fc.constantFrom(...ids)).map(([frames, id]) => withHeader(schema, frames, id));
  return fc.oneof(raw, headed);
}

function withHeader(schema: CodecSchema, frames: Buffer[], id: number): Buffer[] {
  if (schema.framing === "binary") {
    const body = frames[0] ?? Buffer.alloc(0);
    return [Buffer.concat([Buffer.of(0xaa, 0xa0 | schema.signature, id), body]), ...frames.slice(1)];
  }
  if (schema.framing === "pubsub") {
    const body = frames[0] ?? Buffer.alloc(0);
    return [Buffer.concat([Buffer.of(id), body]), ...frames.slice(1)];
  }
  // Frame-per-field: the header constants (the first message's header fields), then the command frame.
  const header = schema.messages[0].fields.slice(0, schema.headerFields).map((field) => {
    if (field.type !== "number") return Buffer.from(String(field.value ?? ""), "utf8");
    const frame = Buffer.alloc(field.size ?? 1);
    if (frame.length === 8) frame.writeBigUInt64BE(BigInt(field.value ?? 0));
    else frame.writeUIntBE(Number(field.value ?? 0), 0, frame.length);
    return frame;
  });
  const command = schema.command === "frame" ? [Buffer.of(id)] : [];
  return [...header, ...command, ...frames];
}
