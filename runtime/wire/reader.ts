/**
 * Decoding primitives with the strict rules of `spec/wire.md` §9.2: every read checks that its fixed part
 * fits, every announced length or count is checked against what is left before anything is allocated, text
 * must be valid UTF-8 without NUL, and the caller ends with {@link endOfBody} so trailing octets are errors.
 *
 * Every function takes the body frame and the offset of its field and returns the decoded value. Fixed-width
 * fields take a width the caller knows; after a variable-size field the caller continues at
 * {@link readEnd}. There is no reader object, so nothing escapes when a helper is not inlined, and the
 * offset stays in a register of the caller. As with the encoding primitives, the functions a decoder calls
 * for every message are small, with error texts built out of line: V8's optimising compiler inlines callees
 * until a budget of bytecode is spent. One set of primitives serves both the generated codecs and the schema
 * interpreter, so the two cannot drift apart.
 */
import { MalformedError, type DecodeSite, type MalformedKind } from "./errors.js";
import { readKeyUtf8, readUtf8 } from "./text.js";
import { readUint64 } from "./u64.js";
import { bufferView, toBuffer } from "./writer.js";
import { plural } from "./plural.js";

/** Where the last variable-size value read ended: see {@link readEnd}. */
let end = 0;

/**
 * The offset just past the value the last variable-size `read*` function returned (string, longstr,
 * strings, hash, shortstrings, dictionary, chunk, constant string, topic); read it right after that call.
 * Returning the value and leaving the offset here is what lets the helpers do without a reader object.
 */
export function readEnd(): number {
  return end;
}

/** Optional parts of a decoding error. */
interface ErrorExtra {
  readonly expected?: string;
  readonly actual?: string;
  readonly frame?: number;
}

/** A decoding error at `offset` of the body frame (or of `extra.frame`). */
export function malformed(site: DecodeSite, kind: MalformedKind, field: string | null, offset: number, detail: string, extra?: ErrorExtra): MalformedError {
  return new MalformedError({
    kind,
    model: site.model,
    messageName: site.message,
    id: site.id,
    field,
    frame: extra?.frame ?? 0,
    offset,
    ...(extra?.expected !== undefined ? { expected: extra.expected } : {}),
    ...(extra?.actual !== undefined ? { actual: extra.actual } : {}),
    detail,
  });
}

/** The error for a fixed part (`what`, `octets` wide) that does not fit at `at`. */
function truncated(site: DecodeSite, field: string, what: string, octets: number, buffer: Buffer, at: number): MalformedError {
  return malformed(site, "Truncated", field, at, `${what} needs ${plural(octets, "octet")}, ${buffer.length - at} left at offset ${at}`);
}

/** The error for a `number` field (or a length or count) of `octets` octets that does not fit at `at`. */
function truncatedNumber(site: DecodeSite, field: string, octets: number, buffer: Buffer, at: number): MalformedError {
  return truncated(site, field, `number-${octets}`, octets, buffer, at);
}

/**
 * The error for a length or count of `width` octets at `at` that announces more than the frame holds after
 * it. The offset is the prefix's, where the field (or item) starts.
 */
function overrun(site: DecodeSite, field: string, what: string, count: number, buffer: Buffer, at: number, width: number): MalformedError {
  return malformed(site, "Overrun", field, at, `${what} ${count} overruns frame (${plural(buffer.length - at - width, "octet")} left) at offset ${at}`);
}

// ---------------------------------------------------------------------------------------------------------
// Frame 0 up to the message id

/** Site of errors found before the message id is known. */
function modelSite(model: string, id: number | null = null): DecodeSite {
  return { model, message: null, id };
}

/**
 * Frame 0 of a binary message after checking that it exists, starts with the two signature octets and has
 * a message id (octet 2), `spec/wire.md` §9.2 steps 0–2.
 */
export function binaryBody(model: string, frames: readonly Uint8Array[], signature0: number, signature1: number): Buffer {
  const body = frames.length > 0 ? toBuffer(frames[0]) : undefined;
  if (body === undefined || body.length < 3 || body[0] !== signature0 || body[1] !== signature1) {
    throw badStart(model, frames, signature0, signature1);
  }
  return body;
}

/** Why {@link binaryBody} refused frame 0. */
function badStart(model: string, frames: readonly Uint8Array[], signature0: number, signature1: number): MalformedError {
  if (frames.length === 0) return malformed(modelSite(model), "Truncated", "signature", 0, "no frames");
  const body = toBuffer(frames[0]);
  const limit = body.length;
  if (limit < 2) return malformed(modelSite(model), "Truncated", "signature", 0, `frame of ${plural(limit, "octet")} has no signature`);
  if (body[0] !== signature0 || body[1] !== signature1) {
    const expected = hex2(signature0, signature1);
    const actual = hex2(body[0], body[1]);
    return malformed(modelSite(model), "BadSignature", "signature", 0, `signature is ${actual}, not ${expected}`, { expected, actual });
  }
  return malformed(modelSite(model), "Truncated", "id", 2, "frame ends before the message id");
}

/** Frame 0 of a pubsub message after checking that it exists and has a message id (octet 0). */
export function pubsubBody(model: string, frames: readonly Uint8Array[]): Buffer {
  if (frames.length === 0) throw malformed(modelSite(model), "Truncated", "id", 0, "no frames");
  const body = toBuffer(frames[0]);
  if (body.length < 1) throw malformed(modelSite(model), "Truncated", "id", 0, "frame ends before the message id");
  return body;
}

/** The error for an id at `at` that the model does not define. */
export function unknownId(model: string, body: Buffer, at: number): MalformedError {
  const id = body[at];
  return malformed(modelSite(model, id), "UnknownId", "id", at, `unknown message id ${id}`, { actual: String(id) });
}

/** A pubsub topic at `at`: octets up to the NUL that ends it. */
export function readTopic(site: DecodeSite, body: Buffer, at: number): string {
  const nul = body.indexOf(0, at);
  if (nul === -1) throw malformed(site, "Truncated", "topic", at, "topic has no terminating NUL");
  const topic = readUtf8(body, at, nul);
  if (topic === null) throw malformed(site, "InvalidText", "topic", at, "topic is not valid UTF-8");
  end = nul + 1;
  return topic;
}

// ---------------------------------------------------------------------------------------------------------
// Fields

// The readers below keep to a check and a read, their errors built out of line, to stay small enough to be
// inlined into decoders.

/** A `number 1` field at `at`. */
export function readNumber1(site: DecodeSite, field: string, buffer: Buffer, at: number): number {
  if (at >= buffer.length) throw truncatedNumber(site, field, 1, buffer, at);
  return buffer[at];
}

/** A `number 2` field at `at`. */
export function readNumber2(site: DecodeSite, field: string, buffer: Buffer, at: number): number {
  if (buffer.length - at < 2) throw truncatedNumber(site, field, 2, buffer, at);
  return (buffer[at] << 8) | buffer[at + 1];
}

/** A `number 4` field at `at` (also the 4-octet lengths and counts of other fields). */
export function readNumber4(site: DecodeSite, field: string, buffer: Buffer, at: number): number {
  if (buffer.length - at < 4) throw truncatedNumber(site, field, 4, buffer, at);
  return ((buffer[at] << 24) | (buffer[at + 1] << 16) | (buffer[at + 2] << 8) | buffer[at + 3]) >>> 0;
}

/** A `number 8` field at `at`, as a bigint. */
export function readNumber8(site: DecodeSite, field: string, buffer: Buffer, at: number): bigint {
  if (buffer.length - at < 8) throw truncatedNumber(site, field, 8, buffer, at);
  return readUint64(buffer, at);
}

/** A number of `size` octets at `at`, as its field type has it (bigint for `number 8`). */
function readNumber(site: DecodeSite, field: string, buffer: Buffer, at: number, size: 1 | 2 | 4 | 8): number | bigint {
  switch (size) {
    case 1: return readNumber1(site, field, buffer, at);
    case 2: return readNumber2(site, field, buffer, at);
    case 4: return readNumber4(site, field, buffer, at);
    case 8: return readNumber8(site, field, buffer, at);
  }
}

/** Checks a constant number field of `size` octets at `at`. */
export function readConstantNumber(site: DecodeSite, field: string, buffer: Buffer, at: number, size: 1 | 2 | 4 | 8, expected: number | bigint): void {
  const actual = readNumber(site, field, buffer, at, size);
  if (actual !== expected) {
    throw malformed(site, "BadConstant", field, at, `constant is ${actual}, expected ${expected}`, {
      expected: String(expected), actual: String(actual),
    });
  }
}

/** Checks a constant `string` field at `at`: its octets, length included. */
export function readConstantString(site: DecodeSite, field: string, buffer: Buffer, at: number, expected: Buffer): void {
  const limit = buffer.length;
  if (at >= limit) throw truncated(site, field, "string length", 1, buffer, at);
  const length = buffer[at];
  if (limit - at - 1 < length) throw overrun(site, field, "string length", length, buffer, at, 1);
  const same = length === expected.length && buffer.compare(expected, 0, length, at + 1, at + 1 + length) === 0;
  if (!same) {
    const actual = buffer.latin1Slice(at + 1, at + 1 + length);
    throw malformed(site, "BadConstant", field, at, `constant is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected.toString("utf8"))}`, {
      expected: expected.toString("utf8"), actual,
    });
  }
  end = at + 1 + length;
}

/**
 * Text of `length` octets at `start` (just past its length prefix); `what` names the field type. Sets
 * {@link readEnd}.
 */
function readText(site: DecodeSite, field: string, buffer: Buffer, start: number, length: number, what: string): string {
  const stop = start + length;
  const text = stop <= buffer.length ? readUtf8(buffer, start, stop) : null;
  if (text === null) throw badText(site, field, buffer, start, length, what, what === "string" ? 1 : 4);
  end = stop;
  return text;
}

/**
 * Why {@link readText} got no text: the length (the `width` octets before `start`) overruns the frame, or the
 * octets are not valid text.
 */
function badText(site: DecodeSite, field: string, buffer: Buffer, start: number, length: number, what: string, width: number): MalformedError {
  if (buffer.length - start < length) return overrun(site, field, `${what} length`, length, buffer, start - width, width);
  return malformed(site, "InvalidText", field, start, `${what} is not valid UTF-8 text without NUL at offset ${start}`);
}

/** A `string` field at `at`: 1-octet length, then UTF-8. Sets {@link readEnd}. */
export function readString(site: DecodeSite, field: string, buffer: Buffer, at: number): string {
  if (at >= buffer.length) throw truncatedNumber(site, field, 1, buffer, at);
  return readText(site, field, buffer, at + 1, buffer[at], "string");
}

/** A `longstr` field at `at`: 4-octet length, then UTF-8. Sets {@link readEnd}. */
export function readLongstr(site: DecodeSite, field: string, buffer: Buffer, at: number): string {
  const length = readNumber4(site, field, buffer, at);
  return readText(site, field, buffer, at + 4, length, "longstr");
}

/** A `strings` field at `at`: 4-octet count, then longstr items. Sets {@link readEnd}. */
export function readStrings(site: DecodeSite, field: string, buffer: Buffer, at: number): string[] {
  const count = readNumber4(site, field, buffer, at);
  at += 4;
  // Each item takes at least its 4-octet length: refuse counts the frame cannot hold before allocating.
  if (count * 4 > buffer.length - at) throw overrun(site, field, "strings count", count, buffer, at - 4, 4);
  const items: string[] = [];
  for (let i = 0; i < count; i++) {
    items.push(readLongstr(site, field, buffer, at));
    at = end;
  }
  end = at;
  return items;
}

/** A `hash` field at `at`: 4-octet count, then string keys and longstr values. Sets {@link readEnd}. */
export function readHash(site: DecodeSite, field: string, buffer: Buffer, at: number): Map<string, string> {
  const count = readNumber4(site, field, buffer, at);
  at += 4;
  if (count * 5 > buffer.length - at) throw overrun(site, field, "hash count", count, buffer, at - 4, 4);
  const map = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = readHashKey(site, field, buffer, at);
    const value = readLongstr(site, field, buffer, end);
    map.set(key, value);
    // A key seen before leaves the size unchanged: one lookup instead of has() and set().
    if (map.size === i) throw duplicateKey(site, field, at, "hash key", key);
    at = end;
  }
  end = at;
  return map;
}

/** The error for a `what` (hash or dictionary key) that occurs twice, the second time in the entry at `at`. */
function duplicateKey(site: DecodeSite, field: string, at: number, what: string, key: string): MalformedError {
  return malformed(site, "DuplicateKey", field, at, `${what} ${JSON.stringify(key)} occurs twice`);
}

/** A hash key: a `string` read through the key cache of {@link readKeyUtf8}. */
function readHashKey(site: DecodeSite, field: string, buffer: Buffer, at: number): string {
  if (at >= buffer.length) throw truncatedNumber(site, field, 1, buffer, at);
  const start = at + 1;
  const stop = start + buffer[at];
  const key = stop <= buffer.length ? readKeyUtf8(buffer, start, stop) : null;
  if (key === null) throw badText(site, field, buffer, start, buffer[at], "string", 1);
  end = stop;
  return key;
}

/** A `shortstrings` field (Guide-era) at `at`: 1-octet count, then string items. Sets {@link readEnd}. */
export function readShortstrings(site: DecodeSite, field: string, buffer: Buffer, at: number): string[] {
  const count = readNumber1(site, field, buffer, at);
  at += 1;
  if (count > buffer.length - at) throw overrun(site, field, "strings count", count, buffer, at - 1, 1);
  const items: string[] = [];
  for (let i = 0; i < count; i++) {
    items.push(readString(site, field, buffer, at));
    at = end;
  }
  end = at;
  return items;
}

/** A `dictionary` field (Guide-era) at `at`: 1-octet count, then `name=value` strings. Sets {@link readEnd}. */
export function readDictionary(site: DecodeSite, field: string, buffer: Buffer, at: number): Map<string, string> {
  const count = readNumber1(site, field, buffer, at);
  at += 1;
  if (count > buffer.length - at) throw overrun(site, field, "dictionary count", count, buffer, at - 1, 1);
  const map = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const entry = readString(site, field, buffer, at);
    const equals = entry.indexOf("=");
    if (equals <= 0) throw malformed(site, "InvalidEntry", field, at, `dictionary entry ${JSON.stringify(entry)} is not name=value`);
    const key = entry.slice(0, equals);
    if (map.has(key)) throw duplicateKey(site, field, at, "dictionary key", key);
    map.set(key, entry.slice(equals + 1));
    at = end;
  }
  end = at;
  return map;
}

/** A `chunk` field at `at`: 4-octet length, then the octets, as a view of the frame (not a copy). Sets {@link readEnd}. */
export function readChunk(site: DecodeSite, field: string, buffer: Buffer, at: number): Buffer {
  const length = readNumber4(site, field, buffer, at);
  const start = at + 4;
  if (buffer.length - start < length) throw overrun(site, field, "chunk length", length, buffer, at, 4);
  end = start + length;
  return bufferView(buffer, start, end);
}

/** Fixed-width raw octets (`octets` N, `uuid`): a view of the frame. */
export function readOctets(site: DecodeSite, field: string, buffer: Buffer, at: number, width: number): Buffer {
  if (buffer.length - at < width) throw truncated(site, field, plural(width, "octet"), width, buffer, at);
  return bufferView(buffer, at, at + width);
}

/** Checks that the body frame ends exactly at `at`, after the last field. */
export function endOfBody(site: DecodeSite, buffer: Buffer, at: number): void {
  if (at !== buffer.length) throw trailingBytes(site, buffer, at);
}

function trailingBytes(site: DecodeSite, buffer: Buffer, at: number): MalformedError {
  return malformed(site, "TrailingBytes", null, at, `${plural(buffer.length - at, "trailing octet")} after the last field at offset ${at}`);
}

// ---------------------------------------------------------------------------------------------------------
// Frames after the body

/** The frame of a `frame` field, frame `index` of the message. */
export function frameField(site: DecodeSite, field: string, frames: readonly Uint8Array[], index: number): Buffer {
  const frame = frames[index];
  if (frame === undefined) {
    throw malformed(site, "MissingFrame", field, 0, `frame ${index} is missing (message has ${plural(frames.length, "frame")})`, { frame: index });
  }
  return toBuffer(frame);
}

/** The frames from `from` on, for a trailing `msg` field with at least `min` frames. */
export function restFrames(site: DecodeSite, field: string, frames: readonly Uint8Array[], from: number, min: number): Buffer[] {
  if (frames.length - from < min) {
    throw malformed(site, "MissingFrame", field, 0, `needs at least ${plural(min, "frame")} from frame ${from}, message has ${frames.length}`, {
      frame: frames.length,
    });
  }
  const rest: Buffer[] = [];
  for (let i = from; i < frames.length; i++) rest.push(toBuffer(frames[i]));
  return rest;
}

/** Checks that no frames follow the `count` frames the message defines. */
export function noMoreFrames(site: DecodeSite, frames: readonly Uint8Array[], count: number): void {
  if (frames.length > count) throw unexpectedFrames(site, frames, count);
}

function unexpectedFrames(site: DecodeSite, frames: readonly Uint8Array[], count: number): MalformedError {
  return malformed(site, "UnexpectedFrame", null, 0, `${plural(frames.length - count, "unexpected frame")} after the message's ${count}`, { frame: count });
}

function hex2(a: number, b: number): string {
  return ((a << 8) | b).toString(16).padStart(4, "0");
}
