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

/** One step of an action list. */
export type StepIR =
  | { readonly kind: "send"; readonly message: MessageIR }
  | { readonly kind: "terminate" }
  | { readonly kind: "call"; readonly action: string; readonly method: string };

/** What a state does on one event (after inheritance). */
export interface HandlerIR {
  /** Normalised event name, or `*`. */
  readonly event: string;
  readonly next?: string;
  readonly steps: readonly StepIR[];
  /** The state that defines this handler (itself, or a superstate). */
  readonly definedIn: string;
}

/** One state, with the handlers of its superstates copied in after its own. */
export interface StateIR {
  readonly name: string;
  readonly doc: string;
  readonly inherits?: string;
  readonly handlers: readonly HandlerIR[];
  readonly before: readonly StepIR[];
  readonly after: readonly StepIR[];
}

/** An event some state handles or some action raises. */
export interface EventIR {
  readonly name: string;
  /** message: a protocol message; engine: raised by the engine (timers, malformed, methods); internal: by actions. */
  readonly kind: "message" | "engine" | "internal";
  readonly message?: MessageIR;
}

/** A user action, with where it runs (for its documentation and the type of the message it sees). */
export interface ActionIR {
  readonly name: string;
  readonly method: string;
  readonly usages: readonly { readonly state: string; readonly event: string }[];
  /** Type names of the messages it can see as its request, or null when it also runs on other events. */
  readonly requestTypes: readonly string[] | null;
}

/** An argument of a client method or a field of a reply. */
export interface ArgIR {
  readonly name: string;
  readonly key: string;
  /** The type as the model writes it (`string`, `msg`, ...). */
  readonly type: string;
  readonly tsType: string;
  readonly doc: string;
}

/** A client API method: an internal event plus the replies it waits for. */
export interface MethodIR {
  readonly name: string;
  readonly event: string;
  readonly functionName: string;
  readonly doc: string;
  readonly args: readonly ArgIR[];
  readonly accepts: readonly string[];
  /**
   * The reply field a call resolves with (`return`, or the msg field with `virtual="1"`), and its type over
   * every accepted reply that is not a failure (`| undefined` where one of them lacks it).
   */
  readonly returns?: { readonly key: string; readonly tsType: string };
  /** Raises no event: the call only waits for an accepted reply. */
  readonly immediate: boolean;
}

/** A reply the client engine gives a waiting method call. */
export interface ReplyIR {
  readonly name: string;
  readonly typeName: string;
  readonly doc: string;
  readonly fields: readonly ArgIR[];
  readonly failure: boolean;
}

/** A protocol a machine speaks, and where its generated codec is. */
export interface ProtocolLinkIR {
  readonly codec: CodecIR;
  /** Module specifier of the generated codec, relative to the machine's generated file. */
  readonly importPath: string;
}

/** A server or client state machine model. */
export interface MachineIR {
  readonly kind: "server" | "client";
  readonly source: string;
  readonly name: string;
  readonly className: string;
  /** TypeScript class name (`HelloServer`). */
  readonly typeName: string;
  readonly title: string;
  readonly doc: string;
  readonly license: string;
  /** The (first) protocol the machine speaks. */
  readonly protocol: CodecIR;
  /** Module specifier of the protocol's generated codec, relative to this machine's generated file. */
  readonly protocolImport: string;
  /** Every protocol the machine speaks, in the order `protocol_class` names them (several share one socket). */
  readonly protocols: readonly ProtocolLinkIR[];
  readonly states: readonly StateIR[];
  readonly events: readonly EventIR[];
  readonly actions: readonly ActionIR[];
  readonly methods: readonly MethodIR[];
  readonly replies: readonly ReplyIR[];
  /** `<send>`: API methods that send a protocol message without an event. */
  readonly sends: readonly { readonly message: MessageIR; readonly functionName: string }[];
  /** `<recv>`: messages actions deliver to the application. */
  readonly receives: readonly MessageIR[];
  /** `max_message_size`: the largest frame, in octets, the engine lets a peer send. */
  readonly maxMessageSize?: number;
}
