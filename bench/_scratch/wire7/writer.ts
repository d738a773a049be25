/**
 * Encoding primitives. An encoder first sizes the body frame (which also validates every value that has a
 * length or text), then allocates it once and writes each field in model order. One set of primitives
 * serves both the generated codecs and the schema interpreter, so the two cannot drift apart.
 */
import { EncodeError } from "./errors.js";
import { checkedUtf8, utf8Length, writeUtf8 } from "./text.js";

const MAX_U32 = 0xffffffff;
const MAX_U64 = 0xffffffffffffffffn;
const U64 = new BigUint64Array(1);
const U8 = new Uint8Array(U64.buffer);

/** Something a text or binary field accepts as bytes. */
export type Bytes = Uint8Array;

/** Who is being encoded: used only to word errors. */
export interface EncodeSite {
  readonly model: string;
  readonly message: string;
}

function fail(site: EncodeSite, kind: EncodeError["kind"], field: string, detail: string): never {
  throw new EncodeError(kind, site.model, site.message, field, detail);
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (value instanceof Uint8Array) return `${value.length} octets`;
  return String(value);
}

/** Octets of a text value, checking that it is text without NUL or lone surrogates. */
export function textSize(site: EncodeSite, field: string, value: unknown): number {
  if (typeof value !== "string") fail(site, "BadType", field, `expected a string, got ${describe(value)}`);
  const octets = utf8Length(value);
  if (octets < 0) fail(site, "InvalidText", field, "text contains NUL or a lone surrogate");
  return octets;
}

/** Size of a `string` field (1-octet length): at most 255 octets, never cut. */
export function stringSize(site: EncodeSite, field: string, value: unknown): number {
  const octets = textSize(site, field, value);
  if (octets > 255) fail(site, "TooLong", field, `string is ${octets} octets; at most 255 fit`);
  return 1 + octets;
}

/** Size of a pubsub topic with its terminating NUL; the topic must be set. */
export function topicSize(site: EncodeSite, value: unknown): number {
  if (value === undefined || value === null) fail(site, "MissingTopic", "topic", "a pubsub message needs a topic");
  return textSize(site, "topic", value) + 1;
}

/** Size of a `longstr` field (4-octet length). */
export function longstrSize(site: EncodeSite, field: string, value: unknown): number {
  const octets = textSize(site, field, value);
  if (octets > MAX_U32) fail(site, "TooLong", field, `longstr is ${octets} octets; at most 2^32-1 fit`);
  return 4 + octets;
}

function asList(site: EncodeSite, field: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) fail(site, "BadType", field, `expected an array of strings, got ${describe(value)}`);
  return value;
}

function asMap(site: EncodeSite, field: string, value: unknown): ReadonlyMap<unknown, unknown> {
  if (!(value instanceof Map)) fail(site, "BadType", field, `expected a Map of strings, got ${describe(value)}`);
  return value;
}

/** Size of a `strings` field: 4-octet count, then longstr items. */
export function stringsSize(site: EncodeSite, field: string, value: unknown): number {
  const items = asList(site, field, value);
  if (items.length > MAX_U32) fail(site, "TooMany", field, `${items.length} items; at most 2^32-1 fit`);
  let size = 4;
  for (const item of items) size += longstrSize(site, field, item);
  return size;
}

/** Size of a `hash` field: 4-octet count, then string keys and longstr values. */
export function hashSize(site: EncodeSite, field: string, value: unknown): number {
  const map = asMap(site, field, value);
  if (map.size > MAX_U32) fail(site, "TooMany", field, `${map.size} entries; at most 2^32-1 fit`);
  let size = 4;
  for (const [key, entry] of map) {
    const keyOctets = textSize(site, field, key);
    if (keyOctets > 255) fail(site, "TooLong", field, `hash key is ${keyOctets} octets; at most 255 fit`);
    size += 1 + keyOctets + longstrSize(site, field, entry);
  }
  return size;
}

/** Size of a `shortstrings` field (Guide-era): 1-octet count, then 1-octet-length items. */
export function shortstringsSize(site: EncodeSite, field: string, value: unknown): number {
  const items = asList(site, field, value);
  if (items.length > 255) fail(site, "TooMany", field, `${items.length} items; at most 255 fit`);
  let size = 1;
  for (const item of items) size += stringSize(site, field, item);
  return size;
}

/** Size of a `dictionary` field (Guide-era): 1-octet count, then `name=value` strings. */
export function dictionarySize(site: EncodeSite, field: string, value: unknown): number {
  const map = asMap(site, field, value);
  if (map.size > 255) fail(site, "TooMany", field, `${map.size} entries; at most 255 fit`);
  let size = 1;
  for (const [key, entry] of map) {
    const keyOctets = textSize(site, field, key);
    if (keyOctets === 0 || (key as string).includes("=")) {
      fail(site, "InvalidEntry", field, `dictionary key ${describe(key)} must be non-empty and without '='`);
    }
    const octets = keyOctets + 1 + textSize(site, field, entry);
    if (octets > 255) fail(site, "TooLong", field, `dictionary entry is ${octets} octets; at most 255 fit`);
    size += 1 + octets;
  }
  return size;
}

/** Size of a `chunk` field: 4-octet length, then the bytes. */
export function chunkSize(site: EncodeSite, field: string, value: unknown): number {
  if (!(value instanceof Uint8Array)) fail(site, "BadType", field, `expected bytes, got ${describe(value)}`);
  if (value.length > MAX_U32) fail(site, "TooLong", field, `chunk is ${value.length} octets; at most 2^32-1 fit`);
  return 4 + value.length;
}

/** Checks a fixed-width byte field (`octets` N, `uuid`) and returns its width. */
export function fixedBytesSize(site: EncodeSite, field: string, value: unknown, width: number): number {
  if (!(value instanceof Uint8Array)) fail(site, "BadType", field, `expected ${width} octets, got ${describe(value)}`);
  if (value.length !== width) fail(site, "BadLength", field, `expected exactly ${width} octets, got ${value.length}`);
  return width;
}

const EMPTY_FRAME = Buffer.alloc(0);
let pool = Buffer.allocUnsafeSlow(16384);
let poolOffset = 0;
let poolFree = pool.length;

/** Checks a fixed-width byte field that may be unset (it then travels as zeros). */
export function fixedBytes(site: EncodeSite, field: string, value: unknown, width: number): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  fixedBytesSize(site, field, value, width);
  return value as Uint8Array;
}

/** Checks a `frame` field value; unset travels as an empty frame. */
export function frameValue(site: EncodeSite, field: string, value: unknown): Buffer {
  if (value === undefined || value === null) return EMPTY_FRAME;
  if (!(value instanceof Uint8Array)) fail(site, "BadType", field, `expected bytes, got ${describe(value)}`);
  return toBuffer(value);
}

/**
 * Checks a `msg` field value (a list of frames, at least `min`). Unset travels as one empty frame, as the
 * C codec sends it; an empty list travels as no frames.
 */
export function msgValue(site: EncodeSite, field: string, value: unknown, min: number): Buffer[] {
  if (value === undefined || value === null) return [EMPTY_FRAME];
  if (!Array.isArray(value)) fail(site, "BadType", field, `expected an array of frames, got ${describe(value)}`);
  if (value.length < min) fail(site, "TooFew", field, `${value.length} frames; at least ${min} required`);
  const frames: Buffer[] = new Array<Buffer>(value.length);
  for (let i = 0; i < value.length; i++) frames[i] = frameValue(site, field, value[i]);
  return frames;
}

/** The error for a message the codec does not know (reached only from untyped callers). */
export function unknownMessage(model: string, message: unknown): EncodeError {
  const name = typeof message === "object" && message !== null ? (message as { message?: unknown }).message : message;
  return new EncodeError("UnknownMessage", model, null, null, `unknown message ${JSON.stringify(name)}`);
}

/** Views a Uint8Array as a Buffer without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Writes one body frame of a size known in advance. Number writers check their range as they go: a failed
 * check throws before the frame leaves the encoder, so nothing partial is ever produced.
 */
export class Writer {
  readonly buffer: Buffer;
  position = 0;

  constructor(
    readonly site: EncodeSite,
    size: number,
  ) {
    if (poolFree < size) {
      pool = Buffer.allocUnsafeSlow(Math.max(16384, size));
      poolFree = pool.length;
      poolOffset = 0;
    }
    this.buffer = pool.subarray(poolOffset, poolOffset + size);
    poolOffset += size;
    poolFree -= size;
  }

  /** Signature (two octets) and message id. */
  header(signature0: number, signature1: number, id: number): void {
    const buffer = this.buffer;
    buffer[0] = signature0;
    buffer[1] = signature1;
    buffer[2] = id;
    this.position = 3;
  }

  /** Pubsub header: id, topic and the NUL that ends it (`spec/wire.md` §7). */
  topicHeader(id: number, topic: string): void {
    this.buffer[0] = id;
    const octets = writeUtf8(this.buffer, topic, 1);
    this.buffer[1 + octets] = 0;
    this.position = 2 + octets;
  }

  number1(value: unknown, field: string): void {
    if (typeof value !== "number" || (value & 0xff) !== value) this.outOfRange(value, field, "0..255");
    this.buffer[this.position++] = value;
  }

  number2(value: unknown, field: string): void {
    if (typeof value !== "number" || (value & 0xffff) !== value) this.outOfRange(value, field, "0..65535");
    const buffer = this.buffer;
    const at = this.position;
    buffer[at] = value >>> 8;
    buffer[at + 1] = value;
    this.position = at + 2;
  }

  number4(value: unknown, field: string): void {
    if (typeof value !== "number" || value >>> 0 !== value) this.outOfRange(value, field, "0..4294967295");
    const buffer = this.buffer;
    const at = this.position;
    buffer[at] = value >>> 24;
    buffer[at + 1] = value >>> 16;
    buffer[at + 2] = value >>> 8;
    buffer[at + 3] = value;
    this.position = at + 4;
  }

  number8(value: unknown, field: string): void {
    let high: number;
    let low: number;
    if (typeof value === "bigint") {
      if (value < 0n || value > MAX_U64) this.outOfRange(value, field, "0..2^64-1");
      U64[0] = value;
      const b = this.buffer;
      const at = this.position;
      b[at] = U8[7]; b[at + 1] = U8[6]; b[at + 2] = U8[5]; b[at + 3] = U8[4];
      b[at + 4] = U8[3]; b[at + 5] = U8[2]; b[at + 6] = U8[1]; b[at + 7] = U8[0];
      this.position = at + 8;
      return;
    } else if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
      high = Math.floor(value / 0x100000000);
      low = value >>> 0;
    } else {
      throw new EncodeError("BadType", this.site.model, this.site.message, field,
        `expected a bigint (or a safe non-negative integer), got ${describe(value)}`);
    }
    this.number4(high, field);
    this.number4(low, field);
  }

  /** A `string` whose size was checked by {@link stringSize}. */
  string(value: string): void {
    const at = this.position;
    const octets = writeUtf8(this.buffer, value, at + 1);
    this.buffer[at] = octets;
    this.position = at + 1 + octets;
  }

  /** Validates and writes a `string` in one pass (room for 3 octets per unit is guaranteed by the bound). */
  checkedString(value: unknown, field: string): void {
    if (typeof value !== "string") fail(this.site, "BadType", field, `expected a string, got ${describe(value)}`);
    const at = this.position;
    const octets = checkedUtf8(this.buffer, value, at + 1);
    if (octets < 0) fail(this.site, "InvalidText", field, "text contains NUL or a lone surrogate");
    if (octets > 255) fail(this.site, "TooLong", field, `string is ${octets} octets; at most 255 fit`);
    this.buffer[at] = octets;
    this.position = at + 1 + octets;
  }

  checkedLongstr(value: unknown, field: string): void {
    if (typeof value !== "string") fail(this.site, "BadType", field, `expected a string, got ${describe(value)}`);
    const at = this.position;
    const buffer = this.buffer;
    const octets = checkedUtf8(buffer, value, at + 4);
    if (octets < 0) fail(this.site, "InvalidText", field, "text contains NUL or a lone surrogate");
    buffer[at] = octets >>> 24; buffer[at + 1] = octets >>> 16; buffer[at + 2] = octets >>> 8; buffer[at + 3] = octets;
    this.position = at + 4 + octets;
  }

  checkedHash(value: ReadonlyMap<unknown, unknown>, field: string): void {
    const n = value.size; const buffer = this.buffer; const at = this.position;
    buffer[at] = n >>> 24; buffer[at + 1] = n >>> 16; buffer[at + 2] = n >>> 8; buffer[at + 3] = n;
    this.position = at + 4;
    for (const [key, entry] of value) {
      this.checkedString(key, field);
      this.checkedLongstr(entry, field);
    }
  }

  /** The written part of the frame. */
  finishBound(): Buffer {
    const frame = this.buffer.subarray(0, this.position);
    poolOffset -= this.buffer.length - this.position;
    poolFree += this.buffer.length - this.position;
    return frame;
  }

  /** A `longstr` whose size was checked by {@link longstrSize}. */
  longstr(value: string): void {
    const at = this.position;
    const buffer = this.buffer;
    const octets = writeUtf8(buffer, value, at + 4);
    buffer[at] = octets >>> 24; buffer[at + 1] = octets >>> 16; buffer[at + 2] = octets >>> 8; buffer[at + 3] = octets;
    this.position = at + 4 + octets;
  }

  strings(value: readonly string[]): void {
    this.buffer.writeUInt32BE(value.length, this.position);
    this.position += 4;
    for (const item of value) this.longstr(item);
  }

  hash(value: ReadonlyMap<string, string>): void {
    const n = value.size; const buffer = this.buffer; const at = this.position;
    buffer[at] = n >>> 24; buffer[at + 1] = n >>> 16; buffer[at + 2] = n >>> 8; buffer[at + 3] = n;
    this.position = at + 4;
    for (const [key, entry] of value) {
      this.string(key);
      this.longstr(entry);
    }
  }

  shortstrings(value: readonly string[]): void {
    this.buffer[this.position++] = value.length;
    for (const item of value) this.string(item);
  }

  dictionary(value: ReadonlyMap<string, string>): void {
    this.buffer[this.position++] = value.size;
    for (const [key, entry] of value) this.string(`${key}=${entry}`);
  }

  chunk(value: Uint8Array): void {
    const at = this.position;
    const n = value.length; const buffer = this.buffer;
    buffer[at] = n >>> 24; buffer[at + 1] = n >>> 16; buffer[at + 2] = n >>> 8; buffer[at + 3] = n;
    buffer.set(value, at + 4);
    this.position = at + 4 + value.length;
  }

  /** Raw octets of known width (`octets`, `uuid`), or zeros when unset. */
  octets(value: Uint8Array | undefined, width: number): void {
    if (value === undefined) this.buffer.fill(0, this.position, this.position + width);
    else this.buffer.set(value, this.position);
    this.position += width;
  }

  /** The frame, checked to be exactly as long as it was sized. */
  finish(): Buffer {
    if (this.position !== this.buffer.length) {
      throw new Error(`${this.site.model}: ${this.site.message}: encoder wrote ${this.position} of ${this.buffer.length} octets`);
    }
    return this.buffer;
  }

  private outOfRange(value: unknown, field: string, range: string): never {
    const kind = (typeof value === "number" && Number.isInteger(value)) || (typeof value === "bigint" && range.endsWith("2^64-1")) ? "OutOfRange" : "BadType";
    throw new EncodeError(kind, this.site.model, this.site.message, field,
      kind === "OutOfRange" ? `${describe(value)} is outside ${range}` : `expected an integer in ${range}, got ${describe(value)}`);
  }
}

/** Size bound of a `string` field: checks the type only, text is checked while it is written. */
export function stringBound(site: EncodeSite, field: string, value: unknown): number {
  if (typeof value !== "string") fail(site, "BadType", field, `expected a string, got ${describe(value)}`);
  return 1 + 3 * value.length;
}

/** Size bound of a `hash` field. */
export function hashBound(site: EncodeSite, field: string, value: unknown): number {
  const map = asMap(site, field, value);
  let size = 4;
  for (const [key, entry] of map) {
    if (typeof key !== "string") fail(site, "BadType", field, `expected a string, got ${describe(key)}`);
    if (typeof entry !== "string") fail(site, "BadType", field, `expected a string, got ${describe(entry)}`);
    size += 5 + 3 * (key.length + entry.length);
  }
  return size;
}
