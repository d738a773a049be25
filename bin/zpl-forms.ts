/**
 * `zproto print` and `zproto encode --zpl`: messages in their ZPL form (`spec/zpl.md` §4), on any model file,
 * using the schema interpreter.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { bytesToHex, decodeDynamic, dynamicCodec, encodeDynamic, hexToBytes, printZplForm, readZplForm, type CodecSchema } from "../runtime/wire/index.js";
import { ZplError, parseZpl, type ZplNodeData } from "../runtime/zpl/index.js";
import { BadRequest, errorText } from "./jsonl.js";

/** `zproto print`: each frames line of `input` as its message's ZPL form (or an error comment), blank lines between. */
export async function printForms(input: Readable, output: Writable, schema: CodecSchema, redact: boolean): Promise<void> {
  let separator = "";
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    let text: string;
    try {
      text = printForm(schema, line, redact);
    } catch (error) {
      // A comment, so that the output stays ZPL that `encode --zpl` reads (it skips the failed lines).
      text = `# error: ${errorText(error).replace(/\s*[\r\n]+\s*/g, " ")}\n`;
    }
    if (!output.write(separator + text)) await new Promise((resolve) => output.once("drain", resolve));
    separator = "\n";
  }
}

/** The ZPL form of the message of one `{"frames": [hex...], "routing_id"?: hex}` line. */
function printForm(schema: CodecSchema, line: string, redact: boolean): string {
  const request: unknown = JSON.parse(line);
  const { frames, routing_id: routing } = typeof request === "object" && request !== null ? (request as Record<string, unknown>) : {};
  const bytes = Array.isArray(frames) ? frames.map((frame) => (typeof frame === "string" ? hexToBytes(frame) : undefined)) : [undefined];
  const routingId = typeof routing === "string" ? hexToBytes(routing) : undefined;
  if (bytes.some((frame) => frame === undefined) || (routing !== undefined && routingId === undefined)) {
    throw new BadRequest('a print request is {"frames": [hex, ...]}, with "routing_id": hex if the message has one');
  }
  const message = decodeDynamic(schema, bytes as Buffer[]);
  return printZplForm(schema, message, routingId !== undefined ? { redact, routingId } : { redact });
}

/** `zproto encode --zpl FILE`: one frames line for each message of a ZPL document, an error line for a bad one. */
export function encodeForms(file: string, schema: CodecSchema): number {
  let document: ZplNodeData;
  try {
    document = parseZpl(readFileSync(file === "-" ? 0 : file, "utf8"), { source: file === "-" ? "stdin" : file });
  } catch (error) {
    if (!(error instanceof ZplError)) throw error;
    process.stderr.write(`${error.toString()}\n`);
    return 1;
  }
  const codec = dynamicCodec(schema);
  for (const form of document.children) {
    let answer: object;
    try {
      const { message, routingId } = readZplForm(codec, form);
      const frames = encodeDynamic(schema, message).map(bytesToHex);
      answer = routingId !== undefined ? { routing_id: bytesToHex(routingId), frames } : { frames };
    } catch (error) {
      answer = { error: errorText(error) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
  return 0;
}
