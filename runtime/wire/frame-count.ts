/**
 * How many frames a message of a codec can have. A receiver checks this before decoding, so that a message of
 * millions of frames is refused by counting them rather than by walking them.
 */
import { MalformedError } from "./errors.js";
import { counted } from "./plural.js";
import type { CodecSchema, MessageSchema } from "./schema.js";

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

/** The error for a message of `count` frames where no message of the codec has more than `limit`. */
export function tooManyFrames(schema: CodecSchema, count: number, limit: number): MalformedError {
  return new MalformedError({
    kind: "UnexpectedFrame", model: schema.model, messageName: null, id: null, field: null, frame: limit, offset: 0,
    detail: `message of ${counted(count, "frame")} refused undecoded: no message of this protocol has more than ${limit}`,
  });
}
