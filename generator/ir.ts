/**
 * The validated, normalised form of a codec model: the only thing emitters and templates see. Ids are
 * resolved, names normalised, composite types flattened, define values substituted and header fields put in
 * place. No XML shapes appear here.
 */
import type { FieldType, Framing } from "../runtime/wire/schema.js";

/** A `<define>`: a named constant exported as `<CLASS>_<NAME>`. */
export interface DefineIR {
  /** Name as written. */
  readonly name: string;
  /** Exported constant name (`FMQ_MSG_FILE_CREATE`). */
  readonly constName: string;
  readonly value: number | string;
  readonly doc: string;
}

/** One field of one message, after flattening. */
export interface FieldIR {
  /** Normalised name (`public_key`). */
  readonly name: string;
  /** TypeScript property name (`publicKey`). */
  readonly key: string;
  readonly type: FieldType;
  /** Octet width of `number` and `octets`. */
  readonly size?: number;
  /** Resolved constant value. */
  readonly value?: number | bigint | string;
  /** The constant as written in the model (a define name, say), for documentation. */
  readonly valueText?: string;
  readonly secret: boolean;
  /** Minimum frames of a `msg` field. */
  readonly min?: number;
  readonly doc: string;
  /** Comes from the model's `<header>`. */
  readonly header: boolean;
  /** `<test>` values: text items, or key/value entries for hashes. */
  readonly tests: readonly { readonly name?: string; readonly text: string }[];
}

/** One message. */
export interface MessageIR {
  /** Name as written (`OHAI-OK`). */
  readonly name: string;
  /** Normalised name (`OHAI_OK`), the TypeScript discriminant. */
  readonly key: string;
  /** Constant name of the id (`FMQ_MSG_OHAI_OK`). */
  readonly constName: string;
  /** TypeScript type name (`OhaiOk`). */
  readonly typeName: string;
  /** Constructor function name (`ohaiOk`). */
  readonly functionName: string;
  readonly id: number;
  readonly doc: string;
  readonly role?: "client" | "server";
  /** Upper-case hex SHA-1 of the body frame built from the `<test>` values, when the model gives one. */
  readonly digest?: string;
  /** Fields in wire order, header fields first. */
  readonly fields: readonly FieldIR[];
}

/** A whole codec model. */
export interface CodecIR {
  readonly kind: "codec";
  /** Model file, as shown to users. */
  readonly source: string;
  /** Class name as written. */
  readonly name: string;
  /** Normalised class name (`fmq_msg`). */
  readonly className: string;
  /** Prefix of exported constants (`FMQ_MSG`). */
  readonly constPrefix: string;
  /** TypeScript name of the message union (`FmqMsg`). */
  readonly unionName: string;
  readonly title: string;
  readonly doc: string;
  readonly license: string;
  readonly signature: number;
  readonly framing: Framing;
  readonly command: "frame" | "none";
  /** Number of header fields at the start of every message. */
  readonly headerFields: number;
  readonly defines: readonly DefineIR[];
  readonly messages: readonly MessageIR[];
  /** Custom top-level ABNF rule from `<grammar>`, if any. */
  readonly grammar?: string;
}
