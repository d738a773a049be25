/**
 * Turns model files into TypeScript files: finds the models, checks every one of them first, and writes
 * nothing unless all are free of errors.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Diagnostic } from "./diagnostics.js";
import { emitCodec } from "./emit-codec.js";
import { emitMachine } from "./emit-machine.js";
import { displayPath, modelStem } from "./load.js";
import { loadModel, type LoadOptions } from "./model.js";
import { findModels, loadOptionsFor, type ModelInput } from "./model-files.js";
import { relativeModule } from "./module-path.js";

/**
 * Where generated code finds the runtime: a package specifier whose `/wire` and `/engine` sub-paths are
 * imported (`zproto-ts/runtime` by default), or the runtime's directory, imported by relative paths.
 */
export type RuntimeLocation =
  | { readonly specifier: string }
  | { readonly directory: string };

/** Options of {@link generate}. */
export interface GenerateOptions extends LoadOptions {
  /** Output directory; by default each file is written beside its model. */
  readonly out?: string;
  readonly runtime?: RuntimeLocation;
}

/** One model file found, and where its code goes. */
export interface PlannedFile extends ModelInput {
  readonly output: string;
}

/** What {@link generate} did. */
export interface GenerateResult {
  readonly written: readonly PlannedFile[];
  readonly diagnostics: readonly Diagnostic[];
  readonly ok: boolean;
}

/**
 * Where each model's code goes ({@link findModels} says which models the inputs name): beside the model, or
 * under `out`, where a directory argument's sub-directories are mirrored.
 */
export function planFiles(inputs: readonly string[], out?: string): PlannedFile[] {
  return findModels(inputs).models.map(plannedFile(out));
}

function plannedFile(out: string | undefined): (input: ModelInput) => PlannedFile {
  return (input) => {
    const directory = input.root !== undefined ? join(out ?? input.root, relative(input.root, dirname(input.model))) : out ?? dirname(input.model);
    return { ...input, output: join(directory, modelStem(input.model) + ".ts") };
  };
}

/** Two models planned into one output file (`x.xml` beside `x.zpl`, say): an error naming both. */
function collisions(planned: readonly PlannedFile[]): Diagnostic[] {
  const byOutput = new Map<string, string>();
  return planned.flatMap((file) => {
    const output = resolve(file.output);
    const other = byOutput.get(output);
    byOutput.set(output, other ?? file.model);
    if (other === undefined) return [];
    return [{
      file: displayPath(file.model), line: 1, column: 1, severity: "error" as const,
      message: `${displayPath(other)} and ${displayPath(file.model)} would both generate ${displayPath(output)}; keep one of them`,
    }];
  });
}

/** The module specifier of one part of the runtime (`wire` or `engine`) as seen from `output`. */
function runtimeSpecifier(runtime: RuntimeLocation | undefined, part: "wire" | "engine", output: string): string {
  if (runtime === undefined) return `zproto-ts/runtime/${part}`;
  if ("specifier" in runtime) return `${runtime.specifier}/${part}`;
  return relativeModule(output, join(runtime.directory, part, "index.js"));
}

/** Generates code for every model; writes nothing if any model has errors. */
export function generate(inputs: readonly string[], options: GenerateOptions = {}): GenerateResult {
  const found = findModels(inputs);
  const planned = found.models.map(plannedFile(options.out));
  const diagnostics: Diagnostic[] = [...found.diagnostics, ...collisions(planned)];
  const sources: { file: PlannedFile; text: string }[] = [];
  for (const file of planned) {
    const result = loadModel(file.model, loadOptionsFor(file, options));
    diagnostics.push(...result.diagnostics);
    const model = result.model;
    if (model === null) continue;
    const wire = runtimeSpecifier(options.runtime, "wire", file.output);
    const text = model.kind === "codec" ? emitCodec(model, { runtimeImport: wire })
      : emitMachine(model, { runtimeImport: runtimeSpecifier(options.runtime, "engine", file.output), wireImport: wire });
    sources.push({ file, text });
  }
  if (diagnostics.some((diagnostic) => diagnostic.severity === "error")) return { written: [], diagnostics, ok: false };
  for (const { file, text } of sources) {
    mkdirSync(dirname(file.output), { recursive: true });
    writeFileSync(file.output, text);
  }
  return { written: sources.map((source) => source.file), diagnostics, ok: true };
}
