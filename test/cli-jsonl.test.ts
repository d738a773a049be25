/**
 * `zproto encode|decode --jsonl` is the conformance harness: every vector goes through it, straight from the
 * model file, without generated code, and from the model's ZPL form as well as its XML original.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertModel } from "../generator/convert.js";
import { loadCodecModel } from "../generator/model.js";
import { codecSchema } from "../generator/schema.js";
import { VECTOR_MODELS, expectedFields, isPositive, readVectors, type VectorModel } from "./support/vectors.js";

function zproto(args: string[], lines: string[]): string[] {
  const run = spawnSync("node", ["dist/bin/zproto.js", ...args], { input: lines.join("\n") + "\n", encoding: "utf8", maxBuffer: 64 << 20 });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return run.stdout.trimEnd().split("\n");
}

/** Each codec model's ZPL form, converted for this run. */
const ZPL_FORMS = mkdtempSync(join(tmpdir(), "zproto-vectors-zpl-"));
afterAll(() => rmSync(ZPL_FORMS, { recursive: true, force: true }));
const SYNTAXES = (Object.entries(VECTOR_MODELS) as [VectorModel, string][]).flatMap(([model, path]): [VectorModel, string][] => {
  const zpl = join(ZPL_FORMS, `${model}.zpl`);
  writeFileSync(zpl, convertModel(path).text!);
  return [[model, path], [model, zpl]];
});

describe.each(SYNTAXES)("zproto encode|decode --jsonl on %s (%s)", (model, path) => {
  const records = readVectors(model);
  const schema = codecSchema(loadCodecModel(path));

  it("encodes every positive to its frames, one answer per line, going on after bad lines", () => {
    const positives = records.filter(isPositive);
    const lines = positives.map((record) => JSON.stringify({ message: record.message, fields: record.fields }));
    lines.splice(1, 0, "this is not JSON", JSON.stringify({ message: "NO SUCH MESSAGE", fields: {} }));
    const answers = zproto(["encode", path, "--jsonl"], lines).map((line) => JSON.parse(line) as { frames?: string[]; error?: string });
    expect(answers).toHaveLength(lines.length);
    expect(answers[1].error).toMatch(/^SyntaxError: .*JSON/);
    expect(answers[2].error).toMatch(/^JsonFormError: .*unknown message "NO SUCH MESSAGE"/);
    answers.splice(1, 2);
    positives.forEach((record, i) => expect(answers[i], `${record.message} ${record.case}`).toEqual({ frames: record.frames }));
  });

  it("decodes every record: positives to message and fields, negatives to an error", () => {
    const lines = records.map((record) => JSON.stringify({ frames: record.frames }));
    const answers = zproto(["decode", path, "--jsonl"], lines).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(answers).toHaveLength(records.length);
    records.forEach((record, i) => {
      if (isPositive(record)) {
        expect(answers[i]).toEqual({ model: schema.model, message: record.message, id: record.id, fields: expectedFields(schema, record) });
      }
      else if (record.expect === "error") expect(answers[i].error, record.case).toMatch(/^[A-Za-z]+: /);
      else expect(answers[i].message).toBeTypeOf("string");
    });
  });
});

describe("zproto decode --jsonl on lines that are not decode requests", () => {
  it("answers each with a BadRequest saying which frame is wrong and why, or a SyntaxError, and goes on", () => {
    const path = VECTOR_MODELS.zproto_example;
    const lines = [
      '{"frames": "aaa0"}', '{"frames": ["aaa004", "zz"]}', '{"frames": ["aaa0040"]}', '{"frames": [7]}', '{"frames": ["aaa004"], "routing_id": 5}',
      '{"frames": ["aaa004"], "routing_id": "0a1"}', "", '{"frames": ["aaa004007b0000000000000000"]}',
    ];
    const answers = zproto(["decode", path, "--jsonl"], lines).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(answers.slice(0, 6).map((answer) => answer.error)).toEqual([
      'BadRequest: a decode request is {"frames": [hex, ...]}, with "routing_id": hex if the message has one',
      'BadRequest: frame 1 has "z" at position 0, which is not a hex digit',
      "BadRequest: frame 0 has an odd number of hex digits (7); an octet is two digits",
      "BadRequest: frame 0 is a number, not a hex string",
      "BadRequest: routing_id is a number, not a hex string",
      "BadRequest: routing_id has an odd number of hex digits (3); an octet is two digits",
    ]);
    expect(answers[6].error).toMatch(/^SyntaxError: /);
    expect(answers[7]).toMatchObject({ model: "zproto_example", message: "TYPES", id: 4 });
    expect(answers).toHaveLength(8);
  });
});
