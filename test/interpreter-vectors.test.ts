import { describe, expect, it } from "vitest";
import { loadCodecModel } from "../generator/model.js";
import { codecSchema } from "../generator/schema.js";
import { MalformedError } from "../runtime/wire/errors.js";
import { decodeDynamic, encodeDynamic } from "../runtime/wire/interpret.js";
import { fromJsonForm, toJsonForm } from "../runtime/wire/json.js";
import { VECTOR_MODELS, expectedFields, expectedKinds, framesOf, isPositive, readVectors, type VectorModel } from "./support/vectors.js";

const hex = (frames: Buffer[]): string[] => frames.map((frame) => frame.toString("hex"));

describe.each(Object.keys(VECTOR_MODELS) as VectorModel[])("schema interpreter on %s vectors", (model) => {
  const schema = codecSchema(loadCodecModel(VECTOR_MODELS[model]));
  const records = readVectors(model);

  it("has vectors", () => {
    expect(records.length).toBeGreaterThan(20);
  });

  it("encodes every positive byte for byte and decodes it back to its fields", () => {
    const positives = records.filter(isPositive);
    expect(positives.length).toBeGreaterThan(10);
    for (const record of positives) {
      const draft = fromJsonForm(schema, { message: record.message, fields: record.fields });
      expect(hex(encodeDynamic(schema, draft)), `${record.message} ${record.case}`).toEqual(record.frames);
      const decoded = toJsonForm(schema, decodeDynamic(schema, framesOf(record)));
      expect(decoded.message).toBe(record.message);
      expect(decoded.fields, `${record.message} ${record.case}`).toEqual(expectedFields(schema, record));
    }
  });

  it("rejects every negative with the expected MalformedError kind", () => {
    const negatives = records.filter((record) => record.expect === "error");
    expect(negatives.length).toBeGreaterThan(10);
    for (const record of negatives) {
      let caught: unknown;
      try {
        decodeDynamic(schema, framesOf(record));
      } catch (error) {
        caught = error;
      }
      expect(caught, `${record.case} must be rejected`).toBeInstanceOf(MalformedError);
      expect(expectedKinds(record), `${record.case}: ${(caught as Error).message}`).toContain((caught as MalformedError).kind);
    }
  });

  it("accepts a message whose only extra-frame field is msg as a single body frame", () => {
    for (const record of records.filter((r) => r.expect === "ok" && r.fields === undefined)) {
      const decoded = toJsonForm(schema, decodeDynamic(schema, framesOf(record)));
      const typical = records.find((r) => isPositive(r) && r.case === "typical" && r.message === decoded.message)!;
      const expected = { ...expectedFields(schema, typical) };
      const msgField = schema.messages.find((m) => m.name === decoded.message)!.fields.find((f) => f.type === "msg")!;
      expected[msgField.name] = [];
      expect(decoded.fields).toEqual(expected);
    }
  });
});
