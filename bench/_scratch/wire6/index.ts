/**
 * The codec runtime: wire primitives shared by generated codecs and the schema interpreter.
 * @packageDocumentation
 */
export { MalformedError, EncodeError, type MalformedKind, type MalformedDetails, type EncodeKind } from "./errors.js";
export {
  Writer, toBuffer, textSize, stringSize, longstrSize, stringsSize, hashSize, shortstringsSize, dictionarySize,
  chunkSize, stringBound, hashBound, fixedBytesSize, fixedBytes, frameValue, msgValue, topicSize, unknownMessage, type EncodeSite,
} from "./writer.js";
export { Reader } from "./reader.js";
export { FrameReader, textFrame, numberFrame, fixedFrame } from "./frames.js";
export { utf8Length, readUtf8, writeUtf8 } from "./text.js";
export {
  findMessage, isSettable, signatureOctets, type CodecSchema, type MessageSchema, type FieldSchema, type FieldType,
  type Framing, type NumberSize,
} from "./schema.js";
export { encodeDynamic, decodeDynamic, unsetValue, type DynamicMessage } from "./interpret.js";
export { toJsonForm, fromJsonForm, fieldToJson, JsonFormError, type Json, type JsonMessage } from "./json.js";
export { toRouterFrames, fromRouterFrames, subscriptionPrefix, type AnyMessage, type Draft, type Codec, type Routed } from "./codec.js";
