/**
 * Decoding primitives with the strict rules of `spec/wire.md` §9.2: every read checks that its fixed part
 * fits, every announced length or count is checked against what is left before anything is allocated, text
 * must be valid UTF-8 without NUL, and the caller ends with {@link Reader.end} so trailing octets are errors.
 */
import { MalformedError, type MalformedKind } from "./errors.js";
import { readUtf8 } from "./text.js";
import { toBuffer } from "./writer.js";

const U64 = new BigUint64Array(1);
const U8 = new Uint8Array(U64.buffer);

/** Reads the body frame of one message. */
export class Reader {
  /** Message name as written in the model, once the id is known. */
  messageName: string | null = null;
  /** Message id, once read. */
  id: number | null = null;
  position = 0;
  readonly buffer: Buffer;
  readonly limit: number;

  constructor(
    readonly model: string,
    readonly frames: readonly Uint8Array[],
    readonly frameIndex = 0,
  ) {
    const frame = frames[frameIndex];
    this.buffer = frame === undefined ? Buffer.alloc(0) : toBuffer(frame);
    this.limit = this.buffer.length;
  }

  /** Builds a decoding error at the current position. */
  error(kind: MalformedKind, field: string | null, detail: string, extra?: { expected?: string; actual?: string; frame?: number; offset?: number }): MalformedError {
    return new MalformedError({
      kind,
      model: this.model,
      messageName: this.messageName,
      id: this.id,
      field,
      frame: extra?.frame ?? this.frameIndex,
      offset: extra?.offset ?? this.position,
      ...(extra?.expected !== undefined ? { expected: extra.expected } : {}),
      ...(extra?.actual !== undefined ? { actual: extra.actual } : {}),
      detail,
    });
  }

  /** Checks that frame 0 exists and starts with the two signature octets. */
  signature(signature0: number, signature1: number): void {
    if (this.frames.length === 0) throw this.error("Truncated", "signature", "no frames");
    if (this.limit < 2) throw this.error("Truncated", "signature", `frame of ${this.limit} octets has no signature`);
    const buffer = this.buffer;
    if (buffer[0] !== signature0 || buffer[1] !== signature1) {
      throw this.error("BadSignature", "signature", `signature is ${hex(buffer, 0, 2)}, not ${hex2(signature0, signature1)}`, {
        expected: hex2(signature0, signature1),
        actual: hex(buffer, 0, 2),
        offset: 0,
      });
    }
    this.position = 2;
  }

  /** Reads the message id octet. */
  messageId(): number {
    if (this.frames.length === 0) throw this.error("Truncated", "id", "no frames");
    if (this.position >= this.limit) throw this.error("Truncated", "id", "frame ends before the message id");
    const id = this.buffer[this.position++];
    this.id = id;
    return id;
  }

  /** Reads a pubsub topic: octets up to the NUL that ends it. */
  topic(): string {
    const start = this.position;
    const nul = this.buffer.indexOf(0, start);
    if (nul === -1) throw this.error("Truncated", "topic", "topic has no terminating NUL");
    const topic = readUtf8(this.buffer, start, nul);
    if (topic === null) throw this.error("InvalidText", "topic", "topic is not valid UTF-8");
    this.position = nul + 1;
    return topic;
  }

  /** Records which message is being decoded, for error texts. */
  begin(messageName: string): void {
    this.messageName = messageName;
  }

  /** An error for an id the model does not define. */
  unknownId(id: number): MalformedError {
    return this.error("UnknownId", "id", `unknown message id ${id}`, { actual: String(id), offset: this.position - 1 });
  }

  private need(octets: number, field: string, what: string): void {
    if (this.limit - this.position < octets) {
      throw this.error("Truncated", field, `${what} needs ${octets} octets, ${this.limit - this.position} left at offset ${this.position}`);
    }
  }

  number1(field: string): number {
    if (this.position >= this.limit) this.need(1, field, "number-1");
    return this.buffer[this.position++];
  }

  number2(field: string): number {
    const at = this.position;
    if (this.limit - at < 2) this.need(2, field, "number-2");
    this.position = at + 2;
    return (this.buffer[at] << 8) | this.buffer[at + 1];
  }

  number4(field: string): number {
    const at = this.position;
    if (this.limit - at < 4) this.need(4, field, "number-4");
    this.position = at + 4;
    const buffer = this.buffer;
    return buffer[at] * 0x1000000 + ((buffer[at + 1] << 16) | (buffer[at + 2] << 8) | buffer[at + 3]);
  }

  number8(field: string): bigint {
    const at = this.position;
    if (this.limit - at < 8) this.need(8, field, "number-8");
    this.position = at + 8;
    const b = this.buffer;
    U8[7] = b[at]; U8[6] = b[at + 1]; U8[5] = b[at + 2]; U8[4] = b[at + 3];
    U8[3] = b[at + 4]; U8[2] = b[at + 5]; U8[1] = b[at + 6]; U8[0] = b[at + 7];
    return U64[0];
  }

  /** Reads a constant number and compares it. */
  constantNumber(field: string, size: 1 | 2 | 4 | 8, expected: number | bigint): void {
    const at = this.position;
    const actual = size === 1 ? this.number1(field) : size === 2 ? this.number2(field) : size === 4 ? this.number4(field) : this.number8(field);
    if (actual !== expected) {
      throw this.error("BadConstant", field, `constant is ${actual}, expected ${expected}`, {
        expected: String(expected), actual: String(actual), offset: at,
      });
    }
  }

  /** Reads a constant `string` and compares its octets (length included). */
  constantString(field: string, expected: Buffer): void {
    const at = this.position;
    if (at >= this.limit) this.need(1, field, "string length");
    const length = this.buffer[at];
    if (this.limit - at - 1 < length) {
      throw this.error("Overrun", field, `string length ${length} overruns frame (${this.limit - at - 1} octets left) at offset ${at + 1}`);
    }
    const same = length === expected.length && this.buffer.compare(expected, 0, length, at + 1, at + 1 + length) === 0;
    if (!same) {
      const available = Math.min(length, this.limit - at - 1);
      throw this.error("BadConstant", field, `constant is ${JSON.stringify(this.buffer.latin1Slice(at + 1, at + 1 + available))}, expected ${JSON.stringify(expected.toString("utf8"))}`, {
        expected: expected.toString("utf8"), actual: this.buffer.latin1Slice(at + 1, at + 1 + available), offset: at,
      });
    }
    this.position = at + 1 + length;
  }

  private text(field: string, length: number, what: string): string {
    const start = this.position;
    if (this.limit - start < length) {
      throw this.error("Overrun", field, `${what} length ${length} overruns frame (${this.limit - start} octets left) at offset ${start}`);
    }
    const end = start + length;
    const text = readUtf8(this.buffer, start, end);
    if (text === null) throw this.error("InvalidText", field, `${what} is not valid UTF-8 text without NUL at offset ${start}`);
    this.position = end;
    return text;
  }

  string(field: string): string {
    const length = this.number1(field);
    return this.text(field, length, "string");
  }

  longstr(field: string): string {
    const length = this.number4(field);
    return this.text(field, length, "longstr");
  }

  strings(field: string): string[] {
    const count = this.number4(field);
    // Each item takes at least its 4-octet length: refuse counts the frame cannot hold before allocating.
    if (count * 4 > this.limit - this.position) throw this.overrun(field, "strings count", count);
    const items: string[] = [];
    for (let i = 0; i < count; i++) items.push(this.longstr(field));
    return items;
  }

  hash(field: string): Map<string, string> {
    const count = this.number4(field);
    if (count * 5 > this.limit - this.position) throw this.overrun(field, "hash count", count);
    const map = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const at = this.position;
      const key = this.string(field);
      const value = this.longstr(field);
      if (map.has(key)) throw this.error("DuplicateKey", field, `hash key ${JSON.stringify(key)} occurs twice`, { offset: at });
      map.set(key, value);
    }
    return map;
  }

  shortstrings(field: string): string[] {
    const count = this.number1(field);
    if (count > this.limit - this.position) throw this.overrun(field, "strings count", count);
    const items: string[] = [];
    for (let i = 0; i < count; i++) items.push(this.string(field));
    return items;
  }

  dictionary(field: string): Map<string, string> {
    const count = this.number1(field);
    if (count > this.limit - this.position) throw this.overrun(field, "dictionary count", count);
    const map = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const at = this.position;
      const entry = this.string(field);
      const equals = entry.indexOf("=");
      if (equals <= 0) {
        throw this.error("InvalidEntry", field, `dictionary entry ${JSON.stringify(entry)} is not name=value`, { offset: at });
      }
      const key = entry.slice(0, equals);
      if (map.has(key)) throw this.error("DuplicateKey", field, `dictionary key ${JSON.stringify(key)} occurs twice`, { offset: at });
      map.set(key, entry.slice(equals + 1));
    }
    return map;
  }

  chunk(field: string): Buffer {
    const length = this.number4(field);
    const start = this.position;
    if (this.limit - start < length) {
      throw this.error("Overrun", field, `chunk length ${length} overruns frame (${this.limit - start} octets left) at offset ${start}`);
    }
    this.position = start + length;
    return this.buffer.subarray(start, start + length);
  }

  /** Fixed-width raw octets (`octets` N, `uuid`). */
  octets(field: string, width: number): Buffer {
    const start = this.position;
    if (this.limit - start < width) this.need(width, field, `${width} octets`);
    this.position = start + width;
    return this.buffer.subarray(start, start + width);
  }

  /** Checks that the body frame was consumed exactly. */
  end(): void {
    if (this.position !== this.limit) {
      throw this.error("TrailingBytes", null, `${this.limit - this.position} trailing octets after the last field at offset ${this.position}`);
    }
  }

  /** The frame of a `frame` field. */
  frame(index: number, field: string): Buffer {
    const frame = this.frames[index];
    if (frame === undefined) {
      throw this.error("MissingFrame", field, `frame ${index} is missing (message has ${this.frames.length} frames)`, { frame: index, offset: 0 });
    }
    return toBuffer(frame);
  }

  /** The remaining frames, for a trailing `msg` field with at least `min` frames. */
  rest(from: number, field: string, min = 0): Buffer[] {
    const frames = this.frames;
    if (frames.length - from < min) {
      throw this.error("MissingFrame", field, `needs at least ${min} frames from frame ${from}, message has ${frames.length}`, { frame: frames.length, offset: 0 });
    }
    const rest: Buffer[] = [];
    for (let i = from; i < frames.length; i++) rest.push(toBuffer(frames[i]));
    return rest;
  }

  /** Checks that no frames follow the `count` frames the message defines. */
  frameCount(count: number): void {
    if (this.frames.length > count) {
      throw this.error("UnexpectedFrame", null, `${this.frames.length - count} unexpected frames after the message's ${count}`, { frame: count, offset: 0 });
    }
  }

  private overrun(field: string, what: string, count: number): MalformedError {
    return this.error("Overrun", field, `${what} ${count} overruns frame (${this.limit - this.position} octets left) at offset ${this.position}`);
  }
}

function hex(buffer: Buffer, start: number, end: number): string {
  return buffer.subarray(start, end).toString("hex");
}

function hex2(a: number, b: number): string {
  return ((a << 8) | b).toString(16).padStart(4, "0");
}
