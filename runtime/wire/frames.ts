/**
 * Frame-per-field framing (`spec/wire.md` §7a): every field is its own ZeroMQ frame, constant frames stand
 * where a binary codec has its signature, and the message id, where the model has one, is a one-octet
 * command frame. This is how Guide protocols such as Majordomo MDP/0.1 put fields on the wire.
 */
import { EncodeError, MalformedError, type EncodeSite, type MalformedKind } from "./errors.js";
import { readUtf8 } from "./text.js";
import { textSize, toBuffer } from "./writer.js";
import { plural } from "./plural.js";

const MAX_U64 = 0xffffffffffffffffn;

/** Encodes a text field as a frame of its UTF-8 octets (`maxOctets` 255 for `string`). */
export function textFrame(site: EncodeSite, field: string, value: unknown, maxOctets: number): Buffer {
  const octets = textSize(site, field, value);
  if (octets > maxOctets) throw new EncodeError("TooLong", site.model, site.message, field, `text is ${octets} octets; at most ${maxOctets} fit`);
  return Buffer.from(value as string, "utf8");
}

/** Encodes a number field as a frame of `size` big-endian octets. */
export function numberFrame(site: EncodeSite, field: string, value: unknown, size: 1 | 2 | 4 | 8): Buffer {
  const frame = Buffer.allocUnsafe(size);
  if (size === 8) {
    const big = typeof value === "bigint" ? value : typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : null;
    if (big === null) throw new EncodeError("BadType", site.model, site.message, field, `expected a bigint, got ${String(value)}`);
    if (big < 0n || big > MAX_U64) throw new EncodeError("OutOfRange", site.model, site.message, field, `${big} is outside 0..2^64-1`);
    frame.writeBigUInt64BE(big);
    return frame;
  }
  const max = 2 ** (8 * size) - 1;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new EncodeError("BadType", site.model, site.message, field, `expected an integer in 0..${max}, got ${String(value)}`);
  }
  if (value < 0 || value > max) throw new EncodeError("OutOfRange", site.model, site.message, field, `${value} is outside 0..${max}`);
  frame.writeUIntBE(value, 0, size);
  return frame;
}

/** Checks a fixed-width byte field (`octets` N, `uuid`) and returns it as a frame. */
export function fixedFrame(site: EncodeSite, field: string, value: unknown, width: number): Buffer {
  if (!(value instanceof Uint8Array)) throw new EncodeError("BadType", site.model, site.message, field, `expected ${plural(width, "octet")}`);
  if (value.length !== width) throw new EncodeError("BadLength", site.model, site.message, field, `expected exactly ${plural(width, "octet")}, got ${value.length}`);
  return toBuffer(value);
}

/** Reads a frame-per-field message, one frame per call, in model order. */
export class FrameReader {
  messageName: string | null = null;
  id: number | null = null;
  /** Index of the next frame to read. */
  next = 0;

  constructor(
    readonly model: string,
    readonly frames: readonly Uint8Array[],
  ) {}

  error(kind: MalformedKind, field: string | null, detail: string, frame = this.next - 1, extra?: { expected?: string; actual?: string }): MalformedError {
    return new MalformedError({
      kind, model: this.model, messageName: this.messageName, id: this.id, field, frame: Math.max(frame, 0), offset: 0, ...extra, detail,
    });
  }

  private take(field: string): Buffer {
    const frame = this.frames[this.next];
    if (frame === undefined) {
      throw this.error("MissingFrame", field, `frame ${this.next} is missing (message has ${plural(this.frames.length, "frame")})`, this.next);
    }
    this.next++;
    return toBuffer(frame);
  }

  /**
   * A constant frame. Constants before the command frame identify the protocol, as a signature does, so a
   * mismatch there is `BadSignature`; later ones are `BadConstant`.
   */
  constant(field: string, expected: Buffer, identifiesProtocol: boolean): void {
    const frame = this.take(field);
    if (!frame.equals(expected)) {
      const kind = identifiesProtocol ? "BadSignature" : "BadConstant";
      throw this.error(kind, field, `frame is ${JSON.stringify(frame.latin1Slice(0, Math.min(frame.length, 40)))}, expected ${JSON.stringify(expected.toString("utf8"))}`, this.next - 1, {
        expected: expected.toString("utf8"), actual: frame.latin1Slice(0, Math.min(frame.length, 40)),
      });
    }
  }

  /** The one-octet command frame. */
  command(): number {
    const frame = this.take("command");
    if (frame.length === 0) throw this.error("Truncated", "command", "command frame is empty");
    if (frame.length > 1) throw this.error("TrailingBytes", "command", `command frame has ${plural(frame.length, "octet")}, not 1`);
    this.id = frame[0];
    return frame[0];
  }

  unknownId(id: number): MalformedError {
    return this.error("UnknownId", "command", `unknown command ${id}`, this.next - 1, { actual: String(id) });
  }

  /** Records which message is being decoded, for error texts. */
  begin(messageName: string, id: number): void {
    this.messageName = messageName;
    this.id = id;
  }

  text(field: string, maxOctets: number): string {
    const frame = this.take(field);
    if (frame.length > maxOctets) throw this.error("Overrun", field, `text frame is ${frame.length} octets; at most ${maxOctets} allowed`);
    const text = readUtf8(frame, 0, frame.length);
    if (text === null) throw this.error("InvalidText", field, "frame is not valid UTF-8 text without NUL");
    return text;
  }

  number(field: string, size: 1 | 2 | 4 | 8): number | bigint {
    const frame = this.take(field);
    if (frame.length < size) throw this.error("Truncated", field, `number-${size} frame has ${plural(frame.length, "octet")}`);
    if (frame.length > size) throw this.error("TrailingBytes", field, `number-${size} frame has ${plural(frame.length, "octet")}`);
    return size === 8 ? frame.readBigUInt64BE(0) : frame.readUIntBE(0, size);
  }

  /** Reads a constant number frame and compares it. */
  constantNumber(field: string, size: 1 | 2 | 4 | 8, expected: number | bigint): void {
    const actual = this.number(field, size);
    if (actual !== expected) {
      throw this.error("BadConstant", field, `constant is ${actual}, expected ${expected}`, this.next - 1, { expected: String(expected), actual: String(actual) });
    }
  }

  bytes(field: string): Buffer {
    return this.take(field);
  }

  fixed(field: string, width: number): Buffer {
    const frame = this.take(field);
    if (frame.length < width) throw this.error("Truncated", field, `frame has ${plural(frame.length, "octet")}, expected ${width}`);
    if (frame.length > width) throw this.error("TrailingBytes", field, `frame has ${plural(frame.length, "octet")}, expected ${width}`);
    return frame;
  }

  /** All remaining frames (a trailing `msg` field), at least `min`. */
  rest(field: string, min: number): Buffer[] {
    const rest: Buffer[] = [];
    for (let i = this.next; i < this.frames.length; i++) rest.push(toBuffer(this.frames[i]));
    if (rest.length < min) {
      throw this.error("MissingFrame", field, `needs at least ${plural(min, "frame")}, ${rest.length} left`, this.frames.length);
    }
    this.next = this.frames.length;
    return rest;
  }

  /** Checks that every frame was consumed. */
  end(): void {
    if (this.next < this.frames.length) {
      throw this.error("UnexpectedFrame", null, `${plural(this.frames.length - this.next, "unexpected frame")} after the message's ${this.next}`, this.next);
    }
  }
}
