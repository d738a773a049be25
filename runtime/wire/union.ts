/**
 * One codec over several protocols that share a socket, as a Majordomo broker's ROUTER carries both the
 * client and the worker halves of MDP. Decoding asks each protocol in turn and takes the first whose
 * signature or header the frames carry (a `BadSignature` means "not this one"); encoding goes by message
 * name, which is why the protocols of a union must not share one.
 */
import type { AnyMessage, Codec, Draft, FrameCodec } from "./codec.js";
import { MalformedError } from "./errors.js";
import type { CodecSchema } from "./schema.js";
import { toBuffer, unknownMessage } from "./writer.js";

/** The message type of a codec. */
export type MessageOf<C> = C extends Codec<infer M, never> ? M : never;

/** What a codec's encoder accepts. */
export type DraftOf<C> = C extends Codec<AnyMessage, infer D> ? D : never;

/** Any codec, whatever it encodes and decodes. */
export type AnyCodec = Codec<AnyMessage, never>;

/**
 * How a protocol's messages make themselves known: the two signature octets of a binary codec, or the
 * constant text frames a frame-per-field codec starts with (`["", "MDPW01"]` for MDP/0.1 workers).
 */
type Identity =
  | { readonly kind: "signature"; readonly octets: readonly [number, number] }
  | { readonly kind: "header"; readonly frames: readonly Buffer[] };

/** How a protocol identifies itself, or why it cannot take part in a union. */
function identity(schema: CodecSchema): Identity | string {
  if (schema.framing === "binary") return { kind: "signature", octets: [0xaa, 0xa0 | schema.signature] };
  if (schema.framing === "pubsub") return "its pubsub messages carry no signature to tell it apart";
  const frames: Buffer[] = [];
  const first = schema.messages[0];
  for (let i = 0; i < schema.headerFields && first !== undefined; i++) {
    const value = first.fields[i].value;
    if (typeof value !== "string" || first.fields[i].type !== "string") break;
    frames.push(Buffer.from(value, "utf8"));
  }
  return frames.length > 0 ? { kind: "header", frames } : "it has no constant header frames to tell it apart";
}

function describe(identity: Identity): string {
  return identity.kind === "signature"
    ? `signature ${identity.octets.map((octet) => octet.toString(16).padStart(2, "0")).join(" ")}`
    : `header ${identity.frames.map((frame) => JSON.stringify(frame.toString("utf8"))).join(" ")}`;
}

/** Whether frames starting like `a` could also start like `b`: one protocol would read the other's messages. */
function overlaps(a: Identity, b: Identity): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "signature" && b.kind === "signature") return a.octets[0] === b.octets[0] && a.octets[1] === b.octets[1];
  const left = (a as { frames: readonly Buffer[] }).frames;
  const right = (b as { frames: readonly Buffer[] }).frames;
  const common = Math.min(left.length, right.length);
  for (let i = 0; i < common; i++) if (!left[i].equals(right[i])) return false;
  return true;
}

/**
 * Why these protocols cannot share one codec (an empty list when they can): a message name in two of them,
 * a field name with two types (a machine speaking both has one bag of fields), or two protocols that do not
 * tell their messages apart. The generator reports these as model errors; {@link unionCodec} throws them.
 */
export function unionProblems(schemas: readonly CodecSchema[]): string[] {
  const problems: string[] = [];
  const models = new Set<string>();
  const messages = new Map<string, string>();
  const fields = new Map<string, { model: string; type: string }>();
  const identities: { model: string; identity: Identity }[] = [];
  for (const schema of schemas) {
    if (models.has(schema.model)) problems.push(`protocol ${schema.model} is named twice`);
    models.add(schema.model);
    for (const message of schema.messages) {
      const other = messages.get(message.key);
      if (other !== undefined && other !== schema.model) {
        problems.push(`message ${message.key} is in both ${other} and ${schema.model}: rename one (where the name is not on the wire)`);
      }
      messages.set(message.key, schema.model);
      for (const field of message.fields) {
        if (field.value !== undefined) continue;
        const type = field.size !== undefined ? `${field.type}(${field.size})` : field.type;
        const seen = fields.get(field.key);
        if (seen !== undefined && seen.model !== schema.model && seen.type !== type) {
          problems.push(`field ${field.key} is ${seen.type} in ${seen.model} and ${type} in ${schema.model}: one name needs one type`);
        }
        if (seen === undefined) fields.set(field.key, { model: schema.model, type });
      }
    }
    const own = identity(schema);
    if (typeof own === "string") {
      problems.push(`protocol ${schema.model} cannot share a socket with others: ${own}`);
      continue;
    }
    for (const other of identities) {
      if (overlaps(own, other.identity)) {
        problems.push(`protocols ${other.model} (${describe(other.identity)}) and ${schema.model} (${describe(own)}) cannot be told apart`);
      }
    }
    identities.push({ model: schema.model, identity: own });
  }
  return problems;
}

/**
 * Whether these frames certainly belong to another protocol: exactly the cases in which the codec's decoder
 * throws `BadSignature` before anything else. Checking first saves the decoder's exception (several µs),
 * which a broker would otherwise pay on every message of all but its first protocol.
 */
function foreign(identity: Identity, frames: readonly Uint8Array[]): boolean {
  if (identity.kind === "signature") {
    const first = frames[0];
    return first !== undefined && first.length >= 2 && (first[0] !== identity.octets[0] || first[1] !== identity.octets[1]);
  }
  for (let i = 0; i < identity.frames.length; i++) {
    const frame = frames[i];
    if (frame === undefined) return false;
    if (!toBuffer(frame).equals(identity.frames[i])) return true;
  }
  return false;
}

/** A codec for the messages of several protocols; see {@link unionCodec}. */
export class UnionCodec<M extends AnyMessage, D = Draft<M>> implements FrameCodec<M, D> {
  private readonly byMessage = new Map<string, AnyCodec>();
  private readonly identities: Identity[];

  constructor(
    /** Name used in errors: the machine that speaks these protocols. */
    readonly name: string,
    /** The protocols, in the order decoding tries them. */
    readonly members: readonly AnyCodec[],
  ) {
    const problems = unionProblems(members.map((member) => member.schema));
    if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
    for (const member of members) for (const message of member.schema.messages) this.byMessage.set(message.key, member);
    this.identities = members.map((member) => identity(member.schema) as Identity);
  }

  /** The codec of the protocol that has this message (by normalised name), if any. */
  codecOf(message: string): AnyCodec | undefined {
    return this.byMessage.get(message);
  }

  /**
   * Encodes with the protocol the message belongs to. Throws `EncodeError`: `UnknownMessage` for other names,
   * `BadType` for what is not a message object.
   */
  encode(message: D): Buffer[] {
    const name = typeof message === "object" && message !== null ? (message as { readonly message?: unknown }).message : undefined;
    const member = typeof name === "string" ? this.byMessage.get(name) : undefined;
    if (member === undefined) throw unknownMessage(this.name, message);
    return member.encode(message as never);
  }

  /**
   * Decodes with the first protocol whose signature or header the frames carry; its `MalformedError` stands
   * when they are not a valid message of it. Frames that belong to none throw `BadSignature`.
   */
  decode(frames: readonly Uint8Array[]): M {
    for (let i = 0; i < this.members.length; i++) {
      if (foreign(this.identities[i], frames)) continue;
      try {
        return this.members[i].decode(frames) as M;
      } catch (error) {
        if (!(error instanceof MalformedError) || error.kind !== "BadSignature") throw error;
      }
    }
    throw new MalformedError({
      kind: "BadSignature", model: this.name, messageName: null, id: null, field: null, frame: 0, offset: 0,
      detail: `the frames are a message of none of ${this.members.map((member) => member.schema.model).join(", ")}`,
    });
  }
}

/**
 * One codec for the messages of several protocols. Throws when they cannot share one (see
 * {@link unionProblems}): generated machines that name several protocols are checked when generated.
 */
export function unionCodec<const C extends readonly AnyCodec[]>(name: string, members: C): UnionCodec<MessageOf<C[number]>, DraftOf<C[number]>> {
  return new UnionCodec(name, members);
}
