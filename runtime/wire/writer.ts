/**
 * Encoding primitives (`spec/wire.md` §3, §10). An encoder (generated, or the schema interpreter) works in
 * two steps:
 *
 * 1. **Check and bound.** Fixed-width byte fields, frames and numbers (`isNumber*`) are checked; the
 *    `*Bound` functions check what else can be checked without copying (types, counts, long text) and
 *    return the most octets a variable-size field can take.
 * 2. **Write.** {@link reserveFrame} reserves the bound in a shared pool; fixed-size fields are written
 *    through the frame's DataView, the others by `write*` functions, which check short text as they copy it
 *    (so text is scanned once) and return the offset after what they wrote; {@link takeFrame} hands out the
 *    frame. A check that fails throws before {@link takeFrame}, so nothing partial is ever produced.
 *
 * Every function takes the frame and offset as arguments and returns the new offset: no writer object, so
 * nothing escapes when a helper is not inlined, and the offset stays in a register of the caller. The
 * functions an encoder calls for every message are kept small, with errors and rare cases out of line:
 * V8's optimising compiler inlines callees until a budget of bytecode is spent, and an encoder calls many.
 * One set of primitives serves both the generated codecs and the schema interpreter, so the two cannot
 * drift apart.
 */
// Imported rather than global: in Node 20 the global `Buffer` is an accessor, a call on every use.
import { Buffer } from "node:buffer";
import { EncodeError, type EncodeSite } from "./errors.js";
import { shortTextBound, utf8Length, writeText } from "./text.js";
import { setUint64 } from "./u64.js";
import { plural } from "./plural.js";

const MAX_U32 = 0xffffffff;
const MAX_U64 = 0xffffffffffffffffn;

/** Something a text or binary field accepts as bytes. */
export type Bytes = Uint8Array;

function fail(site: EncodeSite, kind: EncodeError["kind"], field: string, detail: string): never {
  // An encoder that fails while writing (text it copies, a hash key) leaves its reservation unused; the
  // next encode may have the slab.
  slabBusy = false;
  throw new EncodeError(kind, site.model, site.message, field, detail);
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (value instanceof Uint8Array) return plural(value.length, "octet");
  return String(value);
}

function invalidText(site: EncodeSite, field: string): never {
  fail(site, "InvalidText", field, "text contains NUL or a lone surrogate");
}

// ---------------------------------------------------------------------------------------------------------
// Sizes and bounds

/** Exact octets of a text value, checking that it is text without NUL or lone surrogates. */
export function textSize(site: EncodeSite, field: string, value: unknown): number {
  if (typeof value !== "string") fail(site, "BadType", field, `expected a string, got ${describe(value)}`);
  const octets = utf8Length(value);
  if (octets < 0) invalidText(site, field);
  return octets;
}

// The bounds of the common cases (a short string, a byte array) are decided in as little code as possible;
// long text, wrong types and limits go to out-of-line functions.

/**
 * The most octets a text value can take, with at most `max` octets allowed (`what` names it in errors).
 * Short text gets 3 octets per UTF-16 unit and is checked by {@link writeText} while it is copied (it
 * cannot break any limit of 192 octets or more); longer text is checked and measured exactly here.
 */
function textBound(site: EncodeSite, field: string, value: unknown, max: number, what: string): number {
  if (typeof value === "string") {
    const bound = shortTextBound(value);
    if (bound >= 0) return bound;
  }
  return longTextBound(site, field, value, max, what);
}

/** {@link textBound} for anything but short text: the exact octets, or the error. */
function longTextBound(site: EncodeSite, field: string, value: unknown, max: number, what: string): number {
  const octets = textSize(site, field, value);
  if (octets > max) fail(site, "TooLong", field, `${what} is ${octets} octets; at most ${max === 255 ? "255" : "2^32-1"} fit`);
  return octets;
}

/** Bound of a `string` field (1-octet length): at most 255 octets, never cut. */
export function stringBound(site: EncodeSite, field: string, value: unknown): number {
  // textBound spelled out, one call less: this one sits in most encoders, often more than once.
  if (typeof value === "string") {
    const bound = shortTextBound(value);
    if (bound >= 0) return 1 + bound;
  }
  return 1 + longTextBound(site, field, value, 255, "string");
}

/** Bound of a pubsub topic with its terminating NUL; the topic must be set. */
export function topicBound(site: EncodeSite, value: unknown): number {
  if (value === undefined || value === null) fail(site, "MissingTopic", "topic", "a pubsub message needs a topic");
  return textBound(site, "topic", value, MAX_U32, "topic") + 1;
}

/** Bound of a `longstr` field (4-octet length). */
export function longstrBound(site: EncodeSite, field: string, value: unknown): number {
  return 4 + textBound(site, field, value, MAX_U32, "longstr");
}

function asList(site: EncodeSite, field: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) fail(site, "BadType", field, `expected an array of strings, got ${describe(value)}`);
  return value;
}

function asMap(site: EncodeSite, field: string, value: unknown): ReadonlyMap<unknown, unknown> {
  if (!(value instanceof Map)) fail(site, "BadType", field, `expected a Map of strings, got ${describe(value)}`);
  return value;
}

/** Bound of a `strings` field: 4-octet count, then longstr items. */
export function stringsBound(site: EncodeSite, field: string, value: unknown): number {
  const items = asList(site, field, value);
  if (items.length > MAX_U32) fail(site, "TooMany", field, `${items.length} items; at most 2^32-1 fit`);
  let bound = 4;
  for (let i = 0; i < items.length; i++) bound += longstrBound(site, field, items[i]);
  return bound;
}

/** Up to this many entries, the keys of a hash are bounded by their limit instead of one by one. */
const FEW_ENTRIES = 8;

/**
 * Bound of a `hash` field: 4-octet count, then string keys and longstr values. The values are checked and
 * bounded here; the keys of a small hash are bounded by their limit, 1 + 255 octets each, and checked by
 * {@link writeHash}. That saves a pass over the keys, and iterating a Map's entries (an array per entry)
 * costs several times what iterating its values does.
 */
export function hashBound(site: EncodeSite, field: string, value: unknown): number {
  const map = asMap(site, field, value);
  const count = map.size;
  if (count > MAX_U32) fail(site, "TooMany", field, `${count} entries; at most 2^32-1 fit`);
  let bound = 4;
  for (const entry of map.values()) bound += longstrBound(site, field, entry);
  if (count <= FEW_ENTRIES) return bound + 256 * count;
  for (const key of map.keys()) bound += 1 + textBound(site, field, key, 255, "hash key");
  return bound;
}

/** Bound of a `shortstrings` field (Guide-era): 1-octet count, then 1-octet-length items. */
export function shortstringsBound(site: EncodeSite, field: string, value: unknown): number {
  const items = asList(site, field, value);
  if (items.length > 255) fail(site, "TooMany", field, `${items.length} items; at most 255 fit`);
  let bound = 1;
  for (let i = 0; i < items.length; i++) bound += stringBound(site, field, items[i]);
  return bound;
}

/**
 * Size of a `dictionary` field (Guide-era): 1-octet count, then `name=value` strings. Exact: the 255-octet
 * limit applies to name and value together, so short text has to be measured too (a rare, legacy type).
 */
export function dictionaryBound(site: EncodeSite, field: string, value: unknown): number {
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
export function chunkBound(site: EncodeSite, field: string, value: unknown): number {
  if (value instanceof Uint8Array && value.length <= MAX_U32) return 4 + value.length;
  return refuseChunk(site, field, value);
}

/** Throws the error for a value {@link chunkBound} did not accept. */
function refuseChunk(site: EncodeSite, field: string, value: unknown): never {
  if (!(value instanceof Uint8Array)) fail(site, "BadType", field, `expected bytes, got ${describe(value)}`);
  fail(site, "TooLong", field, `chunk is ${value.length} octets; at most 2^32-1 fit`);
}

/** Checks a fixed-width byte field (`octets` N, `uuid`) and returns its width. */
export function fixedBytesSize(site: EncodeSite, field: string, value: unknown, width: number): number {
  if (!(value instanceof Uint8Array)) fail(site, "BadType", field, `expected ${plural(width, "octet")}, got ${describe(value)}`);
  if (value.length !== width) fail(site, "BadLength", field, `expected exactly ${plural(width, "octet")}, got ${value.length}`);
  return width;
}

const EMPTY_FRAME = Buffer.alloc(0);

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
  if (value.length < min) fail(site, "TooFew", field, `${plural(value.length, "frame")}; at least ${min} required`);
  const frames: Buffer[] = new Array<Buffer>(value.length);
  for (let i = 0; i < value.length; i++) frames[i] = frameValue(site, field, value[i]);
  return frames;
}

/** The error for a message the codec does not know (reached only from untyped callers). */
export function unknownMessage(model: string, message: unknown): EncodeError {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return new EncodeError("BadType", model, null, null, `expected a message object such as { message: "NAME", ... }, got ${Array.isArray(message) ? "an array" : describe(message)}`);
  }
  const name = (message as { message?: unknown }).message;
  return new EncodeError("UnknownMessage", model, null, null, `unknown message ${JSON.stringify(name)}`);
}

/** What makes a Buffer over octets of an ArrayBuffer. */
type BufferSpecies = new (arrayBuffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/**
 * The constructor TypedArray methods use to derive Buffers from a Buffer, `Buffer[Symbol.species]` (Node's
 * own Buffer class): a Buffer made with it is what `subarray` returns, at less than half the cost when the
 * ArrayBuffer is at hand (the `buffer` getter is a call into C++; a slab's ArrayBuffer is looked up once),
 * and in less code either way (`subarray` normalises its arguments first). Checked once: should a Node
 * release not provide it, Buffers are made by `Buffer.from` instead.
 */
const FrameBuffer: BufferSpecies = bufferSpecies();

function bufferSpecies(): BufferSpecies {
  const species: unknown = Reflect.get(Buffer, Symbol.species);
  if (typeof species === "function") {
    const probe: unknown = Reflect.construct(species, [new ArrayBuffer(3), 1, 1]);
    if (Buffer.isBuffer(probe) && Object.getPrototypeOf(probe) === Buffer.prototype && probe.byteOffset === 1 && probe.length === 1) {
      return species as BufferSpecies;
    }
  }
  return class {
    constructor(arrayBuffer: ArrayBufferLike, byteOffset: number, length: number) {
      return Buffer.from(arrayBuffer, byteOffset, length);
    }
  } as BufferSpecies;
}

/** Octets `start..end` of `bytes` as a Buffer sharing their memory: what `Buffer#subarray` returns. */
export function bufferView(bytes: Uint8Array, start: number, end: number): Buffer {
  return new FrameBuffer(bytes.buffer, bytes.byteOffset + start, end - start);
}

/** Views a Uint8Array as a Buffer without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return bytes instanceof Buffer ? bytes : bufferView(bytes, 0, bytes.length);
}

// ---------------------------------------------------------------------------------------------------------
// The frame pool

/**
 * Body frames are cut from slabs, as `Buffer.allocUnsafe` cuts small buffers from Node's pool, but the
 * encoder writes straight into the slab at a reservation as large as the frame's bound and keeps only what
 * it used. A frame is a view of its slab; the slab is never written again below the octets handed out (a
 * full slab is dropped, not reused), so a frame stays valid and unchanged for as long as it is held.
 */
const SLAB_OCTETS = 16 * 1024;
/** Frames bounded above this get a buffer of their own, so that a slab is never mostly waste. */
const MAX_SLAB_FRAME = SLAB_OCTETS / 4;

let slab = Buffer.allocUnsafeSlow(SLAB_OCTETS);
/** {@link slab}'s ArrayBuffer and where the slab starts in it, for {@link FrameBuffer}. */
let slabArrayBuffer = slab.buffer;
let slabByteOffset = slab.byteOffset;
/** {@link slab} as a DataView, for the fixed-size fields: big-endian by default, like the wire. */
let slabView = viewOf(slab);
/** Octets of {@link slab} reserved or handed out. */
let slabUsed = 0;
/**
 * Whether an encoder is writing into {@link slab}. An encode that starts meanwhile (user code run by an
 * encoder, such as a Map subclass's iterator, may encode) gets a new slab, so that nothing an encoder
 * writes, even past its bound, can touch a frame another encoder handed out.
 */
let slabBusy = false;
/** Where the last reservation starts in the buffer {@link reserveFrame} returned. */
let reserved = 0;
/** The DataView of the last reservation's buffer when that is a buffer of its own, not {@link slab}. */
let ownView: DataView | undefined;

function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Reserves `bound` octets for one frame and returns the buffer they are in; the reservation starts at
 * {@link reservedOffset}, and {@link reservedView} sees the same octets.
 */
export function reserveFrame(bound: number): Buffer {
  if (slabBusy || bound > SLAB_OCTETS - slabUsed) return reserveElsewhere(bound);
  slabBusy = true;
  reserved = slabUsed;
  ownView = undefined;
  slabUsed += bound;
  return slab;
}

/**
 * {@link reserveFrame} when the slab is busy or too full: a new slab, or a buffer of its own for a large
 * frame. (A slab left busy by an encoder that threw is simply replaced.)
 */
function reserveElsewhere(bound: number): Buffer {
  reserved = 0;
  if (bound > MAX_SLAB_FRAME) {
    const own = Buffer.allocUnsafeSlow(bound);
    ownView = viewOf(own);
    return own;
  }
  slab = Buffer.allocUnsafeSlow(SLAB_OCTETS);
  slabArrayBuffer = slab.buffer;
  slabByteOffset = slab.byteOffset;
  slabView = viewOf(slab);
  slabBusy = true;
  ownView = undefined;
  slabUsed = bound;
  return slab;
}

/** Start of the reservation {@link reserveFrame} just made; read it right after that call. */
export function reservedOffset(): number {
  return reserved;
}

/** The buffer of the reservation {@link reserveFrame} just made, as a DataView; read it right after that call. */
export function reservedView(): DataView {
  return ownView ?? slabView;
}

/**
 * The finished frame: octets `start..end` of a reservation of `bound` octets made by {@link reserveFrame}.
 * The unused rest of the reservation goes back to the slab.
 */
export function takeFrame(buffer: Buffer, start: number, end: number, bound: number): Buffer {
  if (buffer !== slab || end - start > bound) return takeOtherFrame(buffer, start, end, bound);
  slabBusy = false;
  slabUsed = end;
  return new FrameBuffer(slabArrayBuffer, slabByteOffset + start, end - start);
}

/**
 * {@link takeFrame} for a frame in a buffer of its own, or in a slab that was replaced while the frame was
 * written (the frame stays valid there: a replaced slab is never written again).
 */
function takeOtherFrame(buffer: Buffer, start: number, end: number, bound: number): Buffer {
  if (end - start > bound) throw new Error(`encoder wrote ${end - start} octets into a frame bounded at ${bound}`);
  // A buffer of its own that is less than three quarters used: keep only what the frame needs.
  if (buffer !== slab && start === 0 && end < bound - (bound >>> 2)) return Buffer.from(bufferView(buffer, 0, end));
  return bufferView(buffer, start, end);
}

// ---------------------------------------------------------------------------------------------------------
// Writing

/** Signature (`0xAAA0` plus the model's signature number) and message id. */
export function writeHeader(view: DataView, at: number, signature: number, id: number): void {
  view.setUint16(at, signature);
  view.setUint8(at + 2, id);
}

/** Pubsub header: id, topic (checked by {@link topicBound}) and the NUL that ends it (`spec/wire.md` §7). */
export function writeTopicHeader(site: EncodeSite, buffer: Buffer, at: number, id: number, topic: string): number {
  buffer[at] = id;
  const octets = writeText(buffer, at + 1, topic);
  if (octets < 0) invalidText(site, "topic");
  buffer[at + 1 + octets] = 0;
  return at + 2 + octets;
}

// Number fields are checked before the frame is reserved, by the predicates below, and written through the
// frame's DataView (`setUint8`, `setUint16`, `setUint32`, {@link setNumber8}): the optimising compiler turns
// DataView calls into plain stores without inlining any JavaScript, so they cost no inlining budget, and
// the predicates are small enough to be inlined whatever the budget.

/** Whether a `number 1` field can carry `value`. */
export function isNumber1(value: unknown): value is number {
  return typeof value === "number" && (value & 0xff) === value;
}

/** Whether a `number 2` field can carry `value`. */
export function isNumber2(value: unknown): value is number {
  return typeof value === "number" && (value & 0xffff) === value;
}

/** Whether a `number 4` field can carry `value`. */
export function isNumber4(value: unknown): value is number {
  return typeof value === "number" && value >>> 0 === value;
}

/** Whether a `number 8` field can carry `value`: a bigint, or a safe non-negative integer (`spec/wire.md` §10). */
export function isNumber8(value: unknown): value is bigint | number {
  return typeof value === "bigint" ? value >= 0n && value <= MAX_U64 : isSafeCount(value);
}

function isSafeCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** The range of a `number` field of `size` octets, as error texts word it. */
const RANGES = { 1: "0..255", 2: "0..65535", 4: "0..4294967295", 8: "0..2^64-1" } as const;

/** The error for a value that a `number` field of `size` octets cannot carry (the `isNumber*` predicate said no). */
export function numberError(site: EncodeSite, field: string, value: unknown, size: 1 | 2 | 4 | 8): EncodeError {
  const range = RANGES[size];
  const outOfRange = size === 8 ? typeof value === "bigint" : typeof value === "number" && Number.isInteger(value);
  if (outOfRange) return new EncodeError("OutOfRange", site.model, site.message, field, `${describe(value)} is outside ${range}`);
  const expected = size === 8 ? "a bigint (or a safe non-negative integer)" : `an integer in ${range}`;
  return new EncodeError("BadType", site.model, site.message, field, `expected ${expected}, got ${describe(value)}`);
}

/** Writes a `number 8` value that {@link isNumber8} accepted. */
export function setNumber8(view: DataView, at: number, value: bigint | number): void {
  if (typeof value === "bigint") setUint64(view, at, value);
  else {
    view.setUint32(at, Math.floor(value / 0x100000000));
    view.setUint32(at + 4, value >>> 0);
  }
}

/**
 * A number field of `size` octets at `at`, checked first; returns the offset after it. What generated
 * encoders spell out per field (check first, write later), in one call for the schema interpreter.
 */
export function writeNumber(site: EncodeSite, field: string, view: DataView, at: number, value: unknown, size: 1 | 2 | 4 | 8): number {
  switch (size) {
    case 1:
      if (!isNumber1(value)) throw numberError(site, field, value, 1);
      view.setUint8(at, value);
      break;
    case 2:
      if (!isNumber2(value)) throw numberError(site, field, value, 2);
      view.setUint16(at, value);
      break;
    case 4:
      if (!isNumber4(value)) throw numberError(site, field, value, 4);
      view.setUint32(at, value);
      break;
    case 8:
      if (!isNumber8(value)) throw numberError(site, field, value, 8);
      setNumber8(view, at, value);
      break;
  }
  return at + size;
}

/**
 * A 4-octet length or count known to fit, by direct index writes: `Buffer#writeUInt32BE` validates value
 * and offset again on every call.
 */
function writeLength4(buffer: Buffer, at: number, value: number): number {
  buffer[at] = value >>> 24;
  buffer[at + 1] = value >>> 16;
  buffer[at + 2] = value >>> 8;
  buffer[at + 3] = value;
  return at + 4;
}

/** A `string` bounded by {@link stringBound}. */
export function writeString(site: EncodeSite, field: string, buffer: Buffer, at: number, value: string): number {
  const octets = writeText(buffer, at + 1, value);
  if (octets < 0) invalidText(site, field);
  buffer[at] = octets;
  return at + 1 + octets;
}

/** A `longstr` bounded by {@link longstrBound}. */
export function writeLongstr(site: EncodeSite, field: string, buffer: Buffer, at: number, value: string): number {
  const octets = writeText(buffer, at + 4, value);
  if (octets < 0) invalidText(site, field);
  buffer[at] = octets >>> 24;
  buffer[at + 1] = octets >>> 16;
  buffer[at + 2] = octets >>> 8;
  buffer[at + 3] = octets;
  return at + 4 + octets;
}

/** A `strings` field bounded by {@link stringsBound}. */
export function writeStrings(site: EncodeSite, field: string, buffer: Buffer, at: number, value: readonly string[]): number {
  const count = value.length;
  at = writeLength4(buffer, at, count);
  for (let i = 0; i < count; i++) at = writeLongstr(site, field, buffer, at, value[i]);
  return at;
}

/**
 * A `hash` field bounded by {@link hashBound}, in the map's insertion order. Keys are checked here: a short
 * key as it is copied, anything else by {@link hashKey}.
 */
export function writeHash(site: EncodeSite, field: string, buffer: Buffer, at: number, value: ReadonlyMap<string, string>): number {
  const count = value.size;
  at = writeLength4(buffer, at, count);
  let entries = 0;
  for (const [key, entry] of value) {
    const keyOctets = typeof key === "string" && shortTextBound(key) >= 0 ? writeText(buffer, at + 1, key) : hashKey(site, field, buffer, at + 1, key);
    if (keyOctets < 0) invalidText(site, field);
    buffer[at] = keyOctets;
    at = writeLongstr(site, field, buffer, at + 1 + keyOctets, entry);
    entries++;
  }
  // Only a Map subclass that iterates other entries than its size counts gets here; its frame would not decode.
  if (entries !== count) fail(site, "BadType", field, `the Map iterated ${plural(entries, "entry", "entries")} but has ${count}`);
  return at;
}

/** Checks and writes a hash key that is not short text; returns its octets. */
function hashKey(site: EncodeSite, field: string, buffer: Buffer, at: number, key: unknown): number {
  const octets = textSize(site, field, key);
  if (octets > 255) fail(site, "TooLong", field, `hash key is ${octets} octets; at most 255 fit`);
  return writeText(buffer, at, key as string);
}

/** A `shortstrings` field bounded by {@link shortstringsBound}. */
export function writeShortstrings(site: EncodeSite, field: string, buffer: Buffer, at: number, value: readonly string[]): number {
  const count = value.length;
  buffer[at++] = count;
  for (let i = 0; i < count; i++) at = writeString(site, field, buffer, at, value[i]);
  return at;
}

/**
 * A `dictionary` field checked by {@link dictionaryBound} (which checked all its text): each entry as the
 * string `name=value`.
 */
export function writeDictionary(buffer: Buffer, at: number, value: ReadonlyMap<string, string>): number {
  buffer[at++] = value.size;
  for (const [key, entry] of value) {
    const keyOctets = writeText(buffer, at + 1, key);
    buffer[at + 1 + keyOctets] = 0x3d; // "="
    const octets = writeText(buffer, at + 2 + keyOctets, entry);
    buffer[at] = keyOctets + 1 + octets;
    at += 2 + keyOctets + octets;
  }
  return at;
}

/** A `chunk` field checked by {@link chunkBound}. */
export function writeChunk(buffer: Buffer, at: number, value: Uint8Array): number {
  const length = value.length;
  buffer[at] = length >>> 24;
  buffer[at + 1] = length >>> 16;
  buffer[at + 2] = length >>> 8;
  buffer[at + 3] = length;
  buffer.set(value, at + 4);
  return at + 4 + length;
}

/** Raw octets of known width (`octets`, `uuid`), or zeros when unset. */
export function writeOctets(buffer: Buffer, at: number, value: Uint8Array | undefined, width: number): number {
  if (value === undefined) buffer.fill(0, at, at + width);
  else buffer.set(value, at);
  return at + width;
}
