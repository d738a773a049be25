/**
 * Property tests of every generated codec and of the schema interpreter on the same schemas
 * (`spec/wire.md` §2–4, §7a, §9.2, §9.3, §10, §11). Everything is derived from each module's `schema`, so a
 * new model is covered by adding its module to `support/properties/subjects.ts`.
 *
 * 1. Round trip: valid messages encode identically in both implementations and decode back to themselves.
 * 2. Strict decoding: random and mutated frames are either decoded or refused with `MalformedError`, and
 *    an accepted input is canonical: re-encoding the result gives back exactly the input frames.
 * 3. Encoding refusals: values the wire cannot carry throw `EncodeError` of the kind §10 names.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EncodeError, MalformedError, type MalformedKind } from "../runtime/wire/errors.js";
import { unsetValue, type DynamicMessage } from "../runtime/wire/interpret.js";
import type { FieldType, MessageSchema } from "../runtime/wire/schema.js";
import {
  anyMessage, canonical, canonicalMessage, hexFrames, messageValue, settableFields, type Canonical,
} from "./support/properties/arbitraries.js";
import { NULL_CATEGORY, invalidValues, type Category, type Invalid } from "./support/properties/invalid.js";
import { bodyLayout, mutation, mutate, randomFrames } from "./support/properties/mutations.js";
import { MODELS, type CodecUnderTest, type ModelUnderTest } from "./support/properties/subjects.js";

// Bounded runs keep the whole file at a few seconds; a failure prints its seed and path for replay. A
// decoder that hangs is caught by vitest's test timeout.
const ROUND_TRIP_RUNS = 150;
const UNSET_RUNS = 100;
const RANDOM_FRAMES_RUNS = 400;
const MUTATION_RUNS = 500;
const REFUSAL_RUNS = 150;

const MALFORMED_KINDS: readonly MalformedKind[] = [
  "Truncated", "BadSignature", "UnknownId", "Overrun", "BadConstant", "InvalidText", "DuplicateKey",
  "InvalidEntry", "TrailingBytes", "MissingFrame", "UnexpectedFrame",
];

function messageSchema(model: ModelUnderTest, key: string): MessageSchema {
  const found = model.schema.messages.find((message) => message.key === key);
  if (found === undefined) throw new Error(`${model.name}: no message ${key}`);
  return found;
}

/** The frames §2/§4/§7a say a message occupies, as a check on the layout independent of the decoder. */
function expectLayout(model: ModelUnderTest, message: MessageSchema, draft: DynamicMessage, frames: readonly Uint8Array[]): void {
  for (const frame of frames) expect(frame).toBeInstanceOf(Uint8Array);
  const msgField = message.fields.find((field) => field.type === "msg");
  const msgValue = msgField === undefined ? undefined : draft[msgField.key];
  // An unset msg travels as one empty frame, a set one as exactly its frames (possibly none).
  const msgFrames = msgField === undefined ? 0 : msgValue === undefined ? 1 : (msgValue as unknown[]).length;
  if (model.schema.framing === "binary") {
    const frameFields = message.fields.filter((field) => field.type === "frame").length;
    expect(frames.length).toBe(1 + frameFields + msgFrames);
    expect([...frames[0].subarray(0, 3)]).toEqual([0xaa, 0xa0 | model.schema.signature, message.id]);
  } else {
    const perField = message.fields.filter((field) => field.type !== "msg").length;
    const command = model.schema.command === "frame" ? 1 : 0;
    expect(frames.length).toBe(perField + command + msgFrames);
    if (command === 1) expect([...frames[model.schema.headerFields]]).toEqual([message.id]);
  }
}

/**
 * Encodes `draft` with both implementations and decodes it with both; every decoding must equal `expected`
 * (the draft with unset fields replaced by their unset values) and re-encode to the same frames.
 */
function checkRoundTrip(model: ModelUnderTest, draft: DynamicMessage, expected: DynamicMessage): void {
  const message = messageSchema(model, draft.message);
  const before = canonicalMessage(model.schema, draft);
  const frames = model.generated.encode(draft);
  const reference = hexFrames(frames);
  expect(hexFrames(model.interpreter.encode(draft)), "interpreter and generated encoders differ").toEqual(reference);
  expectLayout(model, message, draft, frames);
  const want = canonicalMessage(model.schema, expected);
  for (const codec of model.codecs) {
    const decoded = codec.decode(frames);
    expect(canonicalMessage(model.schema, decoded), `${codec.kind} decode`).toEqual(want);
    expect(codec.toJSON(decoded), `${codec.kind} JSON form`).toEqual(codec.toJSON(expected));
    for (const field of settableFields(message)) expect(decoded[field.key], `${codec.kind} ${field.name} present (§9.3)`).not.toBeUndefined();
    for (const other of model.codecs) expect(hexFrames(other.encode(decoded)), `${other.kind} re-encoding ${codec.kind}'s decoding`).toEqual(reference);
  }
  // §10: encoders never mutate the message, and the frames they returned are still the message (decoding
  // hands out views of the input, so this also shows decoders did not write into it).
  expect(canonicalMessage(model.schema, draft)).toEqual(before);
  expect(hexFrames(frames)).toEqual(reference);
}

/** The draft with every settable field that was left out replaced by the value it decodes as. */
function withUnsetValues(message: MessageSchema, draft: DynamicMessage): DynamicMessage {
  const full: Record<string, unknown> = { message: draft.message };
  for (const field of settableFields(message)) full[field.key] = draft[field.key] === undefined ? unsetValue(field) : draft[field.key];
  return full as DynamicMessage;
}

interface EncodeOutcome {
  readonly frames?: Buffer[];
  readonly error?: unknown;
  /** "frames <hex>" or "<Error name> <kind>": equal summaries mean the same behaviour. */
  readonly summary: string;
}

function encodeOutcome(codec: CodecUnderTest, draft: DynamicMessage): EncodeOutcome {
  try {
    const frames = codec.encode(draft);
    return { frames, summary: `frames ${JSON.stringify(hexFrames(frames))}` };
  } catch (error) {
    const kind = error instanceof EncodeError ? ` ${error.kind}` : "";
    return { error, summary: `${describeError(error).split(":")[0]}${kind}${kind === "" ? ` (${describeError(error)})` : ""}` };
  }
}

type Outcome =
  | { readonly ok: true; readonly message: DynamicMessage }
  | { readonly ok: false; readonly error: unknown };

function attempt(codec: CodecUnderTest, frames: readonly Uint8Array[]): Outcome {
  try {
    return { ok: true, message: codec.decode(frames) };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The decoder contract of §9.2 on arbitrary input: a message or a `MalformedError`, nothing else; the input
 * is left untouched; an accepted input is canonical (re-encodes to exactly itself, with either encoder); and
 * both implementations reach the same verdict.
 */
function checkDecoderContract(model: ModelUnderTest, frames: readonly Uint8Array[]): void {
  const input = hexFrames(frames);
  const outcomes = model.codecs.map((codec) => attempt(codec, frames));
  expect(hexFrames(frames), "decode must not modify its input").toEqual(input);
  outcomes.forEach((outcome, i) => {
    const codec = model.codecs[i];
    if (!outcome.ok) {
      expect(outcome.error, `${codec.kind} threw ${describeError(outcome.error)} on ${JSON.stringify(input)}`).toBeInstanceOf(MalformedError);
      const error = outcome.error as MalformedError;
      expect(MALFORMED_KINDS).toContain(error.kind);
      expect(error.model).toBe(model.name);
      return;
    }
    const message = messageSchema(model, outcome.message.message);
    for (const field of settableFields(message)) expect(outcome.message[field.key], `${codec.kind} ${field.name} present (§9.3)`).not.toBeUndefined();
    for (const encoder of model.codecs) {
      let again: string[];
      try {
        again = hexFrames(encoder.encode(outcome.message));
      } catch (error) {
        throw new Error(`${codec.kind} accepted ${JSON.stringify(input)} but ${encoder.kind} cannot re-encode it: ${describeError(error)}`);
      }
      expect(again, `${codec.kind} accepted non-canonical input ${JSON.stringify(input)}; ${encoder.kind} re-encodes it as ${JSON.stringify(again)}`).toEqual(input);
    }
  });
  const [generated, interpreted] = outcomes;
  const verdict = (outcome: Outcome): Canonical =>
    outcome.ok ? canonicalMessage(model.schema, outcome.message) : { error: (outcome.error as MalformedError).kind };
  expect(verdict(interpreted), `generated and interpreter disagree on ${JSON.stringify(input)}`).toEqual(verdict(generated));
}

describe.each(MODELS)("$name", (model) => {
  describe("round trip (valid messages)", () => {
    it.each(model.schema.messages.map((message) => ({ name: message.name, message })))(
      "$name: decode(encode(m)) equals m, for generated codec and interpreter, with identical frames",
      ({ message }) => {
        fc.assert(fc.property(messageValue(message), (draft) => checkRoundTrip(model, draft, draft)), { numRuns: ROUND_TRIP_RUNS });
      },
    );

    it("fields left out travel as their unset values and decode as them (§3, §4, §9.3)", () => {
      fc.assert(
        fc.property(anyMessage(model.schema, false), (draft) => {
          checkRoundTrip(model, draft, withUnsetValues(messageSchema(model, draft.message), draft));
        }),
        { numRuns: UNSET_RUNS },
      );
    });
  });

  describe("strict decoding never crashes and accepts only canonical input", () => {
    it("random frame lists (0-5 frames of random octets, half behind a valid header)", () => {
      fc.assert(fc.property(randomFrames(model.schema), (frames) => checkDecoderContract(model, frames)), { numRuns: RANDOM_FRAMES_RUNS });
    });

    it("mutations of valid encodings (octets flipped/inserted/deleted, truncation, frames added/dropped/emptied/swapped, id changed, length prefixes overflowed, map entries duplicated)", () => {
      const mutated = anyMessage(model.schema).chain((draft) => {
        const frames = model.generated.encode(draft);
        const layout = bodyLayout(model.schema, messageSchema(model, draft.message), frames[0]);
        return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => mutate(model.schema, frames, layout, mutations));
      });
      fc.assert(fc.property(mutated, (frames) => checkDecoderContract(model, frames)), { numRuns: MUTATION_RUNS });
    });

    it("valid encodings themselves pass the same contract (the mutation oracle is sound)", () => {
      fc.assert(fc.property(anyMessage(model.schema), (draft) => checkDecoderContract(model, model.generated.encode(draft))), { numRuns: 50 });
    });
  });

  describe("encoding refuses what the wire cannot carry (§10)", () => {
    /** One refusal case: a valid message with one field replaced by an invalid value. */
    interface RefusalCase {
      readonly draft: DynamicMessage;
      /** Field name as in the model (what `EncodeError.field` holds) and its TS key. */
      readonly field: string;
      readonly key: string;
      /** Message name as in the model (what `EncodeError.messageName` holds). */
      readonly message: string;
      readonly bad: Invalid;
    }
    const byCategory = new Map<Category, fc.Arbitrary<RefusalCase>[]>();
    for (const message of model.schema.messages) {
      for (const field of settableFields(message)) {
        for (const [category, values] of Object.entries(invalidValues(field)) as [Category, fc.Arbitrary<Invalid>][]) {
          const cases = byCategory.get(category) ?? [];
          cases.push(
            fc.tuple(messageValue(message), values).map(([valid, bad]) => ({
              draft: { ...valid, [field.key]: bad.value },
              field: field.name,
              key: field.key,
              message: message.name,
              bad,
            })),
          );
          byCategory.set(category, cases);
        }
      }
    }

    it.each([...byCategory].filter(([category]) => category !== NULL_CATEGORY).map(([category, cases]) => ({ category, cases })))(
      "$category",
      ({ cases }) => {
        fc.assert(
          fc.property(fc.oneof(...cases), ({ draft, field, message, bad }) => {
            const before = canonicalMessage(model.schema, draft);
            // Both implementations are run before anything is asserted, so a failure reports both.
            const outcomes = model.codecs.map((codec) => encodeOutcome(codec, draft));
            const report = outcomes.map((outcome, i) => `${model.codecs[i].kind}: ${outcome.summary}`).join("; ");
            const what = `${message}.${field} = ${bad.why} (${report})`;
            for (const outcome of outcomes) {
              expect(outcome.frames, `${what}: encoded instead of refusing`).toBeUndefined();
              expect(outcome.error, `${what}: not an EncodeError`).toBeInstanceOf(EncodeError);
              const error = outcome.error as EncodeError;
              expect(bad.kinds, `${what}: wrong kind`).toContain(error.kind);
              expect(error.model).toBe(model.name);
              expect(error.messageName).toBe(message);
              expect(error.field, `${what}: error names the field`).toBe(field);
            }
            expect(canonicalMessage(model.schema, draft), "encode must not modify a refused message").toEqual(before);
          }),
          { numRuns: REFUSAL_RUNS },
        );
      },
    );

    const nullCases = byCategory.get(NULL_CATEGORY) ?? [];
    it.runIf(nullCases.length > 0)("null in place of a value is refused (BadType) or read as unset, the same way by both implementations", () => {
      // §10 does not say what `null` means in a TypeScript draft: the types only allow leaving a field out,
      // and only the JSON form reads null as unset. Either reading is defensible; two implementations of
      // one codec reading it differently (one sends defaults, the other refuses) is not.
      fc.assert(
        fc.property(fc.oneof(...nullCases), ({ draft, field, key, message }) => {
          const outcomes = model.codecs.map((codec) => encodeOutcome(codec, draft));
          const report = outcomes.map((outcome, i) => `${model.codecs[i].kind}: ${outcome.summary}`).join("; ");
          const { [key]: _null, ...unset } = draft;
          const asUnset = hexFrames(model.interpreter.encode(unset as DynamicMessage));
          for (const outcome of outcomes) {
            if (outcome.frames !== undefined) expect(hexFrames(outcome.frames), `${message}.${field} = null: ${report}`).toEqual(asUnset);
            else {
              expect(outcome.error, `${message}.${field} = null: ${report}`).toBeInstanceOf(EncodeError);
              expect((outcome.error as EncodeError).kind).toBe("BadType");
            }
          }
          expect(outcomes[1].summary, `${message}.${field} = null: implementations disagree (${report})`).toBe(outcomes[0].summary);
        }),
        { numRuns: REFUSAL_RUNS },
      );
    });

    it("an unknown message name is UnknownMessage", () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 12 }).filter((name) => !model.schema.messages.some((m) => m.key === name || m.name === name)), (name) => {
          for (const codec of model.codecs) {
            let caught: unknown;
            try {
              codec.encode({ message: name });
            } catch (error) {
              caught = error;
            }
            expect(caught, `${codec.kind}: ${describeError(caught)}`).toBeInstanceOf(EncodeError);
            expect((caught as EncodeError).kind).toBe("UnknownMessage");
          }
        }),
        { numRuns: 50 },
      );
    });
  });
});

describe("property helpers", () => {
  // The properties above are only as good as their generators: pin the few facts they rely on.
  it("canonical keeps bigint, number, Map and byte distinctions but ignores Buffer vs Uint8Array", () => {
    expect(canonical(1n)).not.toEqual(canonical(1));
    expect(canonical(new Map([["a", "b"]]))).not.toEqual(canonical([["a", "b"]]));
    expect(canonical(new Map([["a", "1"], ["b", "2"]]))).not.toEqual(canonical(new Map([["b", "2"], ["a", "1"]])));
    expect(canonical(Buffer.from([1, 2]))).toEqual(canonical(Uint8Array.of(1, 2)));
  });

  it("covers every generated model, and the models together use every field type", () => {
    expect(MODELS.map((model) => model.name).sort()).toEqual([
      "bench_msg", "fmq_msg", "fmq_msg_v2", "mdp01_client_msg", "mdp01_worker_msg", "mdp_client_msg", "mdp_worker_msg", "zproto_example",
    ]);
    const types = new Set(MODELS.flatMap((model) => model.schema.messages.flatMap((message) => message.fields.map((field) => field.type))));
    const all: FieldType[] = ["number", "octets", "string", "longstr", "strings", "hash", "chunk", "uuid", "frame", "msg", "dictionary", "shortstrings"];
    for (const type of all) expect(types.has(type), type).toBe(true);
  });
});
