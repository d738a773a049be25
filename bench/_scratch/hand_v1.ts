/**
 * A hand-written codec for `bench_msg` SAMPLE, the yardstick the generated codec is measured against. It
 * produces exactly the generated codec's bytes and enforces the same contract (`spec/wire.md` §9.2, §10):
 * encode checks types, ranges and text before allocating; decode checks signature, id, every length before
 * use, UTF-8 without NUL, duplicate hash keys, trailing octets and the frame count, and throws the runtime's
 * {@link EncodeError} / {@link MalformedError} with the same `kind` the generated codec uses.
 *
 * It is written for speed with no shared machinery: one pass sizes and validates, one allocation, direct
 * index writes; decode reads straight from the frame with one up-front check for the fixed-size prefix.
 *
 * @packageDocumentation
 */
import { isUtf8 } from "node:buffer";
import { EncodeError, MalformedError, type EncodeKind, type MalformedKind } from "../../runtime/wire/errors.js";
import type { Sample } from "../../generated/bench/bench_msg.js";

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
 * UTF-8 octets of `text`, or -1 if it contains NUL or a lone surrogate. The loop handles the common case
 * (short ASCII) with one comparison per unit; anything else goes to {@link utf8OctetsSlow}.
 */
function utf8Octets(text: string): number {
  const units = text.length;
  if (units > SHORT_TEXT) return utf8OctetsLong(text);
  for (let i = 0; i < units; i++) {
    // One unsigned comparison rejects both NUL (0 - 1 wraps) and non-ASCII (>= 0x80).
    if ((text.charCodeAt(i) - 1) >>> 0 > 0x7e) return utf8OctetsSlow(text, i);
  }
  return units;
}

/** Continues {@link utf8Octets} from the first unit that is not ASCII-without-NUL. */
function utf8OctetsSlow(text: string, from: number): number {
  const units = text.length;
  let octets = units;
  for (let i = from; i < units; i++) {
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

function utf8OctetsLong(text: string): number {
  if (!text.isWellFormed() || text.includes("\0")) return -1;
  return Buffer.byteLength(text, "utf8");
}

/** Octets of a text field, throwing for non-strings and text that cannot travel. */
function textOctets(field: string, value: unknown): number {
  if (typeof value !== "string") throw encodeError("BadType", field, `expected a string, got ${String(value)}`);
  const octets = utf8Octets(value);
  if (octets < 0) throw encodeError("InvalidText", field, "text contains NUL or a lone surrogate");
  return octets;
}

/** Octets of a `string` (1-octet length) field's text: at most 255. */
function shortTextOctets(field: string, value: unknown, what: string): number {
  const octets = textOctets(field, value);
  if (octets > 255) throw encodeError("TooLong", field, `${what} is ${octets} octets; at most 255 fit`);
  return octets;
}

/**
 * Writes text whose octet count is known. Equal counts mean pure ASCII (every other code point takes more
 * octets than units), which a plain loop copies faster than a call into native code for short strings.
 */
function writeText(buffer: Buffer, at: number, text: string, octets: number): void {
  if (octets === text.length && octets <= SHORT_TEXT) {
    for (let i = 0; i < octets; i++) buffer[at + i] = text.charCodeAt(i);
  } else {
    buffer.write(text, at, octets, "utf8");
  }
}

/**
 * Sizes and validates the hash, remembering each entry's strings and octet counts so that the write pass
 * does not iterate the Map or measure text again. Module scope is safe: encoding is synchronous and never
 * re-entered.
 */
const hashTexts: string[] = [];
const hashOctets: number[] = [];

function hashSize(value: unknown): number {
  if (!(value instanceof Map)) throw encodeError("BadType", "headers", `expected a Map of strings, got ${String(value)}`);
  const map = value as Map<unknown, unknown>;
  let size = 0;
  let n = 0;
  for (const [key, entry] of map) {
    const keyOctets = shortTextOctets("headers", key, "hash key");
    const valueOctets = textOctets("headers", entry);
    hashTexts[n] = key as string;
    hashOctets[n++] = keyOctets;
    hashTexts[n] = entry as string;
    hashOctets[n++] = valueOctets;
    size += 5 + keyOctets + valueOctets;
  }
  return size;
}

/**
 * Encodes a SAMPLE into its one frame, byte-identical to the generated `encode`. Throws {@link EncodeError}
 * before allocating anything if a value cannot travel.
 */
export function encodeSample(msg: Sample): Buffer[] {
  const { sequence, timestamp, flags, sender, topic, payload, headers } = msg;
  if (sequence >>> 0 !== sequence) throw numberError("sequence", sequence, "0..4294967295");
  let high: number;
  let low: number;
  if (typeof timestamp === "bigint") {
    // numberError gives kind BadType for a bigint, as runtime/wire/writer.ts's outOfRange does.
    if (timestamp < 0n || timestamp > MAX_U64) throw numberError("timestamp", timestamp, "0..2^64-1");
    high = Number(timestamp >> 32n);
    low = Number(timestamp & 0xffff_ffffn);
  } else if (typeof timestamp === "number" && Number.isSafeInteger(timestamp) && timestamp >= 0) {
    // The generated codec also takes a safe non-negative number for a 64-bit field.
    high = Math.floor(timestamp / 0x1_0000_0000);
    low = timestamp >>> 0;
  } else {
    throw encodeError("BadType", "timestamp", `expected a bigint (or a safe non-negative integer), got ${String(timestamp)}`);
  }
  if ((flags & 0xff) !== flags) throw numberError("flags", flags, "0..255");
  const senderOctets = shortTextOctets("sender", sender, "string");
  const topicOctets = shortTextOctets("topic", topic, "string");
  if (!(payload instanceof Uint8Array)) throw encodeError("BadType", "payload", `expected bytes, got ${String(payload)}`);
  const payloadOctets = payload.length;
  const entries = hashSize(headers);

  const buffer = Buffer.allocUnsafe(FIXED_OCTETS + senderOctets + topicOctets + payloadOctets + entries);
  buffer[0] = SIGNATURE_0;
  buffer[1] = SIGNATURE_1;
  buffer[2] = SAMPLE_ID;
  buffer[3] = sequence >>> 24;
  buffer[4] = sequence >>> 16;
  buffer[5] = sequence >>> 8;
  buffer[6] = sequence;
  buffer[7] = high >>> 24;
  buffer[8] = high >>> 16;
  buffer[9] = high >>> 8;
  buffer[10] = high;
  buffer[11] = low >>> 24;
  buffer[12] = low >>> 16;
  buffer[13] = low >>> 8;
  buffer[14] = low;
  buffer[15] = flags;
  buffer[16] = senderOctets;
  writeText(buffer, 17, sender, senderOctets);
  let at = 17 + senderOctets;
  buffer[at++] = topicOctets;
  writeText(buffer, at, topic, topicOctets);
  at += topicOctets;
  buffer[at] = payloadOctets >>> 24;
  buffer[at + 1] = payloadOctets >>> 16;
  buffer[at + 2] = payloadOctets >>> 8;
  buffer[at + 3] = payloadOctets;
  at += 4;
  // Small chunks copy faster in a loop than through TypedArray#set's native call.
  if (payloadOctets <= 64) {
    for (let i = 0; i < payloadOctets; i++) buffer[at + i] = payload[i];
  } else {
    buffer.set(payload, at);
  }
  at += payloadOctets;
  const count = headers.size;
  buffer[at] = count >>> 24;
  buffer[at + 1] = count >>> 16;
  buffer[at + 2] = count >>> 8;
  buffer[at + 3] = count;
  at += 4;
  for (let i = 0, n = count * 2; i < n; i += 2) {
    const keyOctets = hashOctets[i];
    buffer[at++] = keyOctets;
    writeText(buffer, at, hashTexts[i], keyOctets);
    at += keyOctets;
    const valueOctets = hashOctets[i + 1];
    buffer[at] = valueOctets >>> 24;
    buffer[at + 1] = valueOctets >>> 16;
    buffer[at + 2] = valueOctets >>> 8;
    buffer[at + 3] = valueOctets;
    at += 4;
    writeText(buffer, at, hashTexts[i + 1], valueOctets);
    at += valueOctets;
  }
  return [buffer];
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

/**
 * Decodes octets `start..end` as text, or returns null if they are not valid UTF-8 or contain NUL. ASCII
 * is checked in JavaScript (one comparison per octet); anything else goes to Node's native validator.
 */
function readText(buffer: Buffer, start: number, end: number): string | null {
  for (let i = start; i < end; i++) {
    const octet = buffer[i];
    if ((octet - 1) >>> 0 > 0x7e) {
      if (octet === 0) return null;
      const view = buffer.subarray(start, end);
      if (view.indexOf(0, i - start) !== -1 || !isUtf8(view)) return null;
      return buffer.utf8Slice(start, end);
    }
  }
  return buffer.latin1Slice(start, end);
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
  const timestamp = (BigInt(u32(buffer, 7)) << 32n) | BigInt(u32(buffer, 11));
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
