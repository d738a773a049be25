/**
 * The wire part of a codec model as plain data. The generator derives it from the validated model; the
 * runtime interprets it (`zproto encode|decode --jsonl`, JSON and printed forms) and generated codecs embed
 * it next to their specialised encoders and decoders.
 */

/** Every field type of the codec model language (`spec/models.md` §2.4). */
export type FieldType =
  | "number"
  | "octets"
  | "string"
  | "longstr"
  | "strings"
  | "hash"
  | "chunk"
  | "uuid"
  | "frame"
  | "msg"
  | "dictionary"
  | "shortstrings";

/** Widths a `number` field can have. */
export type NumberSize = 1 | 2 | 4 | 8;

/** One field, after composite types were flattened and header fields put in place. */
export interface FieldSchema {
  /** Normalised name (`public_key`): JSON keys, ZPL form. */
  readonly name: string;
  /** TypeScript property name (`publicKey`). */
  readonly key: string;
  readonly type: FieldType;
  /** Octet width of `number` and `octets` fields. */
  readonly size?: number;
  /** Constant value: the field is written as this and checked on decode. */
  readonly value?: number | bigint | string;
  /** Never printed in traces or logs. */
  readonly secret?: boolean;
  /** Minimum number of frames of a `msg` field. */
  readonly min?: number;
}

/** One message of a codec model. */
export interface MessageSchema {
  /** Name as written in the model (`OHAI-OK`): JSON form. */
  readonly name: string;
  /** Normalised name (`OHAI_OK`): the `message` discriminant of TypeScript values. */
  readonly key: string;
  readonly id: number;
  /** Fields in wire order, header fields first. */
  readonly fields: readonly FieldSchema[];
}

/**
 * How messages sit in frames: `binary` (signature, id, packed body), `pubsub` (id, topic, NUL, body) or
 * `frames` (one frame per field, `spec/wire.md` §7a).
 */
export type Framing = "binary" | "pubsub" | "frames";

/** A whole codec. */
export interface CodecSchema {
  /** Class name. */
  readonly model: string;
  readonly signature: number;
  readonly framing: Framing;
  /** Frame-per-field framing only: whether a one-octet command frame carries the id. */
  readonly command: "frame" | "none";
  /** How many leading fields of every message come from the model's `<header>`. */
  readonly headerFields: number;
  readonly messages: readonly MessageSchema[];
}

/** Whether a field is written from a value (constants are not). */
export function isSettable(field: FieldSchema): boolean {
  return field.value === undefined;
}

/** Finds a message by normalised key or by its name as written. */
export function findMessage(schema: CodecSchema, name: string): MessageSchema | undefined {
  return schema.messages.find((message) => message.key === name || message.name === name);
}

/** The two signature octets of a binary codec. */
export function signatureOctets(schema: CodecSchema): [number, number] {
  return [0xaa, 0xa0 | schema.signature];
}
