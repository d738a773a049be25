/**
 * How many frames a message of a codec can have. A receiver checks this before decoding, so that a message of
 * millions of frames is refused by counting them rather than by walking them.
 */
import type { AnyMessage, Codec, FrameCodec } from "./codec.js";
import { MalformedError } from "./errors.js";
import { plural } from "./plural.js";
import type { CodecSchema, MessageSchema } from "./schema.js";
import { UnionCodec } from "./union.js";

/** Frames of one message: the body frame or the command frame, plus one per frame field. */
function messageFrames(schema: CodecSchema, message: MessageSchema): number {
  if (schema.framing === "frames") return message.fields.length + (schema.command === "frame" ? 1 : 0);
  return 1 + message.fields.filter((field) => field.type === "frame").length;
}

/** The most frames any message of the codec has, or undefined when a `msg` field makes the count open. */
export function maxFrameCount(schema: CodecSchema): number | undefined {
  if (schema.messages.some((message) => message.fields.some((field) => field.type === "msg"))) return undefined;
  return Math.max(1, ...schema.messages.map((message) => messageFrames(schema, message)));
}

/** Whether an engine's codec is one model's (and so has a schema). */
function isCodec(codec: FrameCodec<AnyMessage, never>): codec is Codec<AnyMessage, never> {
  return (codec as Partial<Codec<AnyMessage, never>>).schema !== undefined;
}

/** The schemas behind an engine's codec: its own, or each protocol's of a union; none when it has none. */
function schemasOf(codec: FrameCodec<AnyMessage, never>): readonly CodecSchema[] {
  if (codec instanceof UnionCodec) return codec.members.map((member) => member.schema);
  return isCodec(codec) ? [codec.schema] : [];
}

/**
 * The most frames a message of an engine's codec has: of its schema, or of every protocol of a union (open
 * when one of them is open, or when the codec says nothing of its schemas).
 */
export function maxFramesOf(codec: FrameCodec<AnyMessage, never>): number | undefined {
  const counts = schemasOf(codec).map(maxFrameCount);
  if (counts.length === 0 || counts.includes(undefined)) return undefined;
  return Math.max(...(counts as number[]));
}

/** The error for a message of `count` frames where no message of the codec has more than `limit`. */
export function tooManyFrames(codec: FrameCodec<AnyMessage, never>, count: number, limit: number): MalformedError {
  const model = codec instanceof UnionCodec ? codec.name : isCodec(codec) ? codec.schema.model : "";
  return new MalformedError({
    kind: "UnexpectedFrame", model, messageName: null, id: null, field: null, frame: limit, offset: 0,
    detail: `message of ${plural(count, "frame")} refused undecoded: no message of this protocol has more than ${limit}`,
  });
}
