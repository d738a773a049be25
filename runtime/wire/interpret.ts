/**
 * Encodes and decodes messages of any codec schema without generated code. This is what
 * `zproto encode|decode --jsonl` runs on a model file; generated codecs do the same work specialised per
 * message, on the same primitives.
 */
import { EncodeError, type DecodeSite, type EncodeSite } from "./errors.js";
import { FrameReader, fixedFrame, numberFrame, textFrame } from "./frames.js";
import {
  binaryBody, endOfBody, frameField, noMoreFrames, pubsubBody, readChunk, readConstantNumber, readConstantString, readDictionary,
  readEnd, readHash, readLongstr, readNumber1, readNumber2, readNumber4, readNumber8, readOctets, readShortstrings, readString,
  readStrings, readTopic, restFrames, unknownId,
} from "./reader.js";
import type { Codec } from "./codec.js";
import { findMessage, signatureOctets, type CodecSchema, type FieldSchema, type MessageSchema, type NumberSize } from "./schema.js";
import {
  chunkBound, dictionaryBound, fixedBytesSize, frameValue, hashBound, isNumber1, isNumber2, isNumber4, isNumber8, longstrBound,
  msgValue, numberError, reserveFrame, reservedOffset, reservedView, shortstringsBound, stringBound, stringsBound, takeFrame,
  topicBound, unknownMessage, writeChunk, writeDictionary, writeHash, writeHeader, writeLongstr, writeNumber, writeOctets, writeShortstrings,
  writeString, writeStrings, writeTopicHeader,
} from "./writer.js";

/** A message as the interpreter sees it: the `message` discriminant plus fields under their TS keys. */
export interface DynamicMessage {
  readonly message: string;
  readonly topic?: string;
  readonly [key: string]: unknown;
}

const EMPTY = Buffer.alloc(0);

/** The value a field encodes as when it was never set (`spec/wire.md` §3). */
export function unsetValue(field: FieldSchema): unknown {
  switch (field.type) {
    case "number": return field.size === 8 ? 0n : 0;
    case "octets": return Buffer.alloc(field.size ?? 0);
    case "uuid": return Buffer.alloc(16);
    case "string": case "longstr": return "";
    case "strings": case "shortstrings": return [];
    case "hash": case "dictionary": return new Map<string, string>();
    case "chunk": case "frame": return EMPTY;
    case "msg": return [EMPTY];
  }
}

/** A field's value in a draft; left out (or `null`) means unset. */
function valueOf(field: FieldSchema, draft: DynamicMessage): unknown {
  const value = draft[field.key];
  return value === undefined || value === null ? unsetValue(field) : value;
}

function messageFor(schema: CodecSchema, name: unknown): MessageSchema {
  const message = typeof name === "string" ? findMessage(schema, name) : undefined;
  if (message === undefined) throw new EncodeError("UnknownMessage", schema.model, null, null, `unknown message ${JSON.stringify(name)}`);
  return message;
}

/** Encodes one message into its frames. Throws {@link EncodeError} for values the wire cannot carry. */
export function encodeDynamic(schema: CodecSchema, draft: DynamicMessage): Buffer[] {
  if (typeof draft !== "object" || draft === null || Array.isArray(draft)) throw unknownMessage(schema.model, draft);
  const message = messageFor(schema, draft.message);
  const site: EncodeSite = { model: schema.model, message: message.name };
  return schema.framing === "frames" ? encodeFrames(schema, message, site, draft) : encodeBinary(schema, message, site, draft);
}

/**
 * Checks a body field's value as far as it can be checked before writing, and returns the most octets the
 * field can take (its exact size unless it holds text). Numbers are checked here too, as generated encoders
 * check them before they reserve their frame.
 */
function bodyBound(site: EncodeSite, field: FieldSchema, value: unknown): number {
  switch (field.type) {
    case "number": checkNumber(site, field, value); return field.size ?? 1;
    case "octets": return fixedBytesSize(site, field.name, value, field.size ?? 0);
    case "uuid": return fixedBytesSize(site, field.name, value, 16);
    case "string": return stringBound(site, field.name, value);
    case "longstr": return longstrBound(site, field.name, value);
    case "strings": return stringsBound(site, field.name, value);
    case "hash": return hashBound(site, field.name, value);
    case "shortstrings": return shortstringsBound(site, field.name, value);
    case "dictionary": return dictionaryBound(site, field.name, value);
    case "chunk": return chunkBound(site, field.name, value);
    case "frame": case "msg": return 0;
  }
}

function checkNumber(site: EncodeSite, field: FieldSchema, value: unknown): void {
  const size = field.size as NumberSize;
  const fits = size === 1 ? isNumber1(value) : size === 2 ? isNumber2(value) : size === 4 ? isNumber4(value) : isNumber8(value);
  if (!fits) throw numberError(site, field.name, value, size);
}

/** Writes a body field checked by {@link bodyBound} at `at`; returns the offset after it. */
function writeBody(site: EncodeSite, field: FieldSchema, buffer: Buffer, view: DataView, at: number, value: unknown): number {
  switch (field.type) {
    case "number": return writeNumber(site, field.name, view, at, value, field.size as NumberSize);
    case "octets": case "uuid": return writeOctets(buffer, at, value as Uint8Array, field.type === "uuid" ? 16 : field.size ?? 0);
    case "string": return writeString(site, field.name, buffer, at, value as string);
    case "longstr": return writeLongstr(site, field.name, buffer, at, value as string);
    case "strings": return writeStrings(site, field.name, buffer, at, value as string[]);
    case "hash": return writeHash(site, field.name, buffer, at, value as Map<string, string>);
    case "shortstrings": return writeShortstrings(site, field.name, buffer, at, value as string[]);
    case "dictionary": return writeDictionary(buffer, at, value as Map<string, string>);
    case "chunk": return writeChunk(buffer, at, value as Uint8Array);
    case "frame": case "msg": return at;
  }
}

/** Which of the rounds of {@link encodeBinary}'s checks a body field belongs to. */
function checkRound(field: FieldSchema): 1 | 3 | 4 {
  return field.type === "octets" || field.type === "uuid" ? 1 : field.type === "number" ? 3 : 4;
}

function encodeBinary(schema: CodecSchema, message: MessageSchema, site: EncodeSite, draft: DynamicMessage): Buffer[] {
  const values = message.fields.map((field) => (field.value !== undefined ? field.value : valueOf(field, draft)));
  // Checked in the order generated encoders check: fixed-width byte fields (1), frames (2), numbers (3),
  // then the bounds of a pubsub topic and the variable-size fields (4); short text as it is written.
  const bodyBounds = (round: 1 | 3 | 4): number =>
    message.fields.reduce((sum, field, i) => (checkRound(field) === round ? sum + bodyBound(site, field, values[i]) : sum), 0);
  let bound = (schema.framing === "pubsub" ? 1 : 3) + bodyBounds(1);
  const frames: Buffer[] = [];
  message.fields.forEach((field, i) => {
    if (field.type === "frame") frames.push(frameValue(site, field.name, values[i]));
    else if (field.type === "msg") frames.push(...msgValue(site, field.name, values[i], field.min ?? 0));
  });
  bound += bodyBounds(3);
  if (schema.framing === "pubsub") bound += topicBound(site, draft.topic);
  bound += bodyBounds(4);
  const buffer = reserveFrame(bound);
  const view = reservedView();
  const start = reservedOffset();
  let at: number;
  if (schema.framing === "pubsub") at = writeTopicHeader(site, buffer, start, message.id, draft.topic as string);
  else {
    const [signature0, signature1] = signatureOctets(schema);
    writeHeader(view, start, (signature0 << 8) | signature1, message.id);
    at = start + 3;
  }
  message.fields.forEach((field, i) => { at = writeBody(site, field, buffer, view, at, values[i]); });
  frames.unshift(takeFrame(buffer, start, at, bound));
  return frames;
}

function encodeFrames(schema: CodecSchema, message: MessageSchema, site: EncodeSite, draft: DynamicMessage): Buffer[] {
  const frames: Buffer[] = [];
  message.fields.forEach((field, i) => {
    if (i === schema.headerFields && schema.command === "frame") frames.push(Buffer.of(message.id));
    const value = field.value !== undefined ? field.value : valueOf(field, draft);
    switch (field.type) {
      case "number": frames.push(numberFrame(site, field.name, value, field.size as NumberSize)); break;
      case "string": frames.push(textFrame(site, field.name, value, 255)); break;
      case "longstr": frames.push(textFrame(site, field.name, value, 0xffffffff)); break;
      case "octets": frames.push(fixedFrame(site, field.name, value, field.size ?? 0)); break;
      case "uuid": frames.push(fixedFrame(site, field.name, value, 16)); break;
      case "chunk": case "frame": frames.push(frameValue(site, field.name, value)); break;
      case "msg": frames.push(...msgValue(site, field.name, value, field.min ?? 0)); break;
      default: throw new EncodeError("BadType", site.model, site.message, field.name, `${field.type} cannot travel in frame-per-field framing`);
    }
  });
  if (message.fields.length === schema.headerFields && schema.command === "frame") frames.push(Buffer.of(message.id));
  return frames;
}

/**
 * Decodes one complete multipart message. Throws {@link MalformedError} unless the frames are exactly one
 * valid message.
 */
export function decodeDynamic(schema: CodecSchema, frames: readonly Uint8Array[]): DynamicMessage {
  return schema.framing === "frames" ? decodeFrames(schema, frames) : decodeBinary(schema, frames);
}

/** Reads a body field at `at`; it ends at `at` + {@link fixedWidth} or, for variable-size types, at `readEnd()`. */
function readBody(site: DecodeSite, field: FieldSchema, buffer: Buffer, at: number): unknown {
  switch (field.type) {
    case "number":
      switch (field.size as NumberSize) {
        case 1: return readNumber1(site, field.name, buffer, at);
        case 2: return readNumber2(site, field.name, buffer, at);
        case 4: return readNumber4(site, field.name, buffer, at);
        case 8: return readNumber8(site, field.name, buffer, at);
      }
      break;
    case "octets": case "uuid": return readOctets(site, field.name, buffer, at, fixedWidth(field) ?? 0);
    case "string": return readString(site, field.name, buffer, at);
    case "longstr": return readLongstr(site, field.name, buffer, at);
    case "strings": return readStrings(site, field.name, buffer, at);
    case "hash": return readHash(site, field.name, buffer, at);
    case "shortstrings": return readShortstrings(site, field.name, buffer, at);
    case "dictionary": return readDictionary(site, field.name, buffer, at);
    case "chunk": return readChunk(site, field.name, buffer, at);
    case "frame": case "msg": return undefined;
  }
}

/** Octets of a fixed-width body field, or undefined for variable-size types. */
function fixedWidth(field: FieldSchema): number | undefined {
  switch (field.type) {
    case "number": case "octets": return field.size ?? 0;
    case "uuid": return 16;
    default: return undefined;
  }
}

/** Checks a constant body field at `at`; returns the offset after it. */
function readConstant(site: DecodeSite, field: FieldSchema, buffer: Buffer, at: number): number {
  if (field.type === "number") {
    readConstantNumber(site, field.name, buffer, at, field.size as NumberSize, field.value as number | bigint);
    return at + (field.size as NumberSize);
  }
  readConstantString(site, field.name, buffer, at, Buffer.from(field.value as string, "utf8"));
  return readEnd();
}

function decodeBinary(schema: CodecSchema, frames: readonly Uint8Array[]): DynamicMessage {
  const pubsub = schema.framing === "pubsub";
  let body: Buffer;
  if (pubsub) body = pubsubBody(schema.model, frames);
  else {
    const [signature0, signature1] = signatureOctets(schema);
    body = binaryBody(schema.model, frames, signature0, signature1);
  }
  const idAt = pubsub ? 0 : 2;
  const message = schema.messages.find((candidate) => candidate.id === body[idAt]);
  if (message === undefined) throw unknownId(schema.model, body, idAt);
  const site: DecodeSite = { model: schema.model, message: message.name, id: message.id };
  const result: Record<string, unknown> = { message: message.key };
  let at = idAt + 1;
  if (pubsub) {
    result.topic = readTopic(site, body, at);
    at = readEnd();
  }
  for (const field of message.fields) {
    if (field.value !== undefined) at = readConstant(site, field, body, at);
    else if (field.type !== "frame" && field.type !== "msg") {
      result[field.key] = readBody(site, field, body, at);
      const width = fixedWidth(field);
      at = width === undefined ? readEnd() : at + width;
    }
  }
  endOfBody(site, body, at);
  let index = 1;
  for (const field of message.fields) {
    if (field.type === "frame") result[field.key] = frameField(site, field.name, frames, index++);
    else if (field.type === "msg") {
      result[field.key] = restFrames(site, field.name, frames, index, field.min ?? 0);
      index = frames.length;
    }
  }
  noMoreFrames(site, frames, index);
  return result as DynamicMessage;
}

function decodeFrames(schema: CodecSchema, frames: readonly Uint8Array[]): DynamicMessage {
  const reader = new FrameReader(schema.model, frames);
  const readHeader = (fields: readonly FieldSchema[], into: Record<string, unknown>): void => {
    for (const field of fields) readFrameField(reader, field, into, true);
  };
  const header: Record<string, unknown> = {};
  const first = schema.messages[0];
  // Without a command frame the model has one message: errors in the header frames name it too.
  if (schema.command === "none") reader.begin(first.name, first.id);
  readHeader(first.fields.slice(0, schema.headerFields), header);
  let message = first;
  if (schema.command === "frame") {
    const id = reader.command();
    const found = schema.messages.find((candidate) => candidate.id === id);
    if (found === undefined) throw reader.unknownId(id);
    message = found;
  }
  reader.begin(message.name, message.id);
  const result: Record<string, unknown> = { message: message.key, ...header };
  for (const field of message.fields.slice(schema.headerFields)) readFrameField(reader, field, result, false);
  reader.end();
  return result as DynamicMessage;
}

function readFrameField(reader: FrameReader, field: FieldSchema, into: Record<string, unknown>, identifiesProtocol: boolean): void {
  if (field.value !== undefined) {
    if (field.type === "number") reader.constantNumber(field.name, field.size as NumberSize, field.value as number | bigint);
    else reader.constant(field.name, Buffer.from(field.value as string, "utf8"), identifiesProtocol);
    return;
  }
  switch (field.type) {
    case "number": into[field.key] = reader.number(field.name, field.size as NumberSize); break;
    case "string": into[field.key] = reader.text(field.name, 255); break;
    case "longstr": into[field.key] = reader.text(field.name, 0xffffffff); break;
    case "octets": into[field.key] = reader.fixed(field.name, field.size ?? 0); break;
    case "uuid": into[field.key] = reader.fixed(field.name, 16); break;
    case "chunk": case "frame": into[field.key] = reader.bytes(field.name); break;
    case "msg": into[field.key] = reader.rest(field.name, field.min ?? 0); break;
    default: throw reader.error("UnexpectedFrame", field.name, `${field.type} cannot travel in frame-per-field framing`);
  }
}

/** A codec that interprets `schema`: what a generated codec does, without generating it. */
export function dynamicCodec(schema: CodecSchema): Codec<DynamicMessage, DynamicMessage> {
  return {
    schema,
    encode: (message) => encodeDynamic(schema, message),
    decode: (frames) => decodeDynamic(schema, frames),
  };
}
