/**
 * A hand-written codec for `bench_msg` SAMPLE, the yardstick the generated codec is measured against. It
 * produces exactly the generated codec's bytes and enforces the same contract (`spec/wire.md` §9.2, §10):
 * encode checks types, ranges and text and hands out nothing unless every check passes; decode checks
 * signature, id, every length before use, UTF-8 without NUL, duplicate hash keys, trailing octets and the
 * frame count. Both throw the runtime's {@link EncodeError} / {@link MalformedError} with the same `kind`
 * the generated codec uses (`bench/equivalence.ts` checks this before every benchmark run).
 *
 * It is written for speed with no shared machinery. Encode bounds the frame size without touching text,
 * then validates and writes every field in one pass, by direct index writes, into a frame cut from its own
 * pool (no per-message ArrayBuffer). Decode reads straight from the frame with one up-front check for the
 * fixed-size prefix, builds short ASCII strings without calling into C++, and moves the 64-bit timestamp
 * through a BigUint64Array instead of BigInt arithmetic.
 *
 * @packageDocumentation
 */
import { isUtf8 } from "node:buffer";
import { EncodeError, MalformedError, type EncodeKind, type MalformedKind } from "../runtime/wire/errors.js";
import type { Draft } from "../runtime/wire/codec.js";
import type { Sample } from "../generated/bench/bench_msg.js";

const MODEL = "bench_msg";
const MESSAGE = "SAMPLE";
const SIGNATURE_0 = 0xaa;
const SIGNATURE_1 = 0xa1;
const SAMPLE_ID = 1;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;
/** Above this many UTF-16 units, Node's native routines beat a JavaScript loop. */
const SHORT_TEXT = 64;
/**
 * Octets of everything but the variable parts: signature 2, id 1, sequence 4, timestamp 8, flags 1, sender
 * length 1, topic length 1, payload length 4, hash count 4.
 */
const FIXED_OCTETS = 26;
/** Offset of the sender length octet: the end of the fixed-size prefix every SAMPLE has. */
const SENDER_AT = 16;

/**
 * A 64-bit scratch cell seen both as a bigint and as octets. Moving a bigint through a BigUint64Array
 * element is several times faster than splitting it with `>> 32n` / `& 0xffffffffn` (each of which
 * allocates a BigInt) or than `Buffer#readBigUInt64BE`. The octets are in platform order.
 */
const U64 = new BigUint64Array(1);
const U64_OCTETS = new Uint8Array(U64.buffer);
/** Index in {@link U64_OCTETS} of the most significant octet: 7 on little-endian platforms, 0 on big-endian. */
const U64_MSB = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 7 : 0;
/** Step from one octet to the next less significant one in {@link U64_OCTETS}. */
const U64_STEP = U64_MSB === 7 ? -1 : 1;

// ---------------------------------------------------------------------------------------------------------
// Encoding

function encodeError(kind: EncodeKind, field: string, detail: string): EncodeError {
  return new EncodeError(kind, MODEL, MESSAGE, field, detail);
}

/** The error for a number field that is not an integer of the field's width. */
function numberError(field: string, value: unknown, range: string): EncodeError {
  return typeof value === "number" && Number.isInteger(value)
    ? encodeError("OutOfRange", field, `${value} is outside ${range}`)
    : encodeError("BadType", field, `expected an integer in ${range}, got ${String(value)}`);
}

/**
 * UTF-8 octets of `text`, or -1 if it contains NUL or a lone surrogate. Only text that is not short ASCII
 * gets here (short ASCII is measured while {@link writeText} copies it).
 */
function utf8Octets(text: string): number {
  const units = text.length;
  if (units > SHORT_TEXT) return utf8OctetsLong(text);
  let octets = units;
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return -1;
    } else if (c < 0x800) {
      octets += 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // Only a high surrogate followed by a low one is a code point: 2 units, 4 octets.
      const low = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) return -1;
      octets += 2;
      i++;
    } else {
      octets += 2;
    }
  }
  return octets;
}

/** {@link utf8Octets} for long text, where Node's native routines beat a JavaScript loop. */
function utf8OctetsLong(text: string): number {
  if (!text.isWellFormed() || text.includes("\0")) return -1;
  return Buffer.byteLength(text, "utf8");
}

/**
 * Frames are cut from a pool, as `Buffer.allocUnsafe` does with Node's 8 KiB pool, but here the message is
 * written straight into the pool at a bound computed up front, so text is validated and copied in one pass
 * instead of measured first and copied after. A frame is a view of its pool; the pool is never written
 * again below the offset handed out, so frames stay valid for as long as they are held.
 */
const POOL_SIZE = 16 * 1024;
const EMPTY: Uint8Array = Buffer.alloc(0);
const EMPTY_MAP: ReadonlyMap<string, string> = new Map();
let pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let poolOffset = 0;

/**
 * Writes `text` at `at` and returns its octet count, or -1 if it contains NUL or a lone surrogate. The
 * caller guarantees room for 3 octets per UTF-16 unit, the most UTF-8 needs. Short ASCII is copied by a
 * loop that checks each unit as it goes (faster than a call into native code for strings this short);
 * anything else is measured and written by {@link writeTextSlow}.
 */
function writeText(buffer: Buffer, at: number, text: string): number {
  const units = text.length;
  if (units > SHORT_TEXT) return writeTextSlow(buffer, at, text);
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    // One unsigned comparison rejects both NUL (0 - 1 wraps) and non-ASCII (>= 0x80).
    if ((c - 1) >>> 0 > 0x7e) return writeTextSlow(buffer, at, text);
    buffer[at + i] = c;
  }
  return units;
}

function writeTextSlow(buffer: Buffer, at: number, text: string): number {
  const octets = utf8Octets(text);
  if (octets < 0) return -1;
  buffer.write(text, at, octets, "utf8");
  return octets;
}

function invalidText(field: string): EncodeError {
  return encodeError("InvalidText", field, "text contains NUL or a lone surrogate");
}

function tooLong(field: string, what: string, octets: number): EncodeError {
  return encodeError("TooLong", field, `${what} is ${octets} octets; at most 255 fit`);
}

function notText(field: string, value: unknown): EncodeError {
  return encodeError("BadType", field, `expected a string, got ${String(value)}`);
}

/**
 * Encodes a SAMPLE into its one frame, byte-identical to the generated `encode`. Throws {@link EncodeError}
 * if a value cannot travel; nothing is handed out then (the pool offset only moves on success).
 */
export function encodeSample(msg: Draft<Sample>): Buffer[] {
  // Like the generated codec, a field left out (undefined or null) takes its unset value.
  const sequence = msg.sequence ?? 0;
  const timestamp = msg.timestamp ?? 0n;
  const flags = msg.flags ?? 0;
  const sender = msg.sender ?? "";
  const topic = msg.topic ?? "";
  const payload = msg.payload ?? EMPTY;
  const headers = msg.headers ?? EMPTY_MAP;
  if (typeof sequence !== "number" || sequence >>> 0 !== sequence) throw numberError("sequence", sequence, "0..4294967295");
  if (typeof timestamp === "bigint") {
    if (timestamp < 0n || timestamp > MAX_U64) throw encodeError("OutOfRange", "timestamp", `${timestamp}n is outside 0..2^64-1`);
    U64[0] = timestamp;
  } else if (typeof timestamp === "number" && Number.isSafeInteger(timestamp) && timestamp >= 0) {
    // The generated codec also takes a safe non-negative number for a 64-bit field.
    U64[0] = BigInt(timestamp);
  } else {
    throw encodeError("BadType", "timestamp", `expected a bigint (or a safe non-negative integer), got ${String(timestamp)}`);
  }
  if (typeof flags !== "number" || (flags & 0xff) !== flags) throw numberError("flags", flags, "0..255");
  if (typeof sender !== "string") throw notText("sender", sender);
  if (typeof topic !== "string") throw notText("topic", topic);
  if (!(payload instanceof Uint8Array)) throw encodeError("BadType", "payload", `expected bytes, got ${String(payload)}`);
  if (!(headers instanceof Map)) throw encodeError("BadType", "headers", `expected a Map of strings, got ${String(headers)}`);

  // An upper bound of the frame size: text takes at most 3 octets per UTF-16 unit.
  let bound = FIXED_OCTETS + 3 * (sender.length + topic.length) + payload.length;
  for (const [key, value] of headers as Map<unknown, unknown>) {
    if (typeof key !== "string") throw notText("headers", key);
    if (typeof value !== "string") throw notText("headers", value);
    bound += 5 + 3 * (key.length + value.length);
  }
  if (pool.length - poolOffset < bound) {
    pool = Buffer.allocUnsafeSlow(Math.max(POOL_SIZE, bound));
    poolOffset = 0;
  }
  const buffer = pool;
  const start = poolOffset;

  buffer[start] = SIGNATURE_0;
  buffer[start + 1] = SIGNATURE_1;
  buffer[start + 2] = SAMPLE_ID;
  buffer[start + 3] = sequence >>> 24;
  buffer[start + 4] = sequence >>> 16;
  buffer[start + 5] = sequence >>> 8;
  buffer[start + 6] = sequence;
  for (let i = 0, from = U64_MSB; i < 8; i++, from += U64_STEP) buffer[start + 7 + i] = U64_OCTETS[from];
  buffer[start + 15] = flags;

  let at = start + SENDER_AT + 1;
  let octets = writeText(buffer, at, sender);
  if (octets < 0) throw invalidText("sender");
  if (octets > 255) throw tooLong("sender", "string", octets);
  buffer[at - 1] = octets;
  at += octets + 1;
  octets = writeText(buffer, at, topic);
  if (octets < 0) throw invalidText("topic");
  if (octets > 255) throw tooLong("topic", "string", octets);
  buffer[at - 1] = octets;
  at += octets;

  const payloadOctets = payload.length;
  buffer[at] = payloadOctets >>> 24;
  buffer[at + 1] = payloadOctets >>> 16;
  buffer[at + 2] = payloadOctets >>> 8;
  buffer[at + 3] = payloadOctets;
  at += 4;
  buffer.set(payload, at);
  at += payloadOctets;

  const count = headers.size;
  buffer[at] = count >>> 24;
  buffer[at + 1] = count >>> 16;
  buffer[at + 2] = count >>> 8;
  buffer[at + 3] = count;
  at += 4;
  for (const [key, value] of headers as Map<string, string>) {
    octets = writeText(buffer, at + 1, key);
    if (octets < 0) throw invalidText("headers");
    if (octets > 255) throw tooLong("headers", "hash key", octets);
    buffer[at] = octets;
    at += 1 + octets;
    octets = writeText(buffer, at + 4, value);
    if (octets < 0) throw invalidText("headers");
    buffer[at] = octets >>> 24;
    buffer[at + 1] = octets >>> 16;
    buffer[at + 2] = octets >>> 8;
    buffer[at + 3] = octets;
    at += 4 + octets;
  }
  poolOffset = at;
  return [buffer.subarray(start, at)];
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

function malformed(kind: MalformedKind, field: string | null, at: number, detail: string, frame = 0): MalformedError {
  return new MalformedError({ kind, model: MODEL, messageName: MESSAGE, id: SAMPLE_ID, field, frame, offset: at, detail });
}

/** The precise error for a frame too short for the fixed-size prefix (signature, id already checked). */
function truncatedPrefix(limit: number): MalformedError {
  const field = limit < 7 ? "sequence" : limit < 15 ? "timestamp" : limit < 16 ? "flags" : "sender";
  return malformed("Truncated", field, limit, `frame ends at offset ${limit} inside ${field}`);
}

const fromCharCode = String.fromCharCode;

/**
 * A string of `length` (at most 16) ASCII octets at `at`. `String.fromCharCode` with the octets as
 * arguments runs inside V8 without a call into Node's C++ (`latin1Slice`), about three times faster for
 * strings this short; one case per length because a spread or `apply` would cost more than it saves.
 */
function shortAscii(b: Buffer, at: number, length: number): string {
  switch (length) {
    case 0: return "";
    case 1: return fromCharCode(b[at]);
    case 2: return fromCharCode(b[at], b[at + 1]);
    case 3: return fromCharCode(b[at], b[at + 1], b[at + 2]);
    case 4: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
    case 5: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4]);
    case 6: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]);
    case 7: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6]);
    case 8: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7]);
    case 9: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8]);
    case 10: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9]);
    case 11: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9],
      b[at + 10]);
    case 12: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9],
      b[at + 10], b[at + 11]);
    case 13: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9],
      b[at + 10], b[at + 11], b[at + 12]);
    case 14: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9],
      b[at + 10], b[at + 11], b[at + 12], b[at + 13]);
    case 15: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9],
      b[at + 10], b[at + 11], b[at + 12], b[at + 13], b[at + 14]);
    case 16: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9],
      b[at + 10], b[at + 11], b[at + 12], b[at + 13], b[at + 14], b[at + 15]);
    default: return b.latin1Slice(at, at + length);
  }
}

/**
 * Decodes octets `start..end` as text, or returns null if they are not valid UTF-8 or contain NUL. ASCII
 * is checked in JavaScript (one comparison per octet); anything else goes to Node's native validator.
 */
function readText(buffer: Buffer, start: number, end: number): string | null {
  // Branch-free scan: (octet - 1) | octet has bit 7 (or, for NUL, every bit) set unless octet is 1..127.
  let bad = 0;
  for (let i = start; i < end; i++) {
    const octet = buffer[i];
    bad |= (octet - 1) | octet;
  }
  if (bad >>> 0 <= 0x7f) return shortAscii(buffer, start, end - start);
  for (let i = start; i < end; i++) {
    const octet = buffer[i];
    if ((octet - 1) >>> 0 > 0x7e) {
      if (octet === 0) return null;
      const view = buffer.subarray(start, end);
      if (view.indexOf(0, i - start) !== -1 || !isUtf8(view)) return null;
      return buffer.utf8Slice(start, end);
    }
  }
  return null; // unreachable: the scan above found an octet outside 1..127
}

function text(buffer: Buffer, start: number, end: number, field: string): string {
  const value = readText(buffer, start, end);
  if (value === null) throw malformed("InvalidText", field, start, `text at offset ${start} is not valid UTF-8 without NUL`);
  return value;
}

function u32(buffer: Buffer, at: number): number {
  return buffer[at] * 0x100_0000 + ((buffer[at + 1] << 16) | (buffer[at + 2] << 8) | buffer[at + 3]);
}

/**
 * Decodes one SAMPLE from its frames; the same result as the generated `decode`. Throws
 * {@link MalformedError} unless the frames are exactly one valid SAMPLE.
 */
export function decodeSample(frames: readonly Uint8Array[]): Sample {
  if (frames.length === 0) throw malformed("Truncated", "signature", 0, "no frames");
  const frame = frames[0];
  const buffer = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const limit = buffer.length;
  if (limit < 2) throw malformed("Truncated", "signature", 0, `frame of ${limit} octets has no signature`);
  if (buffer[0] !== SIGNATURE_0 || buffer[1] !== SIGNATURE_1) throw malformed("BadSignature", "signature", 0, "bad signature");
  if (limit < 3) throw malformed("Truncated", "id", 2, "frame ends before the message id");
  if (buffer[2] !== SAMPLE_ID) throw malformed("UnknownId", "id", 2, `unknown message id ${buffer[2]}`);
  // One check covers sequence, timestamp, flags and the sender length octet.
  if (limit <= SENDER_AT) throw truncatedPrefix(limit);

  const sequence = u32(buffer, 3);
  for (let i = 0, to = U64_MSB; i < 8; i++, to += U64_STEP) U64_OCTETS[to] = buffer[7 + i];
  const timestamp = U64[0];
  const flags = buffer[15];

  const senderLength = buffer[SENDER_AT];
  let at = SENDER_AT + 1;
  if (limit - at < senderLength) throw malformed("Overrun", "sender", at, `string length ${senderLength} overruns frame`);
  const sender = text(buffer, at, at + senderLength, "sender");
  at += senderLength;

  if (at >= limit) throw malformed("Truncated", "topic", at, "frame ends before the topic length");
  const topicLength = buffer[at++];
  if (limit - at < topicLength) throw malformed("Overrun", "topic", at, `string length ${topicLength} overruns frame`);
  const topic = text(buffer, at, at + topicLength, "topic");
  at += topicLength;

  if (limit - at < 4) throw malformed("Truncated", "payload", at, "frame ends inside the payload length");
  const payloadLength = u32(buffer, at);
  at += 4;
  if (limit - at < payloadLength) throw malformed("Overrun", "payload", at, `chunk length ${payloadLength} overruns frame`);
  const payload = buffer.subarray(at, at + payloadLength);
  at += payloadLength;

  if (limit - at < 4) throw malformed("Truncated", "headers", at, "frame ends inside the hash count");
  const count = u32(buffer, at);
  at += 4;
  // Every entry takes at least 5 octets: refuse counts the frame cannot hold before building anything.
  if (count * 5 > limit - at) throw malformed("Overrun", "headers", at, `hash count ${count} overruns frame`);
  const headers = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const entryAt = at;
    if (at >= limit) throw malformed("Truncated", "headers", at, "frame ends before a hash key length");
    const keyLength = buffer[at++];
    if (limit - at < keyLength) throw malformed("Overrun", "headers", at, `string length ${keyLength} overruns frame`);
    const key = text(buffer, at, at + keyLength, "headers");
    at += keyLength;
    if (limit - at < 4) throw malformed("Truncated", "headers", at, "frame ends inside a hash value length");
    const valueLength = u32(buffer, at);
    at += 4;
    if (limit - at < valueLength) throw malformed("Overrun", "headers", at, `longstr length ${valueLength} overruns frame`);
    const value = text(buffer, at, at + valueLength, "headers");
    at += valueLength;
    headers.set(key, value);
    // A key seen before leaves the size unchanged: one hash lookup instead of has() then set().
    if (headers.size === i) throw malformed("DuplicateKey", "headers", entryAt, `hash key ${JSON.stringify(key)} occurs twice`);
  }
  if (at !== limit) throw malformed("TrailingBytes", null, at, `${limit - at} trailing octets`);
  if (frames.length > 1) throw malformed("UnexpectedFrame", null, 0, `${frames.length - 1} unexpected frames`, 1);
  return { message: "SAMPLE", sequence, timestamp, flags, sender, topic, payload, headers };
}
