#!/usr/bin/env node
/**
 * The `zproto` command: generate code from models, check models, inspect wire bytes, print grammars.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { convertModel } from "../generator/convert.js";
import { formatDiagnostic, type Diagnostic } from "../generator/diagnostics.js";
import { DIAGRAM_FORMATS, renderDiagram, type DiagramFormat } from "../generator/diagram.js";
import { generate, type RuntimeLocation } from "../generator/generate.js";
import { grammar } from "../generator/grammar.js";
import { loadModel, type ModelKind } from "../generator/model.js";
import { checkDigests } from "../generator/samples.js";
import { planSkeleton, skeleton } from "../generator/skeleton.js";
import { codecSchema } from "../generator/schema.js";
import { answerLines, decodeLine, encodeLine } from "./jsonl.js";
import { encodeForms, printForms } from "./zpl-forms.js";

const USAGE = `Usage: zproto <command> [options]

A model is an XML file or, in ZPL syntax, a .zpl file: <model.xml> below stands for either.

Commands:
  generate <model.xml|dir>... [--out DIR] [--runtime SPECIFIER | --runtime-dir DIR]
                           generate TypeScript from models (a directory means every .xml and .zpl
                           under it)
  check <model.xml>... [--check-digests]
                           check models; print every problem as file:line:column; with
                           --check-digests also compare each message's digest attribute with the
                           SHA-1 of the body its <test> values encode to
  encode <model.xml> --jsonl | --zpl FILE
                           JSON lines {"message", "fields"} on stdin, or the messages of a ZPL file in
                           the form print shows (FILE - is stdin) -> {"frames": [hex...]} on stdout, one
                           line a message ({"routing_id", "frames"} when the form has a routing_id)
  decode <model.xml> --jsonl
                           JSON lines {"frames": [hex...]} on stdin -> {"message", "fields"} on stdout
  print <model.xml> [--redact]
                           JSON lines {"frames": [hex...]} (optionally "routing_id": hex) on stdin ->
                           each message in ZPL form, or a "# error: ..." line, blank lines between
  grammar <model.xml>      print the protocol's ABNF grammar
  diagram <model.xml> [--format svg|dot] [--out FILE]
                           draw a server or client model's state machine (default: SVG on stdout)
  skeleton <model.xml> --out FILE [--engine FILE] [--stdout]
                           write a first implementation of a server or client model's actions, once:
                           an existing FILE is left alone (the compiler then tells what it lacks)
  convert <model> [--to xml|zpl] [--out FILE]
                           write the model in the other syntax (default: stdout), keeping its
                           documentation text and the order of everything; comments are not model
                           content and are not carried over

Options:
  --kind codec|server|client   model kind, instead of the model's script attribute
  --allow-outside              let <include> read files outside the model's directory tree
  --out DIR                    where generated files go (default: beside each model)
  --runtime SPECIFIER          module generated code imports the runtime from (default: zproto-ts/runtime)
  --runtime-dir DIR            import the runtime by a relative path to DIR/index.js instead
  --format svg|dot             diagram: SVG picture or Graphviz DOT source (default: svg)
  --zpl FILE                   encode: read ZPL message forms from FILE (- for stdin) instead of JSON lines
  --engine FILE                skeleton: the engine module it imports (default: where generate puts it)
  --stdout                     skeleton: print the skeleton instead of writing it
  --redact                     print: show secret fields as <redacted> (for logs; does not encode back)
  --to xml|zpl                 convert: the syntax to write (default: the one the model is not in)
`;

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const diagnostic of diagnostics) process.stderr.write(formatDiagnostic(diagnostic) + "\n");
}

function usage(message: string): number {
  process.stderr.write(`zproto: ${message}\n\n${USAGE}`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      runtime: { type: "string" },
      "runtime-dir": { type: "string" },
      kind: { type: "string" },
      jsonl: { type: "boolean" },
      "check-digests": { type: "boolean" },
      format: { type: "string" },
      zpl: { type: "string" },
      redact: { type: "boolean" },
      engine: { type: "string" },
      stdout: { type: "boolean" },
      to: { type: "string" },
      "allow-outside": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...files] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const kind = values.kind as ModelKind | undefined;
  if (kind !== undefined && !["codec", "server", "client"].includes(kind)) return usage(`--kind must be codec, server or client`);
  const loadOptions = { ...(kind !== undefined ? { kind } : {}), ...(values["allow-outside"] ? { allowOutside: true } : {}) };
  if (files.length === 0) return usage(`${command} needs a model file`);

  switch (command) {
    case "generate": {
      if (values.runtime !== undefined && values["runtime-dir"] !== undefined) return usage("give --runtime or --runtime-dir, not both");
      const runtime: RuntimeLocation | undefined = values.runtime !== undefined ? { specifier: values.runtime }
        : values["runtime-dir"] !== undefined ? { directory: values["runtime-dir"] } : undefined;
      const result = generate(files, { ...loadOptions, ...(values.out !== undefined ? { out: values.out } : {}), ...(runtime ? { runtime } : {}) });
      printDiagnostics(result.diagnostics);
      if (!result.ok) return 1;
      for (const file of result.written) process.stdout.write(`${file.model} -> ${file.output}\n`);
      return 0;
    }
    case "check": {
      let failed = false;
      for (const file of files) {
        const result = loadModel(file, loadOptions);
        printDiagnostics(result.diagnostics);
        if (result.model === null) {
          failed = true;
          continue;
        }
        if (values["check-digests"] && result.model.kind === "codec") {
          for (const check of checkDigests(result.model)) {
            if (check.ok) continue;
            failed = true;
            process.stderr.write(`${file}: error: message ${check.message} has digest ${check.expected}, its test values encode to ${check.actual}\n`);
          }
        }
        const model = result.model;
        if (!failed) process.stdout.write(`${file}: ok (${model.kind === "codec" ? `${model.messages.length} messages` : `${model.kind} machine, ${model.states.length} states`})\n`);
      }
      return failed ? 1 : 0;
    }
    case "encode":
    case "decode":
    case "print":
    case "grammar": {
      if (files.length !== 1) return usage(`${command} takes exactly one model file`);
      const result = loadModel(files[0], loadOptions);
      printDiagnostics(result.diagnostics);
      if (result.model === null) return 1;
      const model = result.model;
      if (model.kind !== "codec") return usage(`${command} works on codec models; ${files[0]} is a ${model.kind} model`);
      if (command === "grammar") {
        process.stdout.write(grammar(model));
        return 0;
      }
      const schema = codecSchema(model);
      if (command === "print") {
        await printForms(process.stdin, process.stdout, schema, values.redact === true);
        return 0;
      }
      if (command === "encode" && values.zpl !== undefined) {
        if (values.jsonl) return usage("give --jsonl or --zpl, not both");
        return encodeForms(values.zpl, schema);
      }
      if (!values.jsonl) return usage(command === "encode" ? "encode reads JSON lines (--jsonl) or a ZPL file (--zpl FILE)" : `${command} reads JSON lines: pass --jsonl`);
      await answerLines(process.stdin, process.stdout, (line) => (command === "encode" ? encodeLine(schema, line) : decodeLine(schema, line)));
      return 0;
    }
    case "skeleton": {
      if (files.length !== 1) return usage("skeleton takes exactly one model file");
      if (values.out === undefined) return usage("skeleton needs --out FILE: where the implementation file goes");
      const options = { ...loadOptions, out: values.out, ...(values.engine !== undefined ? { engine: values.engine } : {}) };
      const result = values.stdout ? planSkeleton(files[0], options) : skeleton(files[0], options);
      printDiagnostics(result.diagnostics);
      if (result.status === "not-a-machine") return 2;
      if (result.text === null) return 1;
      if (values.stdout) {
        process.stdout.write(result.text);
        return 0;
      }
      if (result.status === "exists") {
        process.stderr.write(`zproto: ${result.path} exists; left alone. Regenerate the engine and type-check to see what it lacks.\n`);
        return 0;
      }
      process.stdout.write(`${files[0]} -> ${result.path}\n`);
      if (!result.engineFound) process.stderr.write(`zproto: ${result.engine} does not exist yet: run zproto generate ${files[0]} so the skeleton compiles\n`);
      return 0;
    }
    case "diagram": {
      if (files.length !== 1) return usage("diagram takes exactly one model file");
      const format = (values.format ?? "svg") as DiagramFormat;
      if (!DIAGRAM_FORMATS.includes(format)) return usage("--format must be svg or dot");
      const result = loadModel(files[0], loadOptions);
      printDiagnostics(result.diagnostics);
      if (result.model === null) return 1;
      if (result.model.kind === "codec") {
        process.stderr.write(`zproto: ${files[0]} is a codec model; it has no state machine to draw (diagram takes server and client models)\n`);
        return 2;
      }
      const drawing = await renderDiagram(result.model, format);
      if (values.out !== undefined) writeFileSync(values.out, drawing);
      else process.stdout.write(drawing);
      return 0;
    }
    case "convert": {
      if (files.length !== 1) return usage("convert takes exactly one model file");
      if (values.to !== undefined && values.to !== "xml" && values.to !== "zpl") return usage("--to must be xml or zpl");
      const result = convertModel(files[0], values.to);
      printDiagnostics(result.diagnostics);
      if (result.text === null) return 1;
      if (result.comments > 0) {
        const which = result.comments === 1 ? "the comment of" : `the ${result.comments} comments of`;
        process.stderr.write(`zproto: note: ${which} ${files[0]} ${result.comments === 1 ? "is" : "are"} not model content and not carried over\n`);
      }
      if (values.out === undefined) process.stdout.write(result.text);
      else {
        mkdirSync(dirname(values.out), { recursive: true });
        writeFileSync(values.out, result.text);
        process.stdout.write(`${files[0]} -> ${values.out}\n`);
      }
      return 0;
    }
    default:
      return usage(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`zproto: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof TypeError && (error as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? 2 : 1;
  },
);
