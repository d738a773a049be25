/**
 * `zproto print` and `zproto encode --zpl`: messages in their ZPL form (docs/zpl.md, "The ZPL form of a message"), on any model file,
 * using the schema interpreter.
 */
import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { bytesToHex, decodeDynamic, dynamicCodec, encodeDynamic, printZplForm, readZplForm, type CodecSchema } from "../runtime/wire/index.js";
import { ZplError, parseZpl, type ZplNodeData } from "../runtime/zpl/index.js";
import { eachLine, errorText, framesRequest } from "./jsonl.js";

/** `zproto print`: each frames line of `input` as its message's ZPL form (or an error comment), blank lines between. */
export function printForms(input: Readable, output: Writable, schema: CodecSchema, redact: boolean): Promise<void> {
  return eachLine(input, output, (line, index) => (index > 0 ? "\n" : "") + printForm(schema, line, redact));
}

/** The ZPL form of the message of one frames request line, or a comment saying why there is none. */
function printForm(schema: CodecSchema, line: string, redact: boolean): string {
  try {
    const { frames, routingId } = framesRequest(line, "print");
    return printZplForm(schema, decodeDynamic(schema, frames), routingId !== undefined ? { redact, routingId } : { redact });
  } catch (error) {
    // A comment, so that the output stays ZPL that `encode --zpl` reads (it skips the failed lines).
    return `# error: ${errorText(error).replace(/\s*[\r\n]+\s*/g, " ")}\n`;
  }
}

/** `zproto encode --zpl FILE`: one frames line for each message of a ZPL document, an error line for a bad one. */
export function encodeForms(file: string, schema: CodecSchema): number {
  let document: ZplNodeData;
  try {
    // No size limit: the forms are the user's own input, and what print wrote of a long capture must read back.
    document = parseZpl(readFileSync(file === "-" ? 0 : file, "utf8"), { source: file === "-" ? "stdin" : file, maxBytes: Infinity });
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
