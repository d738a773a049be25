/**
 * UTF-8 text on the wire. Zproto peers are C programs that cut strings at the first NUL, so text may not
 * contain U+0000; it must also be well-formed (no lone surrogates when encoding, valid UTF-8 when decoding).
 * Short strings dominate protocol traffic, so both directions have a JavaScript fast path for them and fall
 * back to Node's native routines for long ones.
 */
import { Buffer, isUtf8 } from "node:buffer";

/**
 * Below this many UTF-16 units a JavaScript loop beats a call into native code. Text this short takes at
 * most 192 octets, so it can never break a 255-octet limit: only its content needs checking.
 */
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

/**
 * Writes `text` as UTF-8 at `at` and returns the octets written, or -1 when it cannot travel (NUL or a lone
 * surrogate; what was written is then garbage the caller must not hand out). The caller guarantees room for
 * 3 octets per UTF-16 unit, the most UTF-8 needs. Text of up to {@link SHORT_TEXT} units is checked here, as
 * it is copied, so it is scanned once; longer text is handed to Node's native writer unchecked and must
 * have been checked by {@link utf8Length} (the `*Bound` checks of `writer.ts` do that).
 */
export function writeText(buffer: Buffer, at: number, text: string): number {
  const units = text.length;
  if (units > SHORT_TEXT) return buffer.utf8Write(text, at);
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    // One unsigned comparison rejects both NUL (0 - 1 wraps) and non-ASCII (>= 0x80).
    if ((c - 1) >>> 0 > 0x7e) return writeShortUtf8(buffer, at, text, i);
    buffer[at + i] = c;
  }
  return units;
}

/**
 * {@link writeText} from unit `from` on, once a unit other than ASCII 1..127 turned up: a UTF-8 encoder
 * that checks as it goes. For short text this beats measuring and then calling into native code.
 */
function writeShortUtf8(buffer: Buffer, at: number, text: string, from: number): number {
  const units = text.length;
  let to = at + from;
  for (let i = from; i < units; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return -1;
      buffer[to++] = c;
    } else if (c < 0x800) {
      buffer[to++] = 0xc0 | (c >> 6);
      buffer[to++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // Only a high surrogate followed by a low one is a code point: 2 units, 4 octets.
      const low = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) return -1;
      const point = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      buffer[to++] = 0xf0 | (point >> 18);
      buffer[to++] = 0x80 | ((point >> 12) & 0x3f);
      buffer[to++] = 0x80 | ((point >> 6) & 0x3f);
      buffer[to++] = 0x80 | (point & 0x3f);
      i++;
    } else {
      buffer[to++] = 0xe0 | (c >> 12);
      buffer[to++] = 0x80 | ((c >> 6) & 0x3f);
      buffer[to++] = 0x80 | (c & 0x3f);
    }
  }
  return to - at;
}

/**
 * The most octets `text` can take before it was checked: 3 per UTF-16 unit for text of up to
 * {@link SHORT_TEXT} units, which {@link writeText} checks as it copies it, or -1 for longer text, which has
 * to be checked and measured first ({@link utf8Length}).
 */
export function shortTextBound(text: string): number {
  return text.length <= SHORT_TEXT ? 3 * text.length : -1;
}

/** At most this many octets are turned into a string by {@link shortAscii}. */
const SHORT_ASCII = 16;

const fromCharCode = String.fromCharCode;

/** 0..0x7f for an ASCII octet other than NUL; for any other octet, bits above 0x7f are set (all of them for NUL). */
function outside(octet: number): number {
  return (octet - 1) | octet;
}

/**
 * The string of the `length` (at most {@link SHORT_ASCII}) octets at `at` if they are ASCII without NUL,
 * else null. Each octet is loaded once, both checked and passed to `String.fromCharCode`, which stays
 * inside V8 and is about three times faster than `latin1Slice` (a call into Node's C++) for strings this
 * short. One case per length, because a spread or `apply` would cost more than it saves.
 */
function shortAscii(b: Buffer, at: number, length: number): string | null {
  switch (length) {
    case 0:
      return "";
    case 1: {
      const c0 = b[at];
      if (outside(c0) & ~0x7f) return null;
      return fromCharCode(c0);
    }
    case 2: {
      const c0 = b[at], c1 = b[at + 1];
      if ((outside(c0) | outside(c1)) & ~0x7f) return null;
      return fromCharCode(c0, c1);
    }
    case 3: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2];
      if ((outside(c0) | outside(c1) | outside(c2)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2);
    }
    case 4: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3);
    }
    case 5: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4);
    }
    case 6: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5);
    }
    case 7: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) |
        outside(c6)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6);
    }
    case 8: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7);
    }
    case 9: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8);
    }
    case 10: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8], c9 = b[at + 9];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8) | outside(c9)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9);
    }
    case 11: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8], c9 = b[at + 9], c10 = b[at + 10];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8) | outside(c9) | outside(c10)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10);
    }
    case 12: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8], c9 = b[at + 9], c10 = b[at + 10], c11 = b[at + 11];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8) | outside(c9) | outside(c10) | outside(c11)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11);
    }
    case 13: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8], c9 = b[at + 9], c10 = b[at + 10], c11 = b[at + 11],
        c12 = b[at + 12];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8) | outside(c9) | outside(c10) | outside(c11) | outside(c12)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12);
    }
    case 14: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8], c9 = b[at + 9], c10 = b[at + 10], c11 = b[at + 11],
        c12 = b[at + 12], c13 = b[at + 13];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8) | outside(c9) | outside(c10) | outside(c11) | outside(c12) |
        outside(c13)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13);
    }
    case 15: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8], c9 = b[at + 9], c10 = b[at + 10], c11 = b[at + 11],
        c12 = b[at + 12], c13 = b[at + 13], c14 = b[at + 14];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8) | outside(c9) | outside(c10) | outside(c11) | outside(c12) | outside(c13) |
        outside(c14)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14);
    }
    case 16: {
      const c0 = b[at], c1 = b[at + 1], c2 = b[at + 2], c3 = b[at + 3], c4 = b[at + 4], c5 = b[at + 5],
        c6 = b[at + 6], c7 = b[at + 7], c8 = b[at + 8], c9 = b[at + 9], c10 = b[at + 10], c11 = b[at + 11],
        c12 = b[at + 12], c13 = b[at + 13], c14 = b[at + 14], c15 = b[at + 15];
      if ((outside(c0) | outside(c1) | outside(c2) | outside(c3) | outside(c4) | outside(c5) | outside(c6) |
        outside(c7) | outside(c8) | outside(c9) | outside(c10) | outside(c11) | outside(c12) | outside(c13) |
        outside(c14) | outside(c15)) & ~0x7f) return null;
      return fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
    }
    default:
      return null;
  }
}

/**
 * Decodes octets `start..end` of `buffer` as text, or returns null when they are not valid UTF-8 or contain
 * NUL.
 */
export function readUtf8(buffer: Buffer, start: number, end: number): string | null {
  const length = end - start;
  if (length <= SHORT_ASCII) {
    const text = shortAscii(buffer, start, length);
    if (text !== null) return text;
  }
  return readOtherUtf8(buffer, start, end);
}

/** Slots of {@link KEYS}: a power of two. */
const KEY_SLOTS = 256;
/** Hash keys decoded lately (ASCII without NUL, at most {@link SHORT_ASCII} octets), by a hash of their octets. */
const KEYS: string[] = new Array<string>(KEY_SLOTS).fill("");

/**
 * {@link readUtf8} for hash keys. A protocol's keys are a few names that recur from message to message, so
 * the string decoded for the same octets before is returned again when it is still cached: comparing its
 * characters with the octets costs less than building a new string, and a string that was a Map key before
 * has its hash computed already. A cached string is ASCII without NUL, so matching it checks the octets.
 */
export function readKeyUtf8(buffer: Buffer, start: number, end: number): string | null {
  const length = end - start;
  if (length === 0 || length > SHORT_ASCII) return readUtf8(buffer, start, end);
  const slot = (length * 61 + buffer[start] * 31 + buffer[end - 1]) & (KEY_SLOTS - 1);
  const known = KEYS[slot];
  if (known.length === length) {
    let i = 0;
    while (i < length && known.charCodeAt(i) === buffer[start + i]) i++;
    if (i === length) return known;
  }
  const text = shortAscii(buffer, start, length);
  if (text === null) return readOtherUtf8(buffer, start, end);
  KEYS[slot] = text;
  return text;
}

/** {@link readUtf8} for anything but short ASCII. */
function readOtherUtf8(buffer: Buffer, start: number, end: number): string | null {
  if (end - start <= SHORT_BYTES) {
    // Branch-free scan: outside() of every octet ORed together stays within 0..0x7f only for ASCII.
    let outsideAscii = 0;
    for (let i = start; i < end; i++) outsideAscii |= outside(buffer[i]);
    if (outsideAscii >= 0 && outsideAscii <= 0x7f) return buffer.latin1Slice(start, end);
    // Only NUL sets the sign bit; any other octet outside ASCII gives at most 0xff.
    if (outsideAscii < 0) return null;
    return isUtf8(buffer.subarray(start, end)) ? buffer.utf8Slice(start, end) : null;
  }
  const view = buffer.subarray(start, end);
  if (view.indexOf(0) !== -1 || !isUtf8(view)) return null;
  return buffer.utf8Slice(start, end);
}

declare global {
  interface Buffer {
    // Node's own Buffer#toString and Buffer#write dispatch to these; calling them directly skips argument
    // normalisation, which is most of the cost for the short strings protocols carry.
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
    utf8Write(text: string, offset: number): number;
  }
}
