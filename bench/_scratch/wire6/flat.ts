/**
 * EXPERIMENT: primitives for "flat" generated codecs: the generator emits straight-line code per message
 * that keeps the frame and position in locals, and calls only these small helpers (all inlinable), so no
 * Writer/Reader object exists and TurboFan's inlining budget is not exhausted.
 */
import { EncodeError, MalformedError, type MalformedKind } from "./errors.js";
import { checkedUtf8, readUtf8 } from "./text.js";
import type { EncodeSite } from "./writer.js";

const POOL = 16 * 1024;
let pool = Buffer.allocUnsafeSlow(POOL);
let poolAt = 0;
const U64 = new BigUint64Array(1);
const U8 = new Uint8Array(U64.buffer);
const MAX_U64 = 0xffffffffffffffffn;

/** A frame buffer with room for `bound` octets from {@link reservedAt}. */
export function reserve(bound: number): Buffer {
  if (pool.length - poolAt < bound) {
    pool = Buffer.allocUnsafeSlow(Math.max(POOL, bound));
    poolAt = 0;
  }
  return pool;
}
export function reservedAt(): number {
  return poolAt;
}
export function commit(buffer: Buffer, end: number): Buffer {
  const start = poolAt;
  poolAt = end;
  return buffer.subarray(start, end);
}

export function encodeFail(site: EncodeSite, kind: EncodeError["kind"], field: string, detail: string): EncodeError {
  return new EncodeError(kind, site.model, site.message, field, detail);
}
export function rangeFail(site: EncodeSite, field: string, value: unknown): EncodeError {
  return encodeFail(site, typeof value === "number" && Number.isInteger(value) ? "OutOfRange" : "BadType", field, `${String(value)} out of range`);
}

export function putU32(b: Buffer, at: number, v: number): void {
  b[at] = v >>> 24; b[at + 1] = v >>> 16; b[at + 2] = v >>> 8; b[at + 3] = v;
}
/** Checks and writes a u64 (bigint, or a safe non-negative number). */
export function putU64(b: Buffer, at: number, v: unknown, site: EncodeSite, field: string): void {
  if (typeof v === "bigint") {
    if (v < 0n || v > MAX_U64) throw rangeFail(site, field, v);
    U64[0] = v;
  } else if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) {
    U64[0] = BigInt(v);
  } else {
    throw encodeFail(site, "BadType", field, "expected a bigint");
  }
  b[at] = U8[7]; b[at + 1] = U8[6]; b[at + 2] = U8[5]; b[at + 3] = U8[4];
  b[at + 4] = U8[3]; b[at + 5] = U8[2]; b[at + 6] = U8[1]; b[at + 7] = U8[0];
}
export function textBound(site: EncodeSite, field: string, v: unknown): number {
  if (typeof v !== "string") throw encodeFail(site, "BadType", field, "expected a string");
  return 3 * v.length;
}
export function hashBound(site: EncodeSite, field: string, v: unknown): number {
  if (!(v instanceof Map)) throw encodeFail(site, "BadType", field, "expected a Map");
  let size = 4;
  for (const [key, value] of v as Map<unknown, unknown>) {
    if (typeof key !== "string" || typeof value !== "string") throw encodeFail(site, "BadType", field, "expected strings");
    size += 5 + 3 * (key.length + value.length);
  }
  return size;
}
/** Validates and writes a `string` field at `at`; returns the position after it. */
export function putString(b: Buffer, at: number, v: string, site: EncodeSite, field: string): number {
  const octets = checkedUtf8(b, v, at + 1);
  if (octets < 0) throw encodeFail(site, "InvalidText", field, "NUL or lone surrogate");
  if (octets > 255) throw encodeFail(site, "TooLong", field, "too long");
  b[at] = octets;
  return at + 1 + octets;
}
export function putLongstr(b: Buffer, at: number, v: string, site: EncodeSite, field: string): number {
  const octets = checkedUtf8(b, v, at + 4);
  if (octets < 0) throw encodeFail(site, "InvalidText", field, "NUL or lone surrogate");
  putU32(b, at, octets);
  return at + 4 + octets;
}
export function putHash(b: Buffer, at: number, v: ReadonlyMap<string, string>, site: EncodeSite, field: string): number {
  putU32(b, at, v.size);
  at += 4;
  for (const [key, value] of v) {
    at = putString(b, at, key, site, field);
    at = putLongstr(b, at, value, site, field);
  }
  return at;
}
export function putChunk(b: Buffer, at: number, v: Uint8Array): number {
  putU32(b, at, v.length);
  b.set(v, at + 4);
  return at + 4 + v.length;
}

// Decoding
export function frameBuffer(frame: Uint8Array): Buffer {
  return Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}
export function malformed(kind: MalformedKind, model: string, message: string | null, field: string | null, offset: number, detail: string): MalformedError {
  return new MalformedError({ kind, model, messageName: message, id: null, field, frame: 0, offset, detail });
}
export function getU32(b: Buffer, at: number): number {
  return b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}
export function getU64(b: Buffer, at: number): bigint {
  U8[7] = b[at]; U8[6] = b[at + 1]; U8[5] = b[at + 2]; U8[4] = b[at + 3];
  U8[3] = b[at + 4]; U8[2] = b[at + 5]; U8[1] = b[at + 6]; U8[0] = b[at + 7];
  return U64[0];
}
export function getText(b: Buffer, start: number, end: number, model: string, message: string, field: string): string {
  const text = readUtf8(b, start, end);
  if (text === null) throw malformed("InvalidText", model, message, field, start, "not valid UTF-8 without NUL");
  return text;
}
