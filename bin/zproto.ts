#!/usr/bin/env node
/**
 * The `zproto` command: generate code from models, check models, inspect wire bytes, print grammars and
 * diagrams, start an implementation. Each command is one entry of {@link COMMANDS}: its help and what it runs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { formatDiagnostic, type Diagnostic } from "../generator/diagnostics.js";
import { convertModel } from "../generator/convert.js";
import { DIAGRAM_FORMATS, renderDiagram, type DiagramFormat } from "../generator/diagram.js";
import { generate, type RuntimeLocation } from "../generator/generate.js";
import { grammar } from "../generator/grammar.js";
import type { CodecIR } from "../generator/ir.js";
import { loadModel, type LoadOptions, type ModelKind } from "../generator/model.js";
import { findModels, loadOptionsFor } from "../generator/model-files.js";
import { checkDigests } from "../generator/samples.js";
import { planSkeleton, skeleton } from "../generator/skeleton.js";
import { codecSchema } from "../generator/schema.js";
import { plural } from "../runtime/wire/plural.js";
import { UsageError, exitOnBrokenPipe, packageVersion, runProgram, type Command, type OptionSpec, type OptionValues } from "./cli.js";
import { answerLines, decodeLine, encodeLine } from "./jsonl.js";
import { encodeForms, printForms } from "./zpl-forms.js";

/** Every command that loads models takes these. */
const KIND: OptionSpec = { type: "string", value: "codec|server|client", help: "the model's kind, when its script attribute is missing or foreign" };
const ALLOW_OUTSIDE: OptionSpec = { type: "boolean", help: "let <include> read files outside the model's directory tree" };
const INCLUDE_ROOT: OptionSpec = { type: "string", value: "DIR", help: "let <include> read anywhere under DIR instead of the model's own directory (models/filemq includes models/sasl: --include-root models)" };
const MODEL_OPTIONS = { kind: KIND, "allow-outside": ALLOW_OUTSIDE, "include-root": INCLUDE_ROOT } as const;

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const diagnostic of diagnostics) process.stderr.write(formatDiagnostic(diagnostic) + "\n");
}

/** The `--kind`, `--allow-outside` and `--include-root` options as load options. */
function loadOptions(options: OptionValues): LoadOptions {
  const kind = options.kind;
  const root = options["include-root"];
  const outside = { ...(options["allow-outside"] === true ? { allowOutside: true } : {}), ...(typeof root === "string" ? { includeRoot: root } : {}) };
  if (kind === undefined) return outside;
  if (kind !== "codec" && kind !== "server" && kind !== "client") throw new UsageError("--kind must be codec, server or client");
  return { kind: kind as ModelKind, ...outside };
}

/** Loads a codec model for a command that works on messages; an exit status when it cannot. */
function loadCodec(file: string, options: OptionValues): CodecIR | number {
  const result = loadModel(file, loadOptions(options));
  printDiagnostics(result.diagnostics);
  if (result.model === null) return 1;
  if (result.model.kind !== "codec") throw new UsageError(`works on codec models; ${file} is a ${result.model.kind} model`);
  return result.model;
}

const generateCommand: Command = {
  name: "generate",
  synopsis: "<model|dir>... [--out DIR] [--runtime PREFIX | --runtime-dir DIR]",
  summary: "generate TypeScript from models",
  description: `
Writes one .ts file per model: a codec module for a codec model, an engine module for a server or client
model. A model is an XML file or, in ZPL syntax, a .zpl file. A directory stands for every .xml and .zpl
file below it (files whose names start with _ are fragments for <include> and are skipped; x.xml beside
x.zpl is an error); its sub-directories are mirrored under --out. Every model is checked first: if
any has an error, every problem is printed as file:line:column and nothing is written.

Generated codecs import zproto-ts/runtime/wire, generated engines zproto-ts/runtime/engine.`,
  options: {
    out: { type: "string", value: "DIR", help: "where the files go (default: beside each model)" },
    runtime: { type: "string", value: "PREFIX", help: "import the runtime from PREFIX/wire and PREFIX/engine (default: zproto-ts/runtime)" },
    "runtime-dir": { type: "string", value: "DIR", help: "import the runtime by relative paths to DIR/wire/index.js and DIR/engine/index.js" },
    ...MODEL_OPTIONS,
  },
  operands: { noun: "model file or directory", many: true },
  run(files, options) {
    if (options.runtime !== undefined && options["runtime-dir"] !== undefined) throw new UsageError("give --runtime or --runtime-dir, not both");
    const runtime: RuntimeLocation | undefined = typeof options.runtime === "string" ? { specifier: options.runtime }
      : typeof options["runtime-dir"] === "string" ? { directory: options["runtime-dir"] } : undefined;
    const result = generate(files, { ...loadOptions(options), ...(typeof options.out === "string" ? { out: options.out } : {}), ...(runtime ? { runtime } : {}) });
    printDiagnostics(result.diagnostics);
    if (!result.ok) return 1;
    for (const file of result.written) process.stdout.write(`${file.model} -> ${file.output}\n`);
    return 0;
  },
};

const checkCommand: Command = {
  name: "check",
  synopsis: "<model|dir>... [--check-digests]",
  summary: "check models and report every problem",
  description: `
Checks each model (an .xml file, or a .zpl file in ZPL syntax; a directory stands for the models under it,
as for generate) and prints every problem at once, as file:line:column: error: sentence (warnings too),
then "file: ok (...)" for each model without errors. Exits 1 if any model has an error.`,
  options: {
    "check-digests": { type: "boolean", help: "also compare each message's digest attribute with the SHA-1 of the body its <test> values encode to" },
    ...MODEL_OPTIONS,
  },
  operands: { noun: "model file or directory", many: true },
  run(inputs, options) {
    const found = findModels(inputs);
    printDiagnostics(found.diagnostics);
    let failed = found.diagnostics.length > 0;
    for (const input of found.models) {
      const file = input.model;
      const result = loadModel(file, loadOptionsFor(input, loadOptions(options)));
      printDiagnostics(result.diagnostics);
      const model = result.model;
      if (model === null) {
        failed = true;
        continue;
      }
      let digestsFailed = false;
      if (options["check-digests"] === true && model.kind === "codec") {
        for (const check of checkDigests(model)) {
          if (check.ok) continue;
          digestsFailed = true;
          process.stderr.write(`${file}: error: message ${check.message} has digest ${check.expected}, its test values encode to ${check.actual}\n`);
        }
      }
      failed ||= digestsFailed;
      const summary = model.kind === "codec" ? plural(model.messages.length, "message") : `${model.kind} machine, ${plural(model.states.length, "state")}`;
      if (!digestsFailed) process.stdout.write(`${file}: ok (${summary})\n`);
    }
    return failed ? 1 : 0;
  },
};

const encodeCommand: Command = {
  name: "encode",
  synopsis: "<model> --jsonl | --zpl FILE",
  summary: "encode messages given as JSON lines or ZPL forms into frames",
  description: `
With --jsonl, reads one message a line on stdin in its JSON form, {"message": "NAME", "fields": {...}},
and answers each with a line {"frames": [hex, ...]} on stdout, or {"error": "Kind: text"} for a line it
cannot encode (and goes on). With --zpl FILE, reads the messages of a ZPL document in the form 'zproto print'
shows (- for stdin) and answers one line per message the same way, with "routing_id" first when the form
has one. No code needs to be generated first.`,
  options: {
    jsonl: { type: "boolean", help: "read JSON lines on stdin" },
    zpl: { type: "string", value: "FILE", help: "read the ZPL forms of messages from FILE (- for stdin)" },
    ...MODEL_OPTIONS,
  },
  operands: { noun: "model file", many: false },
  async run([file], options) {
    if (options.jsonl === true && options.zpl !== undefined) throw new UsageError("give --jsonl or --zpl FILE, not both");
    if (options.jsonl !== true && options.zpl === undefined) throw new UsageError("reads JSON lines (--jsonl) or a ZPL file (--zpl FILE)");
    const model = loadCodec(file, options);
    if (typeof model === "number") return model;
    const schema = codecSchema(model);
    if (typeof options.zpl === "string") return encodeForms(options.zpl, schema);
    await answerLines(process.stdin, process.stdout, (line) => encodeLine(schema, line));
    return 0;
  },
};

const decodeCommand: Command = {
  name: "decode",
  synopsis: "<model> --jsonl",
  summary: "decode frames given as JSON lines into messages",
  description: `
Reads one message a line on stdin, {"frames": [hex, ...]}, and answers each with its JSON form on stdout,
{"model", "message", "id", "fields"} ("topic" too in pubsub models), or {"error": "Kind: text"} for a line
that is not a valid message (and goes on). Decoding is strict: a message is valid only if every frame and
every octet is accounted for.`,
  options: {
    jsonl: { type: "boolean", help: "read JSON lines on stdin (required)" },
    ...MODEL_OPTIONS,
  },
  operands: { noun: "model file", many: false },
  async run([file], options) {
    if (options.jsonl !== true) throw new UsageError("reads JSON lines: pass --jsonl");
    const model = loadCodec(file, options);
    if (typeof model === "number") return model;
    const schema = codecSchema(model);
    await answerLines(process.stdin, process.stdout, (line) => decodeLine(schema, line));
    return 0;
  },
};

const printCommand: Command = {
  name: "print",
  synopsis: "<model> [--redact]",
  summary: "print frames given as JSON lines as messages in ZPL form",
  description: `
Reads the lines 'decode --jsonl' reads, {"frames": [hex, ...]} with "routing_id": hex for a message from a
ROUTER socket, and prints each message in its ZPL form, blank lines between. A line that does not decode
prints as a comment, # error: Kind: text, so that the output is still ZPL that 'encode --zpl' reads back.`,
  options: {
    redact: { type: "boolean", help: "show secret fields as <redacted> (for logs and tickets; such output does not encode back)" },
    ...MODEL_OPTIONS,
  },
  operands: { noun: "model file", many: false },
  async run([file], options) {
    const model = loadCodec(file, options);
    if (typeof model === "number") return model;
    await printForms(process.stdin, process.stdout, codecSchema(model), options.redact === true);
    return 0;
  },
};

const grammarCommand: Command = {
  name: "grammar",
  synopsis: "<model>",
  summary: "print a codec model's ABNF grammar",
  description: `
Prints the protocol's grammar in ABNF: the messages, in the order and framing they travel, and each field's
encoding.`,
  options: MODEL_OPTIONS,
  operands: { noun: "model file", many: false },
  run([file], options) {
    const model = loadCodec(file, options);
    if (typeof model === "number") return model;
    process.stdout.write(grammar(model));
    return 0;
  },
};

const diagramCommand: Command = {
  name: "diagram",
  synopsis: "<model> [--format svg|dot] [--out FILE]",
  summary: "draw a server or client model's state machine",
  description: `
Draws the state machine of a server or client model as a UML state chart: a box per state listing the
events it handles in place, an arrow per transition labelled EVENT / actions, and dashed arrows from states
to the superstates they inherit from. Writes SVG (or Graphviz DOT source) to stdout, or to FILE, creating its
directory if needed.`,
  options: {
    format: { type: "string", value: "svg|dot", help: "SVG picture or Graphviz DOT source (default: svg)" },
    out: { type: "string", value: "FILE", help: "write the drawing to FILE instead of stdout" },
    ...MODEL_OPTIONS,
  },
  operands: { noun: "model file", many: false },
  async run([file], options) {
    const format = (options.format ?? "svg") as DiagramFormat;
    if (!DIAGRAM_FORMATS.includes(format)) throw new UsageError("--format must be svg or dot");
    const result = loadModel(file, loadOptions(options));
    printDiagnostics(result.diagnostics);
    if (result.model === null) return 1;
    if (result.model.kind === "codec") {
      throw new UsageError(`${file} is a codec model; it has no state machine to draw (diagram takes server and client models)`);
    }
    const drawing = await renderDiagram(result.model, format);
    if (typeof options.out !== "string") {
      process.stdout.write(drawing);
      return 0;
    }
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, drawing);
    return 0;
  },
};

const skeletonCommand: Command = {
  name: "skeleton",
  synopsis: "<model> --out FILE [--engine FILE] [--stdout]",
  summary: "write a first implementation of a server or client model's actions",
  description: `
Writes, once, a first implementation file for a server or client model: the state it keeps per connection
and an object with one method per action, each documented with where it runs. An existing FILE is left
alone: regenerate the engine and type-check, and the compiler names what the file lacks.`,
  options: {
    out: { type: "string", value: "FILE", help: "the implementation file to write (required)" },
    engine: { type: "string", value: "FILE", help: "the engine module it imports (default: where generate puts it, beside the model)" },
    stdout: { type: "boolean", help: "print the skeleton instead of writing it" },
    ...MODEL_OPTIONS,
  },
  operands: { noun: "model file", many: false },
  run([file], options) {
    if (typeof options.out !== "string") throw new UsageError("needs --out FILE: where the implementation file goes");
    const skeletonOptions = { ...loadOptions(options), out: options.out, ...(typeof options.engine === "string" ? { engine: options.engine } : {}) };
    const result = options.stdout === true ? planSkeleton(file, skeletonOptions) : skeleton(file, skeletonOptions);
    printDiagnostics(result.diagnostics);
    if (result.status === "not-a-machine") return 2;
    if (result.text === null) return 1;
    if (options.stdout === true) {
      process.stdout.write(result.text);
      return 0;
    }
    if (result.status === "exists") {
      process.stderr.write(`zproto: ${result.path} exists; left alone. Regenerate the engine and type-check to see what it lacks.\n`);
      return 0;
    }
    process.stdout.write(`${file} -> ${result.path}\n`);
    if (!result.engineFound) process.stderr.write(`zproto: ${result.engine} does not exist yet: run zproto generate ${file} so the skeleton compiles\n`);
    return 0;
  },
};

const convertCommand: Command = {
  name: "convert",
  synopsis: "<model> [--to xml|zpl] [--out FILE]",
  summary: "write a model in the other syntax (XML or ZPL)",
  description: `
Writes the model in the other surface syntax (default: the one it is not in), to stdout or to FILE,
creating its directory if needed. Documentation text and the order of everything are kept; comments are
not model content and are not carried over (a note says how many were dropped). Both forms check and
generate identically.`,
  options: {
    to: { type: "string", value: "xml|zpl", help: "the syntax to write (default: the one the model is not in)" },
    out: { type: "string", value: "FILE", help: "write the model to FILE instead of stdout" },
  },
  operands: { noun: "model file", many: false },
  run([file], options) {
    const to = options.to;
    if (to !== undefined && to !== "xml" && to !== "zpl") throw new UsageError("--to must be xml or zpl");
    const result = convertModel(file, to);
    printDiagnostics(result.diagnostics);
    if (result.text === null) return 1;
    if (result.comments > 0) {
      const which = result.comments === 1 ? "the comment of" : `the ${result.comments} comments of`;
      process.stderr.write(`zproto: note: ${which} ${file} ${result.comments === 1 ? "is" : "are"} not model content and not carried over\n`);
    }
    if (typeof options.out !== "string") {
      process.stdout.write(result.text);
      return 0;
    }
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, result.text);
    process.stdout.write(`${file} -> ${options.out}\n`);
    return 0;
  },
};

/** Every command, in the order help lists them. */
const COMMANDS: readonly Command[] = [
  generateCommand, checkCommand, encodeCommand, decodeCommand, printCommand, grammarCommand, diagramCommand, skeletonCommand, convertCommand,
];

exitOnBrokenPipe();
runProgram({
  name: "zproto",
  version: packageVersion(import.meta.url),
  summary: "Compiles zproto models into TypeScript codecs and state-machine engines, and inspects messages on the wire.\n" +
    "A <model> is a model file in XML (.xml) or in ZPL (.zpl).",
  commands: COMMANDS,
}, process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`zproto: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
