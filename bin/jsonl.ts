/**
 * The wire inspector behind `zproto encode|decode --jsonl`: JSON lines in, one answer line out per input line,
 * on any model file, using the schema interpreter (no generated code needed).
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { decodeDynamic, encodeDynamic } from "../runtime/wire/interpret.js";
import { fromJsonForm, toJsonForm } from "../runtime/wire/json.js";
import type { CodecSchema } from "../runtime/wire/schema.js";

/** A request line that is JSON but not a request this command takes. */
export class BadRequest extends Error {
  override readonly name = "BadRequest";
}

/**
 * `Kind: text`, the way every answer words an error: the kind of the runtime's typed errors (`Truncated`,
 * `TooLong`, ...), else the error's name (`SyntaxError` for a line that is not JSON, `JsonFormError`, ...).
 */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return `Error: ${String(error)}`;
  const kind = "kind" in error && typeof error.kind === "string" ? error.kind : error.name;
  return `${kind}: ${error.message}`;
}

/** Answers one encode request line. */
export function encodeLine(schema: CodecSchema, line: string): object {
  try {
    const frames = encodeDynamic(schema, fromJsonForm(schema, JSON.parse(line)));
    return { frames: frames.map((frame) => frame.toString("hex")) };
  } catch (error) {
    return { error: errorText(error) };
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Answers one decode request line. */
export function decodeLine(schema: CodecSchema, line: string): object {
  try {
    const request = JSON.parse(line) as { frames?: unknown };
    const frames = request?.frames;
    if (!Array.isArray(frames) || !frames.every((frame) => typeof frame === "string" && HEX.test(frame))) {
      throw new BadRequest('a decode request is {"frames": [hex, ...]}');
    }
    return toJsonForm(schema, decodeDynamic(schema, frames.map((frame: string) => Buffer.from(frame, "hex"))));
  } catch (error) {
    return { error: errorText(error) };
  }
}

/** Reads JSON lines from `input` and writes one answer line per line to `output`. */
export async function answerLines(input: Readable, output: Writable, answer: (line: string) => object): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    const text = JSON.stringify(answer(line)) + "\n";
    if (!output.write(text)) await new Promise((resolve) => output.once("drain", resolve));
  }
}
