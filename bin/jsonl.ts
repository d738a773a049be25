/**
 * The wire inspector behind `zproto encode|decode --jsonl`: JSON lines in, one answer line out per input line,
 * on any model file, using the schema interpreter (no generated code needed).
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { decodeDynamic, encodeDynamic } from "../runtime/wire/interpret.js";
import { hexToBytes } from "../runtime/wire/notation.js";
import { fromJsonForm, toJsonForm } from "../runtime/wire/json.js";
import type { CodecSchema } from "../runtime/wire/schema.js";

/** A request line that is JSON but not a request this command takes. */
class BadRequest extends Error {
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

/** What a `{"frames": [hex, ...], "routing_id"?: hex}` request line asks about. */
export interface FramesRequest {
  readonly frames: Buffer[];
  readonly routingId: Buffer | undefined;
}

/**
 * Reads a frames request line for `command`; throws `SyntaxError` for a line that is not JSON and `BadRequest`
 * for one that is not a request, saying which part is wrong and why.
 */
export function framesRequest(line: string, command: string): FramesRequest {
  const request: unknown = JSON.parse(line);
  const { frames, routing_id: routing } = typeof request === "object" && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>) : {};
  if (!Array.isArray(frames)) {
    throw new BadRequest(`a ${command} request is {"frames": [hex, ...]}, with "routing_id": hex if the message has one`);
  }
  return {
    frames: frames.map((frame: unknown, index) => hexValue(frame, `frame ${index}`)),
    routingId: routing === undefined ? undefined : hexValue(routing, "routing_id"),
  };
}

/** The octets of a hex string in a request; `BadRequest` naming `what` and saying why when it is not one. */
function hexValue(value: unknown, what: string): Buffer {
  if (typeof value !== "string") throw new BadRequest(`${what} is ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}, not a hex string`);
  const bytes = hexToBytes(value);
  if (bytes !== undefined) return bytes;
  const bad = /[^0-9a-fA-F]/.exec(value);
  if (bad !== null) throw new BadRequest(`${what} has ${JSON.stringify(bad[0])} at position ${bad.index}, which is not a hex digit`);
  throw new BadRequest(`${what} has an odd number of hex digits (${value.length}); an octet is two digits`);
}

/** Answers one decode request line. */
export function decodeLine(schema: CodecSchema, line: string): object {
  try {
    return toJsonForm(schema, decodeDynamic(schema, framesRequest(line, "decode").frames));
  } catch (error) {
    return { error: errorText(error) };
  }
}

/** Reads lines from `input` and writes what `answer` makes of each to `output`, in order, minding backpressure. */
export async function eachLine(input: Readable, output: Writable, answer: (line: string, index: number) => string): Promise<void> {
  let index = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (!output.write(answer(line, index++))) await new Promise((resolve) => output.once("drain", resolve));
  }
}

/** Reads JSON lines from `input` and writes one answer line per line to `output`. */
export function answerLines(input: Readable, output: Writable, answer: (line: string) => object): Promise<void> {
  return eachLine(input, output, (line) => JSON.stringify(answer(line)) + "\n");
}
