/**
 * UTF-8 text on the wire. Zproto peers are C programs that cut strings at the first NUL, so text may not
 * contain U+0000; it must also be well-formed (no lone surrogates when encoding, valid UTF-8 when decoding).
 * Short strings dominate protocol traffic, so both directions have a JavaScript fast path for them and fall
 * back to Node's native routines for long ones.
 */
import { isUtf8 } from "node:buffer";

/** Below this many UTF-16 units a JavaScript loop beats a call into native code. */
const SHORT_TEXT = 64;
/** Below this many octets decoding walks the bytes in JavaScript. */
const SHORT_BYTES = 128;

/**
 * Number of UTF-8 octets `text` encodes to, or -1 when it cannot travel: it contains NUL or a lone
 * surrogate.
 */
export function utf8Length(text: string): number {
  const units = text.length;
  if (units > SHORT_TEXT) {
    if (!text.isWellFormed() || text.includes("\0")) return -1;
    return Buffer.byteLength(text, "utf8");
  }
  let octets = units;
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return -1;
    } else if (c < 0x800) {
      octets += 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate followed by a low one is one code point: 2 units, 4 octets.
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

/** Writes `text` (already checked by {@link utf8Length}) at `offset`; returns the octets written. */
export function writeUtf8(buffer: Buffer, text: string, offset: number): number {
  const units = text.length;
  if (units <= SHORT_TEXT) {
    for (let i = 0; i < units; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) return buffer.write(text, offset, "utf8");
      buffer[offset + i] = c;
    }
    return units;
  }
  return buffer.write(text, offset, "utf8");
}

/** Writes `text` at `offset` if it can travel and returns its octets, else -1; room for 3 octets per unit needed. */
export function checkedUtf8(buffer: Buffer, text: string, offset: number): number {
  const units = text.length;
  if (units <= SHORT_TEXT) {
    for (let i = 0; i < units; i++) {
      const c = text.charCodeAt(i);
      if ((c - 1) >>> 0 > 0x7e) return checkedUtf8Slow(buffer, text, offset);
      buffer[offset + i] = c;
    }
    return units;
  }
  return checkedUtf8Slow(buffer, text, offset);
}

function checkedUtf8Slow(buffer: Buffer, text: string, offset: number): number {
  const octets = utf8Length(text);
  if (octets < 0) return -1;
  return buffer.write(text, offset, octets, "utf8");
}

/**
 * Decodes octets `start..end` of `buffer` as text, or returns null when they are not valid UTF-8 or contain
 * NUL.
 */
export function readUtf8(buffer: Buffer, start: number, end: number): string | null {
  if (end - start <= SHORT_BYTES) {
    let bad = 0;
    for (let i = start; i < end; i++) {
      const octet = buffer[i];
      bad |= (octet - 1) | octet;
    }
    if (bad >>> 0 <= 0x7f) return end - start <= 16 ? shortAscii(buffer, start, end - start) : buffer.latin1Slice(start, end);
    for (let i = start; i < end; i++) if (buffer[i] === 0) return null;
    return isUtf8(buffer.subarray(start, end)) ? buffer.utf8Slice(start, end) : null;
  }
  const view = buffer.subarray(start, end);
  if (view.indexOf(0) !== -1 || !isUtf8(view)) return null;
  return buffer.utf8Slice(start, end);
}

const fromCharCode = String.fromCharCode;
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
    case 11: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10]);
    case 12: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11]);
    case 13: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12]);
    case 14: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12], b[at + 13]);
    case 15: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12], b[at + 13], b[at + 14]);
    default: return fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12], b[at + 13], b[at + 14], b[at + 15]);
  }
}

declare global {
  interface Buffer {
    // Node's own Buffer#toString dispatches to these; calling them directly skips argument normalisation,
    // which is most of the cost for the short strings protocols carry.
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
  }
}
