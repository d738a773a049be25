/**
 * Turns model files into TypeScript files: finds the models, checks every one of them first, and writes
 * nothing unless all are free of errors.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { Diagnostic } from "./diagnostics.js";
import { emitCodec } from "./emit-codec.js";
import { loadModel, type LoadOptions } from "./model.js";

/** Where generated code finds the runtime. */
export type RuntimeLocation =
  | { readonly specifier: string }
  /** A directory of the runtime's `index.js`, imported by a path relative to each generated file. */
  | { readonly directory: string };

/** Options of {@link generate}. */
export interface GenerateOptions extends LoadOptions {
  /** Output directory; by default each file is written beside its model. */
  readonly out?: string;
  readonly runtime?: RuntimeLocation;
}

/** One model file found, and where its code goes. */
export interface PlannedFile {
  readonly model: string;
  readonly output: string;
}

/** What {@link generate} did. */
export interface GenerateResult {
  readonly written: readonly PlannedFile[];
  readonly diagnostics: readonly Diagnostic[];
  readonly ok: boolean;
}

function modelsUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return modelsUnder(path);
      return entry.isFile() && entry.name.endsWith(".xml") && !entry.name.startsWith("_") ? [path] : [];
    });
}

/**
 * Where each input's code goes. A directory argument stands for every `.xml` under it, except files whose
 * names start with `_` (fragments meant for `<include>`); its sub-directories are mirrored under `out`.
 */
export function planFiles(inputs: readonly string[], out?: string): PlannedFile[] {
  return inputs.flatMap((input) => {
    if (statSync(input, { throwIfNoEntry: false })?.isDirectory()) {
      return modelsUnder(input).map((model) => ({
        model,
        output: join(out ?? input, relative(input, dirname(model)), basename(model, ".xml") + ".ts"),
      }));
    }
    return [{ model: input, output: join(out ?? dirname(input), basename(input, ".xml") + ".ts") }];
  });
}

function runtimeSpecifier(runtime: RuntimeLocation | undefined, output: string): string {
  if (runtime === undefined) return "zproto-ts/runtime";
  if ("specifier" in runtime) return runtime.specifier;
  let path = relative(dirname(resolve(output)), resolve(runtime.directory, "index.js")).split(sep).join("/");
  if (!path.startsWith(".")) path = `./${path}`;
  return path;
}

/** Generates code for every model; writes nothing if any model has errors. */
export function generate(inputs: readonly string[], options: GenerateOptions = {}): GenerateResult {
  const planned = planFiles(inputs, options.out);
  const diagnostics: Diagnostic[] = [];
  const sources: { file: PlannedFile; text: string }[] = [];
  for (const file of planned) {
    const result = loadModel(file.model, options);
    diagnostics.push(...result.diagnostics);
    if (result.model !== null) {
      sources.push({ file, text: emitCodec(result.model, { runtimeImport: runtimeSpecifier(options.runtime, file.output) }) });
    }
  }
  if (diagnostics.some((diagnostic) => diagnostic.severity === "error")) return { written: [], diagnostics, ok: false };
  for (const { file, text } of sources) {
    mkdirSync(dirname(file.output), { recursive: true });
    writeFileSync(file.output, text);
  }
  return { written: sources.map((source) => source.file), diagnostics, ok: true };
}
