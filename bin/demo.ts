#!/usr/bin/env node
/**
 * `npm run demo`: compiles every model of models/ into a scratch directory and round-trips a sample message
 * of each through the codec, printing what it did. (FileMQ will take over the demo once it lands.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatDiagnostic } from "../generator/diagnostics.js";
import { generate } from "../generator/generate.js";
import { loadModelOrThrow } from "../generator/model.js";
import { checkDigests, sampleMessage } from "../generator/samples.js";
import { codecSchema } from "../generator/schema.js";
import { decodeDynamic, encodeDynamic } from "../runtime/wire/interpret.js";
import { toJsonForm } from "../runtime/wire/json.js";
import { plural } from "../runtime/wire/plural.js";

const out = mkdtempSync(join(tmpdir(), "zproto-demo-"));
try {
  const result = generate(["models"], { out, runtime: { specifier: "zproto-ts/runtime" } });
  for (const diagnostic of result.diagnostics) console.log(formatDiagnostic(diagnostic));
  if (!result.ok) throw new Error("the models have errors");
  for (const file of result.written) {
    const model = loadModelOrThrow(file.model);
    if (model.kind !== "codec") {
      console.log(`\n${model.className}: ${model.title}`);
      console.log(`  generated ${file.output} from ${file.model} (${model.kind} engine: ${plural(model.states.length, "state")}, ${plural(model.actions.length, "action")} to implement)`);
      continue;
    }
    const schema = codecSchema(model);
    console.log(`\n${model.className}: ${model.title}`);
    console.log(`  generated ${file.output} from ${file.model} (${plural(model.messages.length, "message")}, ${model.framing} framing)`);
    for (const message of model.messages) {
      const sample = sampleMessage(message);
      const frames = encodeDynamic(schema, sample);
      const decoded = decodeDynamic(schema, frames);
      const same = JSON.stringify(toJsonForm(schema, decoded)) === JSON.stringify(toJsonForm(schema, sample));
      const shown = frames.map((frame) => (frame.length > 24 ? `${frame.subarray(0, 24).toString("hex")}…(${frame.length})` : frame.toString("hex") || '""'));
      console.log(`  ${message.name.padEnd(16)} ${plural(frames.length, "frame ", "frames")} ${shown.join(" | ")}  -> decoded ${same ? "back to the same message" : "DIFFERENTLY"}`);
      if (!same) process.exitCode = 1;
    }
    for (const check of checkDigests(model)) {
      console.log(`  digest of ${check.message}: ${check.ok ? "matches the model" : `MISMATCH (${check.actual})`} ${check.expected}`);
      if (!check.ok) process.exitCode = 1;
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
