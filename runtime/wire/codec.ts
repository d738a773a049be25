/**
 * What every codec offers, generated or interpreted, and the ROUTER helper that carries a routing id beside
 * a message (the routing id is never part of the codec bytes, `spec/wire.md` §5).
 */
import { MalformedError } from "./errors.js";
import { findMessage, type CodecSchema } from "./schema.js";
import { readUtf8 } from "./text.js";
import { toBuffer } from "./writer.js";

/** Any decoded message: a discriminated union member. */
export interface AnyMessage {
  readonly message: string;
}

/**
 * What an encoder accepts for message type `M`: the discriminant plus any subset of its fields. A field left
 * out is "unset" and travels as its type's unset encoding.
 */
export type Draft<M extends AnyMessage> = M extends AnyMessage ? { readonly message: M["message"] } & Partial<Omit<M, "message">> : never;

/** What engines need of a codec: messages to frames and back (a codec, or a union of codecs). */
export interface FrameCodec<M extends AnyMessage, D = Draft<M>> {
  /** Frames of one message. Throws `EncodeError` for values the wire cannot carry. */
  encode(message: D): Buffer[];
  /** One complete multipart message. Throws `MalformedError` unless it is exactly one valid message. */
  decode(frames: readonly Uint8Array[]): M;
}

/** A codec for one model. */
export interface Codec<M extends AnyMessage, D = Draft<M>> extends FrameCodec<M, D> {
  readonly schema: CodecSchema;
}

/** A message with the routing id of the ROUTER peer it came from or goes to. */
export interface Routed<M> {
  readonly routingId: Buffer;
  readonly message: M;
}

/** Frames for a ROUTER socket: the routing id, then the message. */
export function toRouterFrames<M extends AnyMessage, D>(codec: Codec<M, D>, routingId: Uint8Array, message: D): Buffer[] {
  const frames = codec.encode(message);
  frames.unshift(toBuffer(routingId));
  return frames;
}

/**
 * The SUB subscription prefix for messages with this id on a topic: the id octet then the topic octets, no
 * NUL, so it also matches longer topics (`spec/wire.md` §7). Without a message it is the empty prefix, which
 * subscribes to everything.
 */
export function subscriptionPrefix(schema: CodecSchema, message?: string, topic = ""): Buffer {
  if (message === undefined) {
    if (topic !== "") throw new Error(`${schema.model}: a topic subscription needs a message (the id comes first on the wire)`);
    return Buffer.alloc(0);
  }
  const found = findMessage(schema, message);
  if (found === undefined) throw new Error(`${schema.model}: unknown message ${JSON.stringify(message)}`);
  return Buffer.concat([Buffer.of(found.id), Buffer.from(topic, "utf8")]);
}

/** What a peer asked for, as an XPUB socket reports it. */
export interface SubscriptionNotice {
  /** True for a subscription, false when the peer unsubscribed. */
  readonly subscribe: boolean;
  /** The message key, or null for the empty prefix (everything). */
  readonly message: string | null;
  /** The topic prefix (possibly empty). */
  readonly topic: string;
}

/**
 * Reads a subscription notification an XPUB socket receives: `flag · id · topic` (`spec/wire.md` §7). Throws
 * `MalformedError` for a frame that is not one: no flag, a flag other than 0/1, an unknown id, or a topic
 * that is not UTF-8 text.
 */
export function readSubscription(schema: CodecSchema, frame: Uint8Array): SubscriptionNotice {
  const fail = (kind: "Truncated" | "BadConstant" | "UnknownId" | "InvalidText", field: string, offset: number, detail: string): never => {
    throw new MalformedError({ kind, model: schema.model, messageName: null, id: null, field, frame: 0, offset, detail });
  };
  if (frame.length === 0) fail("Truncated", "subscribe flag", 0, "a subscription notification has at least its flag octet");
  const flag = frame[0];
  if (flag > 1) fail("BadConstant", "subscribe flag", 0, `flag is ${flag}; 1 subscribes, 0 unsubscribes`);
  if (frame.length === 1) return { subscribe: flag === 1, message: null, topic: "" };
  const found = schema.messages.find((candidate) => candidate.id === frame[1]);
  if (found === undefined) return fail("UnknownId", "id", 1, `unknown message id ${frame[1]}`);
  const topic = readUtf8(toBuffer(frame), 2, frame.length);
  if (topic === null) fail("InvalidText", "topic", 2, "topic is not valid UTF-8 text without NUL");
  return { subscribe: flag === 1, message: found.key, topic: topic as string };
}

/** Splits what a ROUTER socket received into routing id and decoded message. */
export function fromRouterFrames<M extends AnyMessage, D>(codec: Codec<M, D>, frames: readonly Uint8Array[]): Routed<M> {
  if (frames.length < 2) {
    throw new MalformedError({
      kind: "Truncated", model: codec.schema.model, messageName: null, id: null, field: "routing id",
      frame: frames.length, offset: 0, detail: "no message frames after the routing id",
    });
  }
  return { routingId: toBuffer(frames[0]), message: codec.decode(frames.slice(1)) };
}
