/**
 * Typed errors of the codec runtime. Decoding failures are {@link MalformedError}s, encoding refusals are
 * {@link EncodeError}s; both carry the model, message and field they concern so that a user can act on them.
 */

/** Who is being encoded: used only to word errors. */
export interface EncodeSite {
  readonly model: string;
  readonly message: string;
}

/** What is being decoded, as far as it is known: used only to word errors. */
export interface DecodeSite {
  readonly model: string;
  /** Message name as written in the model, once the id is known. */
  readonly message: string | null;
  /** Message id, once read. */
  readonly id: number | null;
}

/** Why a frame sequence was rejected by a strict decoder (`spec/wire.md` §9.2). */
export type MalformedKind =
  | "Truncated"
  | "BadSignature"
  | "UnknownId"
  | "Overrun"
  | "BadConstant"
  | "InvalidText"
  | "DuplicateKey"
  | "InvalidEntry"
  | "TrailingBytes"
  | "MissingFrame"
  | "UnexpectedFrame";

/** Where and why decoding failed. */
export interface MalformedDetails {
  readonly kind: MalformedKind;
  /** Codec model (class name). */
  readonly model: string;
  /** Message name as written in the model, or null when the id was not known yet. */
  readonly messageName: string | null;
  /** Message id, or null when it could not be read. */
  readonly id: number | null;
  /** Field name (normalised), or null for whole-message problems. */
  readonly field: string | null;
  /** Index of the frame where the problem is. */
  readonly frame: number;
  /** Octet offset in that frame. */
  readonly offset: number;
  readonly expected?: string;
  readonly actual?: string;
  /** A sentence describing the problem. */
  readonly detail: string;
}

function locate(model: string, messageName: string | null, field: string | null): string {
  let where = model + ": ";
  if (messageName !== null) where += field !== null ? `${messageName}.${field}: ` : `${messageName}: `;
  else if (field !== null) where += `${field}: `;
  return where;
}

/**
 * Thrown by every decoder when frames do not form one complete, valid message. A decoder never returns a
 * partially filled message. (`messageName` holds the message name because `message` is the error text.)
 */
export class MalformedError extends Error implements MalformedDetails {
  readonly kind: MalformedKind;
  readonly model: string;
  readonly messageName: string | null;
  readonly id: number | null;
  readonly field: string | null;
  readonly frame: number;
  readonly offset: number;
  readonly expected?: string;
  readonly actual?: string;
  readonly detail: string;

  constructor(details: MalformedDetails) {
    super(`${locate(details.model, details.messageName, details.field)}${details.detail}`);
    this.name = "MalformedError";
    this.kind = details.kind;
    this.model = details.model;
    this.messageName = details.messageName;
    this.id = details.id;
    this.field = details.field;
    this.frame = details.frame;
    this.offset = details.offset;
    if (details.expected !== undefined) this.expected = details.expected;
    if (details.actual !== undefined) this.actual = details.actual;
    this.detail = details.detail;
  }
}

/** Why a message could not be encoded (`spec/wire.md` §10). */
export type EncodeKind =
  | "UnknownMessage"
  | "OutOfRange"
  | "BadType"
  | "BadLength"
  | "TooLong"
  | "TooMany"
  | "TooFew"
  | "InvalidText"
  | "InvalidEntry"
  | "MissingTopic";

/** Thrown before any octet is produced when a message cannot travel on the wire as given. */
export class EncodeError extends Error {
  readonly kind: EncodeKind;
  readonly model: string;
  readonly messageName: string | null;
  readonly field: string | null;
  readonly detail: string;

  constructor(kind: EncodeKind, model: string, messageName: string | null, field: string | null, detail: string) {
    super(`${locate(model, messageName, field)}${detail}`);
    this.name = "EncodeError";
    this.kind = kind;
    this.model = model;
    this.messageName = messageName;
    this.field = field;
    this.detail = detail;
  }
}
