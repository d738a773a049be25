/**
 * What every codec offers, generated or interpreted, and the ROUTER helper that carries a routing id beside
 * a message (the routing id is never part of the codec bytes, `spec/wire.md` §5).
 */
import { MalformedError } from "./errors.js";
import type { CodecSchema } from "./schema.js";
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

/** A codec for one model. */
export interface Codec<M extends AnyMessage, D = Draft<M>> {
  readonly schema: CodecSchema;
  /** Frames of one message. Throws `EncodeError` for values the wire cannot carry. */
  encode(message: D): Buffer[];
  /** One complete multipart message. Throws `MalformedError` unless it is exactly one valid message. */
  decode(frames: readonly Uint8Array[]): M;
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
 * NUL, so it also matches longer topics (`spec/wire.md` §7).
 */
export function subscriptionPrefix(schema: CodecSchema, message: string, topic = ""): Buffer {
  const found = schema.messages.find((candidate) => candidate.key === message || candidate.name === message);
  if (found === undefined) throw new Error(`${schema.model}: unknown message ${JSON.stringify(message)}`);
  return Buffer.concat([Buffer.of(found.id), Buffer.from(topic, "utf8")]);
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
