/**
 * Replays every golden vector captured from the C codecs through the generated codecs: positives encode
 * byte for byte and decode to their fields; negatives are rejected with the expected MalformedError kind.
 */
import { describe, expect, it } from "vitest";
import * as fmqMsg from "../generated/filemq/fmq_msg.js";
import * as fmqMsgV2 from "../generated/filemq/fmq_msg_v2.js";
import * as mdpClientMsg from "../generated/majordomo/mdp_client_msg.js";
import * as mdpWorkerMsg from "../generated/majordomo/mdp_worker_msg.js";
import * as zprotoExample from "../generated/zproto_example/zproto_example.js";
import { MalformedError } from "../runtime/wire/errors.js";
import type { AnyMessage, Codec } from "../runtime/wire/codec.js";
import type { JsonMessage } from "../runtime/wire/json.js";
import { expectedFields, expectedKinds, framesOf, isPositive, readVectors, type VectorModel } from "./support/vectors.js";

interface GeneratedCodec {
  readonly codec: Codec<AnyMessage, never>;
  encode(msg: never): Buffer[];
  decode(frames: readonly Uint8Array[]): AnyMessage;
  toJSON(msg: never): JsonMessage;
  fromJSON(json: unknown): unknown;
}

const CODECS: Record<VectorModel, GeneratedCodec> = {
  zproto_example: zprotoExample as unknown as GeneratedCodec,
  fmq_msg: fmqMsg as unknown as GeneratedCodec,
  fmq_msg_v2: fmqMsgV2 as unknown as GeneratedCodec,
  mdp_client_msg: mdpClientMsg as unknown as GeneratedCodec,
  mdp_worker_msg: mdpWorkerMsg as unknown as GeneratedCodec,
};

const hex = (frames: Buffer[]): string[] => frames.map((frame) => frame.toString("hex"));

describe.each(Object.keys(CODECS) as VectorModel[])("generated codec %s", (model) => {
  const generated = CODECS[model];
  const schema = generated.codec.schema;
  const records = readVectors(model);

  it("encodes every positive vector byte for byte", () => {
    const positives = records.filter(isPositive);
    expect(positives.length).toBeGreaterThan(10);
    for (const record of positives) {
      const draft = generated.fromJSON({ message: record.message, fields: record.fields });
      expect(hex(generated.encode(draft as never)), `${record.message} ${record.case}`).toEqual(record.frames);
    }
  });

  it("decodes every positive vector to its fields", () => {
    for (const record of records.filter(isPositive)) {
      const decoded = generated.decode(framesOf(record));
      const json = generated.toJSON(decoded as never);
      expect(json.message).toBe(record.message);
      expect(json.fields, `${record.message} ${record.case}`).toEqual(expectedFields(schema, record));
    }
  });

  it("rejects every negative vector with MalformedError of the expected kind, and nothing else", () => {
    const negatives = records.filter((record) => record.expect === "error");
    expect(negatives.length).toBeGreaterThan(10);
    for (const record of negatives) {
      let caught: unknown;
      try {
        generated.decode(framesOf(record));
      } catch (error) {
        caught = error;
      }
      expect(caught, `${record.case} must be rejected`).toBeInstanceOf(MalformedError);
      const error = caught as MalformedError;
      expect(expectedKinds(record), `${record.case}: ${error.message}`).toContain(error.kind);
      expect(error.model).toBe(model);
    }
  });

  it("decodes a message whose msg field took no frames as msg = []", () => {
    const cases = records.filter((record) => record.expect === "ok" && record.fields === undefined);
    for (const record of cases) {
      const json = generated.toJSON(generated.decode(framesOf(record)) as never);
      const typical = records.find((r) => isPositive(r) && r.case === "typical" && r.message === json.message)!;
      const msgField = schema.messages.find((m) => m.name === json.message)!.fields.find((f) => f.type === "msg")!;
      expect(json.fields).toEqual({ ...expectedFields(schema, typical), [msgField.name]: [] });
    }
  });

  it("re-encodes what it decodes to the same frames", () => {
    for (const record of records.filter(isPositive)) {
      const frames = framesOf(record);
      expect(hex(generated.encode(generated.decode(frames) as never))).toEqual(record.frames);
    }
  });
});
