/**
 * The ZPL form of a message (`spec/zpl.md` §4): a message as a ZPL tree, for debugging, fixtures and logs,
 * and a message built back from one. Like the JSON form it works from the codec schema alone, so it serves
 * any model, generated or not.
 *
 * ```
 * zproto_example
 *     message = "ZPROTO_EXAMPLE_STRUCTURES"
 *     content
 *         sequence = "123"
 *         aliases
 *             0 = "First alias"
 *         headers
 *             endpoint = "tcp://localhost:5665"
 * ```
 *
 * Both directions run the message through the encoder's checks, so a form that exports always imports back,
 * and an import fails as a whole (never a partially built message) or yields what the codec decodes from
 * the frames the form encodes to: a message typed and shaped exactly as one received.
 */
import { parseZpl } from "../zpl/parse.js";
import { ZplNode, isValidZplName, type ZplNodeData } from "../zpl/tree.js";
import { ZPL_REDACTED, writeZpl } from "../zpl/write.js";
import type { AnyMessage, Codec, Routed } from "./codec.js";
import { EncodeError, type EncodeKind } from "./errors.js";
import { encodeDynamic, unsetValue, type DynamicMessage } from "./interpret.js";
import { bytesToHex, decimalToBigint, hexToBytes } from "./notation.js";
import { findMessage, isSettable, type CodecSchema, type FieldSchema, type MessageSchema } from "./schema.js";
import { toBuffer } from "./writer.js";
import { plural } from "./plural.js";

/** Options of {@link toZplForm}. */
export interface ZplFormOptions {
  /** The routing id of the ROUTER peer the message came from or goes to: printed as `routing_id`, in hex. */
  readonly routingId?: Uint8Array;
  /**
   * Print every secret field (`secret = "1"` in the model) as {@link ZPL_REDACTED}, whatever its value: for
   * logs. A redacted form does not import back (see {@link ZplFormErrorKind} `Redacted`).
   */
  readonly redact?: boolean;
}

/** What a ZPL form holds: the message and, when the form has a `routing_id`, the peer's routing id. */
export interface ZplFormContents<M extends AnyMessage = DynamicMessage> {
  readonly message: M;
  readonly routingId: Buffer | undefined;
}

/**
 * Why a ZPL form could not be made or read:
 *
 * - `NotAMessage`: the tree is not one node named after the model's class
 * - `MissingMessage`, `UnknownMessage`: no `message` key, or one naming no message of the model
 * - `MissingContent`: no `content` for a message that has fields to set
 * - `MissingTopic`, `MissingRoutingId`: a pubsub message without `topic`; a routed import without `routing_id`
 * - `UnknownKey`, `DuplicateKey`: a key the form of this message does not have, or has twice
 * - `BadStructure`: children where a value belongs or the reverse; `strings` items not numbered 0 to n-1
 * - `BadNumber`, `BadHex`, `BadFrames`: a number that is not unsigned decimal; bytes that are not hex; a
 *   `msg` value whose length prefixes do not add up
 * - `BadLength`, `OutOfRange`: octets or uuid of the wrong width; a number the field cannot carry
 * - `BadConstant`: a constant field with another value than the model's
 * - `BadValue`: any other value the wire cannot carry (a string over 255 octets, NUL in text, too few frames)
 * - `Redacted`: a secret field holding {@link ZPL_REDACTED}: the form was printed for a log
 * - `BadName`: on export, a hash key that is not a valid ZPL name (it could not be read back as one)
 */
export type ZplFormErrorKind =
  | "NotAMessage"
  | "MissingMessage"
  | "UnknownMessage"
  | "MissingContent"
  | "MissingTopic"
  | "MissingRoutingId"
  | "UnknownKey"
  | "DuplicateKey"
  | "BadStructure"
  | "BadNumber"
  | "BadHex"
  | "BadFrames"
  | "BadLength"
  | "OutOfRange"
  | "BadConstant"
  | "BadValue"
  | "Redacted"
  | "BadName";

/** Thrown when a message has no ZPL form or a ZPL tree is not the form of a message of the model. */
export class ZplFormError extends Error {
  /**
   * @param messageName - the message's name as written in the model, once known
   * @param key - the offending key, as a path below the form's root (`content/headers/endpoint`), if any
   */
  constructor(
    readonly kind: ZplFormErrorKind,
    readonly model: string,
    readonly messageName: string | null,
    readonly key: string | null,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super([model, messageName, key, detail].filter((part) => part !== null).join(": "), options);
    this.name = "ZplFormError";
  }
}

/** The `message` value of a message's ZPL form: `<CLASS>_<MESSAGE>`, upper case (`FMQ_MSG_OHAI_OK`). */
export function zplMessageName(schema: CodecSchema, message: MessageSchema): string {
  return normaliseMessageName(`${schema.model}_${message.key}`);
}

function normaliseMessageName(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, "_").toUpperCase();
}

// ---------------------------------------------------------------------------------------------------------
// Export

/**
 * The ZPL form of a message (a decoded one, or a draft whose left-out fields take their unset values), as
 * a document holding one node named after the model's class: `writeZpl` prints it. Constant fields show
 * the model's value; a `longstr` that is empty (which is what unset means on the wire) is left out.
 *
 * @throws {@link ZplFormError} for an unknown message, a value the wire cannot carry (the encoder's checks:
 *   the form of a message that cannot be sent would not import back) or a hash key that is not a valid ZPL
 *   name (`BadName`)
 */
export function toZplForm(schema: CodecSchema, message: DynamicMessage, options: ZplFormOptions = {}): ZplNode {
  const found = findMessage(schema, message.message);
  if (found === undefined) {
    throw new ZplFormError("UnknownMessage", schema.model, null, "message", `unknown message ${JSON.stringify(message.message)}`);
  }
  checkEncodable(schema, found, message);
  const form = new ZplNode(schema.model);
  form.children.push(new ZplNode("message", zplMessageName(schema, found)));
  if (options.routingId !== undefined) form.children.push(new ZplNode("routing_id", bytesToHex(options.routingId)));
  // The encoder's checks made sure a pubsub message has its topic.
  if (schema.framing === "pubsub") form.children.push(new ZplNode("topic", message.topic as string));
  if (found.fields.length > 0) {
    const content = new ZplNode("content");
    for (const field of found.fields) {
      const node = options.redact === true && field.secret === true
        ? new ZplNode(field.name, ZPL_REDACTED)
        : fieldNode(schema, found, field, field.value ?? message[field.key] ?? unsetValue(field));
      if (node !== undefined) content.children.push(node);
    }
    form.children.push(content);
  }
  return ZplNode.createRoot([form]);
}

/**
 * {@link toZplForm} as ZPL text, what `zproto print` shows.
 *
 * @throws {@link ZplFormError} as {@link toZplForm}; `ZplWriteError` naming the key for text that ZPL cannot
 *   hold (a line break, a control character, both quote characters: ZPL has no escapes)
 */
export function printZplForm(schema: CodecSchema, message: DynamicMessage, options: ZplFormOptions = {}): string {
  return writeZpl(toZplForm(schema, message, options));
}

/** The node of one field checked by the encoder, or undefined when the form leaves it out (an empty longstr). */
function fieldNode(schema: CodecSchema, message: MessageSchema, field: FieldSchema, value: unknown): ZplNode | undefined {
  switch (field.type) {
    case "number": return new ZplNode(field.name, String(value as number | bigint));
    case "octets": case "chunk": case "frame": return new ZplNode(field.name, bytesToHex(value as Uint8Array));
    case "uuid": return new ZplNode(field.name, bytesToHex(value as Uint8Array).toUpperCase());
    case "string": return new ZplNode(field.name, value as string);
    case "longstr": return value === "" ? undefined : new ZplNode(field.name, value as string);
    case "strings": case "shortstrings":
      return new ZplNode(field.name, "", (value as string[]).map((item, index) => new ZplNode(String(index), item)));
    case "hash": case "dictionary": {
      const entries: ZplNode[] = [];
      for (const [key, entry] of value as Map<string, string>) {
        if (!isValidZplName(key)) {
          throw new ZplFormError("BadName", schema.model, message.name, `content/${field.name}`,
            `the key ${JSON.stringify(key.length > 40 ? key.slice(0, 40) + "…" : key)} is not a valid ZPL name (letters, digits and $-_@.&+, '/' only inside), so it cannot be a property`);
        }
        entries.push(new ZplNode(key, entry));
      }
      return new ZplNode(field.name, "", entries);
    }
    case "msg": return new ZplNode(field.name, bytesToHex(framesToBytes(value as Uint8Array[])));
  }
}

/** Frames of a `msg` field as one value: each frame as its length (1 octet, or `FF` and 4 octets) and octets. */
function framesToBytes(frames: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const frame of frames) {
    if (frame.length < 0xff) parts.push(Buffer.of(frame.length));
    else {
      const prefix = Buffer.alloc(5);
      prefix[0] = 0xff;
      prefix.writeUInt32BE(frame.length, 1);
      parts.push(prefix);
    }
    parts.push(toBuffer(frame));
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------
// Import

/**
 * The message a ZPL form describes, decoded by `codec` from the frames it encodes to (so it has the codec's
 * message type; `dynamicCodec(schema)` serves any schema), and the routing id when the form has one. The
 * form may be text, a parsed document holding one message's node, or that node itself (one of the
 * top-level nodes of a document of several messages). `message` is `<CLASS>_<MESSAGE>` in any case; a
 * field left out of `content` takes its unset value (so does a `longstr` left out by export); a constant
 * field is checked when present. Keys the form does not have are errors, so a misspelt field is never
 * silently dropped.
 *
 * @throws {@link ZplFormError} naming the key (nothing is returned in part); `ZplError` for text that is not
 *   ZPL
 */
export function readZplForm<M extends AnyMessage>(codec: Codec<M, unknown>, form: ZplNodeData | string): ZplFormContents<M> {
  const schema = codec.schema;
  const { frames, routingId } = new FormReader(schema).read(formNode(schema, typeof form === "string" ? parseZpl(form) : form));
  return { message: codec.decode(frames), routingId };
}

/** The message of a ZPL form, without its routing id: {@link readZplForm}'s rules and errors. */
export function fromZplForm<M extends AnyMessage>(codec: Codec<M, unknown>, form: ZplNodeData | string): M {
  return readZplForm(codec, form).message;
}

/**
 * The message of a ZPL form and the routing id it must have (`MissingRoutingId` otherwise), as for a
 * ROUTER socket: {@link readZplForm}'s rules and errors.
 */
export function fromZplFormRouted<M extends AnyMessage>(codec: Codec<M, unknown>, form: ZplNodeData | string): Routed<M> {
  const { message, routingId } = readZplForm(codec, form);
  if (routingId === undefined) {
    const schema = codec.schema;
    throw new ZplFormError("MissingRoutingId", schema.model, findMessage(schema, message.message)?.name ?? null, "routing_id",
      "a routed message needs a routing_id");
  }
  return { routingId, message };
}

/** The node named after the model: the form itself, or the one top-level node of a document. */
function formNode(schema: CodecSchema, form: ZplNodeData): ZplNodeData {
  let node = form;
  if (form.name === "" && form.value === null) {
    if (form.children.length !== 1) {
      throw new ZplFormError("NotAMessage", schema.model, null, null,
        `the document has ${form.children.length} top-level properties; the ZPL form of a message is one, named ${JSON.stringify(schema.model)}`);
    }
    node = form.children[0];
  }
  if (node.name !== schema.model || (node.value ?? "") !== "") {
    throw new ZplFormError("NotAMessage", schema.model, null, null,
      `the form's root is ${JSON.stringify(node.name)}${node.value ? ` = ${JSON.stringify(node.value)}` : ""}; a ${schema.model} message's is ${JSON.stringify(schema.model)} with no value`);
  }
  return node;
}

/** The keys a message's form may have at its top level, besides `topic` in pubsub models. */
const TOP_KEYS = new Set(["message", "routing_id", "content"]);

/** Reads one form; knows the message, once read, for the errors it words. */
class FormReader {
  private messageName: string | null = null;

  constructor(private readonly schema: CodecSchema) {}

  /** The frames of the message `form` describes, and its routing id. */
  read(form: ZplNodeData): { frames: Buffer[]; routingId: Buffer | undefined } {
    const schema = this.schema;
    const top = this.properties(form, "");
    const messageNode = top.get("message");
    if (messageNode === undefined) throw this.error("MissingMessage", null, `the form has no "message" key`);
    const name = normaliseMessageName(this.scalar(messageNode, "message"));
    const message = schema.messages.find((candidate) => zplMessageName(schema, candidate) === name);
    if (message === undefined) {
      const names = schema.messages.map((candidate) => zplMessageName(schema, candidate)).join(", ");
      throw this.error("UnknownMessage", "message", `unknown message ${JSON.stringify(messageNode.value)}; ${schema.model} has ${names}`);
    }
    this.messageName = message.name;
    const pubsub = schema.framing === "pubsub";
    for (const key of top.keys()) {
      if (TOP_KEYS.has(key) || (pubsub && key === "topic")) continue;
      throw this.error("UnknownKey", key, key === "topic" ? "only messages of pubsub models have a topic" : "no such key in the form of a message");
    }
    const routingNode = top.get("routing_id");
    const routingId = routingNode === undefined ? undefined : this.hex(routingNode, "routing_id");
    const result: Record<string, unknown> = { message: message.key };
    if (pubsub) {
      const topic = top.get("topic");
      if (topic === undefined) throw this.error("MissingTopic", "topic", "a pubsub message needs a topic");
      result.topic = this.scalar(topic, "topic");
    }
    const fields = this.content(message, top.get("content"));
    for (const field of message.fields) {
      const key = `content/${field.name}`;
      const node = fields.get(field.name);
      // Left out, a field is unset: the encoder writes its unset value.
      if (node === undefined) continue;
      if (field.secret === true && node.value === ZPL_REDACTED) {
        throw this.error("Redacted", key, "the secret value was redacted when this form was printed; a redacted form cannot be imported");
      }
      const value = this.value(field, node, key);
      if (field.value === undefined) result[field.key] = value;
      else if (!sameConstant(field, value)) {
        throw this.error("BadConstant", key, `is the constant ${JSON.stringify(String(field.value))}, found ${JSON.stringify(node.value)}`);
      }
    }
    return { frames: checkEncodable(schema, message, result as DynamicMessage), routingId };
  }

  /** The fields of `content`, which a message with fields to set must have. */
  private content(message: MessageSchema, content: ZplNodeData | undefined): Map<string, ZplNodeData> {
    if (content === undefined) {
      if (message.fields.some(isSettable)) throw this.error("MissingContent", "content", `${message.name} has fields, so its form has "content"`);
      return new Map();
    }
    if ((content.value ?? "") !== "") throw this.error("BadStructure", "content", "content holds the fields as children, not a value");
    const fields = this.properties(content, "content");
    for (const key of fields.keys()) {
      if (!message.fields.some((field) => field.name === key)) throw this.error("UnknownKey", `content/${key}`, `${message.name} has no such field`);
    }
    return fields;
  }

  /** A field's value from its node, checked as far as the form goes; the encoder checks the rest. */
  private value(field: FieldSchema, node: ZplNodeData, key: string): unknown {
    switch (field.type) {
      case "number": {
        const text = this.scalar(node, key);
        const value = decimalToBigint(text);
        if (value === undefined) throw this.error("BadNumber", key, `expected an unsigned decimal number, found ${JSON.stringify(text)}`);
        return field.size === 8 ? value : Number(value);
      }
      case "octets": case "uuid": case "chunk": case "frame": return this.hex(node, key);
      case "string": case "longstr": return this.scalar(node, key);
      case "strings": case "shortstrings": return this.items(node, key);
      case "hash": case "dictionary": {
        const entries = new Map<string, string>();
        for (const [name, entry] of this.properties(this.container(node, key), key)) entries.set(name, this.scalar(entry, `${key}/${name}`));
        return entries;
      }
      case "msg": return this.frames(node, key);
    }
  }

  /** The items of a `strings` node, ordered by their names, which must number them 0 to n-1. */
  private items(node: ZplNodeData, key: string): string[] {
    const items: string[] = [];
    const count = node.children.length;
    for (const [name, item] of this.properties(this.container(node, key), key)) {
      const index = decimalToBigint(name);
      if (index === undefined || index >= BigInt(count)) {
        throw this.error("BadStructure", `${key}/${name}`, count === 1 ? "the only item of a list is named 0" : `the ${count} items of a list are named 0 to ${count - 1}`);
      }
      items[Number(index)] = this.scalar(item, `${key}/${name}`);
    }
    return items;
  }

  /** The frames of a `msg` value: each a 1-octet length (`FF`: a 4-octet length follows) and its octets. */
  private frames(node: ZplNodeData, key: string): Buffer[] {
    const bytes = this.hex(node, key);
    const frames: Buffer[] = [];
    let at = 0;
    while (at < bytes.length) {
      let length = bytes[at++];
      if (length === 0xff) {
        if (at + 4 > bytes.length) throw this.error("BadFrames", key, `frame ${frames.length} has a 4-octet length cut short`);
        length = bytes.readUInt32BE(at);
        at += 4;
      }
      if (at + length > bytes.length) {
        const left = bytes.length - at;
        throw this.error("BadFrames", key, `frame ${frames.length} says ${plural(length, "octet")}, but only ${left} remain${left === 1 ? "s" : ""}`);
      }
      frames.push(bytes.subarray(at, at + length));
      at += length;
    }
    return frames;
  }

  private hex(node: ZplNodeData, key: string): Buffer {
    const text = this.scalar(node, key);
    const bytes = hexToBytes(text);
    if (bytes === undefined) throw this.error("BadHex", key, `expected hex digits, two an octet, found ${JSON.stringify(text)}`);
    return bytes;
  }

  /** The children of `node` by name; names must differ, since each names a key. */
  private properties(node: ZplNodeData, path: string): Map<string, ZplNodeData> {
    const byName = new Map<string, ZplNodeData>();
    for (const child of node.children) {
      const key = path === "" ? child.name : `${path}/${child.name}`;
      if (byName.has(child.name)) throw this.error("DuplicateKey", key, "occurs twice");
      byName.set(child.name, child);
    }
    return byName;
  }

  /** The value of a node that must have no children. */
  private scalar(node: ZplNodeData, key: string): string {
    if (node.children.length > 0) throw this.error("BadStructure", key, "is one value and has no children");
    return node.value ?? "";
  }

  /** A node whose children are the items or entries of a list or hash, and which has no value itself. */
  private container(node: ZplNodeData, key: string): ZplNodeData {
    if ((node.value ?? "") !== "") throw this.error("BadStructure", key, "holds its items as children, not a value");
    return node;
  }

  private error(kind: ZplFormErrorKind, key: string | null, detail: string): ZplFormError {
    return new ZplFormError(kind, this.schema.model, this.messageName, key, detail);
  }
}

function sameConstant(field: FieldSchema, value: unknown): boolean {
  return field.type === "number" ? BigInt(value as number | bigint) === BigInt(field.value as number | bigint) : value === field.value;
}

/** ZPL form error kinds of the encoder's refusals; the others are `BadValue`. */
const ENCODE_KINDS: Partial<Record<EncodeKind, ZplFormErrorKind>> = {
  UnknownMessage: "UnknownMessage", OutOfRange: "OutOfRange", BadLength: "BadLength", MissingTopic: "MissingTopic",
};

/**
 * Runs the encoder's checks, so that export and import agree with what can travel: every value the wire
 * refuses is refused here, named by its key in the form. Returns the frames.
 */
function checkEncodable(schema: CodecSchema, message: MessageSchema, value: DynamicMessage): Buffer[] {
  try {
    return encodeDynamic(schema, value);
  } catch (error) {
    if (!(error instanceof EncodeError)) throw error;
    const field = error.field;
    const key = field === null ? null : message.fields.some((candidate) => candidate.name === field) ? `content/${field}` : field;
    throw new ZplFormError(ENCODE_KINDS[error.kind] ?? "BadValue", schema.model, message.name, key, error.detail, { cause: error });
  }
}
