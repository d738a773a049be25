/**
 * The codec runtime: wire primitives shared by generated codecs and the schema interpreter.
 * @packageDocumentation
 */
export {
  MalformedError, EncodeError, type MalformedKind, type MalformedDetails, type EncodeKind, type EncodeSite, type DecodeSite,
} from "./errors.js";
export {
  toBuffer, textSize, stringBound, longstrBound, stringsBound, hashBound, shortstringsBound, dictionaryBound, chunkBound,
  fixedBytesSize, fixedBytes, frameValue, msgValue, topicBound, unknownMessage, reserveFrame, reservedOffset, reservedView, takeFrame,
  writeHeader, writeTopicHeader, isNumber1, isNumber2, isNumber4, isNumber8, numberError, setNumber8, writeNumber, writeString,
  writeLongstr, writeStrings, writeHash, writeShortstrings, writeDictionary, writeChunk, writeOctets, type Bytes,
} from "./writer.js";
export {
  readEnd, malformed, binaryBody, pubsubBody, unknownId, readTopic, readNumber1, readNumber2, readNumber4, readNumber8,
  readConstantNumber, readConstantString, readString, readLongstr, readStrings, readHash, readShortstrings, readDictionary, readChunk,
  readOctets, endOfBody, frameField, restFrames, noMoreFrames,
} from "./reader.js";
export { FrameReader, textFrame, numberFrame, fixedFrame } from "./frames.js";
export { utf8Length, shortTextBound, readUtf8, writeText } from "./text.js";
export {
  findMessage, isSettable, signatureOctets, type CodecSchema, type MessageSchema, type FieldSchema, type FieldType,
  type Framing, type NumberSize,
} from "./schema.js";
export { encodeDynamic, decodeDynamic, dynamicCodec, unsetValue, type DynamicMessage } from "./interpret.js";
export { toJsonForm, fromJsonForm, fieldToJson, JsonFormError, type Json, type JsonMessage } from "./json.js";
export {
  toZplForm, printZplForm, readZplForm, fromZplForm, fromZplFormRouted, zplMessageName, ZplFormError, type ZplFormOptions,
  type ZplFormContents, type ZplFormErrorKind,
} from "./zpl-form.js";
// The ZPL tree types the ZPL form's signatures use, so that code importing only this module can name them.
export type { ZplNode, ZplNodeData } from "../zpl/tree.js";
export { bytesToHex, hexToBytes, decimalToBigint } from "./notation.js";
export { toRouterFrames, fromRouterFrames, subscriptionPrefix, readSubscription, type SubscriptionNotice, type AnyMessage, type Draft, type Codec, type FrameCodec, type Routed } from "./codec.js";
export { UnionCodec, unionCodec, unionProblems, type AnyCodec, type MessageOf, type DraftOf } from "./union.js";
export { maxFrameCount, maxFramesOf, tooManyFrames } from "./frame-count.js";
