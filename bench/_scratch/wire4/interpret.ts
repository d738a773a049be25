/**
 * Encodes and decodes messages of any codec schema without generated code. This is what
 * `zproto encode|decode --jsonl` runs on a model file; generated codecs do the same work specialised per
 * message, on the same primitives.
 */
import { EncodeError } from "./errors.js";
import { FrameReader, fixedFrame, numberFrame, textFrame } from "./frames.js";
import { Reader } from "./reader.js";
import { findMessage, signatureOctets, type CodecSchema, type FieldSchema, type MessageSchema, type NumberSize } from "./schema.js";
import {
  Writer, chunkSize, dictionarySize, fixedBytesSize, frameValue, hashSize, longstrSize, msgValue, shortstringsSize,
  stringSize, stringsSize, topicSize, type EncodeSite,
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
  const message = messageFor(schema, draft.message);
  const site: EncodeSite = { model: schema.model, message: message.name };
  return schema.framing === "frames" ? encodeFrames(schema, message, site, draft) : encodeBinary(schema, message, site, draft);
}

function bodySize(site: EncodeSite, field: FieldSchema, value: unknown): number {
  switch (field.type) {
    case "number": return field.size ?? 1;
    case "octets": return fixedBytesSize(site, field.name, value, field.size ?? 0);
    case "uuid": return fixedBytesSize(site, field.name, value, 16);
    case "string": return stringSize(site, field.name, value);
    case "longstr": return longstrSize(site, field.name, value);
    case "strings": return stringsSize(site, field.name, value);
    case "hash": return hashSize(site, field.name, value);
    case "shortstrings": return shortstringsSize(site, field.name, value);
    case "dictionary": return dictionarySize(site, field.name, value);
    case "chunk": return chunkSize(site, field.name, value);
    case "frame": case "msg": return 0;
  }
}

function writeNumber(writer: Writer, field: FieldSchema, value: unknown): void {
  switch (field.size as NumberSize) {
    case 1: return writer.number1(value, field.name);
    case 2: return writer.number2(value, field.name);
    case 4: return writer.number4(value, field.name);
    case 8: return writer.number8(value, field.name);
  }
}

function writeBody(writer: Writer, field: FieldSchema, value: unknown): void {
  switch (field.type) {
    case "number": return writeNumber(writer, field, value);
    case "octets": case "uuid": return writer.octets(value as Uint8Array, field.type === "uuid" ? 16 : field.size ?? 0);
    case "string": return writer.string(value as string);
    case "longstr": return writer.longstr(value as string);
    case "strings": return writer.strings(value as string[]);
    case "hash": return writer.hash(value as Map<string, string>);
    case "shortstrings": return writer.shortstrings(value as string[]);
    case "dictionary": return writer.dictionary(value as Map<string, string>);
    case "chunk": return writer.chunk(value as Uint8Array);
    case "frame": case "msg": return;
  }
}

function encodeBinary(schema: CodecSchema, message: MessageSchema, site: EncodeSite, draft: DynamicMessage): Buffer[] {
  const values = message.fields.map((field) => (field.value !== undefined ? field.value : valueOf(field, draft)));
  let size = schema.framing === "pubsub" ? 1 + topicSize(site, draft.topic) : 3;
  message.fields.forEach((field, i) => { size += bodySize(site, field, values[i]); });
  const writer = new Writer(site, size);
  if (schema.framing === "pubsub") writer.topicHeader(message.id, draft.topic as string);
  else {
    const [signature0, signature1] = signatureOctets(schema);
    writer.header(signature0, signature1, message.id);
  }
  message.fields.forEach((field, i) => writeBody(writer, field, values[i]));
  const frames = [writer.finish()];
  message.fields.forEach((field, i) => {
    if (field.type === "frame") frames.push(frameValue(site, field.name, values[i]));
    else if (field.type === "msg") frames.push(...msgValue(site, field.name, values[i], field.min ?? 0));
  });
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

function readNumber(reader: Reader, field: FieldSchema): number | bigint {
  switch (field.size as NumberSize) {
    case 1: return reader.number1(field.name);
    case 2: return reader.number2(field.name);
    case 4: return reader.number4(field.name);
    case 8: return reader.number8(field.name);
  }
}

function readBody(reader: Reader, field: FieldSchema): unknown {
  switch (field.type) {
    case "number": return readNumber(reader, field);
    case "octets": return reader.octets(field.name, field.size ?? 0);
    case "uuid": return reader.octets(field.name, 16);
    case "string": return reader.string(field.name);
    case "longstr": return reader.longstr(field.name);
    case "strings": return reader.strings(field.name);
    case "hash": return reader.hash(field.name);
    case "shortstrings": return reader.shortstrings(field.name);
    case "dictionary": return reader.dictionary(field.name);
    case "chunk": return reader.chunk(field.name);
    case "frame": case "msg": return undefined;
  }
}

function readConstant(reader: Reader, field: FieldSchema): void {
  if (field.type === "number") reader.constantNumber(field.name, field.size as NumberSize, field.value as number | bigint);
  else reader.constantString(field.name, Buffer.from(field.value as string, "utf8"));
}

function decodeBinary(schema: CodecSchema, frames: readonly Uint8Array[]): DynamicMessage {
  const reader = new Reader(schema.model, frames);
  let topic: string | undefined;
  if (schema.framing === "pubsub") {
    if (frames.length === 0) throw reader.error("Truncated", "id", "no frames");
  } else {
    const [signature0, signature1] = signatureOctets(schema);
    reader.signature(signature0, signature1);
  }
  const id = reader.messageId();
  const message = schema.messages.find((candidate) => candidate.id === id);
  if (message === undefined) throw reader.unknownId(id);
  reader.begin(message.name);
  if (schema.framing === "pubsub") topic = reader.topic();
  const result: Record<string, unknown> = { message: message.key };
  if (topic !== undefined) result.topic = topic;
  for (const field of message.fields) {
    if (field.value !== undefined) readConstant(reader, field);
    else if (field.type !== "frame" && field.type !== "msg") result[field.key] = readBody(reader, field);
  }
  reader.end();
  let next = 1;
  for (const field of message.fields) {
    if (field.type === "frame") result[field.key] = reader.frame(next++, field.name);
    else if (field.type === "msg") {
      result[field.key] = reader.rest(next, field.name, field.min ?? 0);
      next = frames.length;
    }
  }
  reader.frameCount(next);
  return result as DynamicMessage;
}

function decodeFrames(schema: CodecSchema, frames: readonly Uint8Array[]): DynamicMessage {
  const reader = new FrameReader(schema.model, frames);
  const readHeader = (fields: readonly FieldSchema[], into: Record<string, unknown>): void => {
    for (const field of fields) readFrameField(reader, field, into, true);
  };
  const header: Record<string, unknown> = {};
  const first = schema.messages[0];
  readHeader(first.fields.slice(0, schema.headerFields), header);
  let message = first;
  if (schema.command === "frame") {
    const id = reader.command();
    const found = schema.messages.find((candidate) => candidate.id === id);
    if (found === undefined) throw reader.unknownId(id);
    message = found;
  }
  reader.messageName = message.name;
  reader.id = message.id;
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
