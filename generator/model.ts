/**
 * Front door of the generator: load a model file, decide which kind of model it is, check and normalise it.
 */
import type { CodecIR, MachineIR } from "./ir.js";
import { buildCodecModel } from "./codec-model.js";
import { buildMachineModel } from "./machine-model.js";
import { Diagnostics, ModelError, type Diagnostic, type Location } from "./diagnostics.js";
import { displayPath, loadModelFile, type ModelFileOptions } from "./load.js";

/** The model kinds zproto-ts compiles, named after the zproto scripts that select them. */
export type ModelKind = "codec" | "server" | "client";

const SCRIPTS: ReadonlyMap<string, ModelKind> = new Map([
  ["zproto_codec_c", "codec"],
  ["zproto_codec_c_v1", "codec"],
  ["zproto_server_c", "server"],
  ["zproto_client_c", "client"],
]);

/** Options of {@link loadModel}. */
export interface LoadOptions extends ModelFileOptions {
  /** Model kind to assume instead of the `script` attribute. */
  readonly kind?: ModelKind;
}

/** What loading a model gave: the IR when it had no errors, and every diagnostic. */
export interface LoadResult {
  readonly model: CodecIR | MachineIR | null;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Loads, checks and normalises a model, written in XML or (a `.zpl` file) in ZPL; never throws for problems
 * in the model itself.
 */
export function loadModel(path: string, options: LoadOptions = {}): LoadResult {
  const diagnostics = new Diagnostics();
  const root = loadModelFile(path, diagnostics, null, options);
  if (root === null) return { model: null, diagnostics: diagnostics.sorted() };
  if (root.name !== "class") {
    diagnostics.error(root.at, `the root element of a model is <class>, not <${root.name}>`);
    return { model: null, diagnostics: diagnostics.sorted() };
  }
  let kind = options.kind;
  if (kind === undefined) {
    const script = root.attributes.get("script");
    kind = script === undefined ? undefined : SCRIPTS.get(script.value.trim());
    if (kind === undefined) {
      diagnostics.error(script?.at ?? root.at, script === undefined
        ? "<class> has no script attribute: say zproto_codec_c, zproto_server_c or zproto_client_c (or pass --kind)"
        : `script "${script.value}" is not one zproto-ts compiles (zproto_codec_c, zproto_server_c, zproto_client_c)`);
      return { model: null, diagnostics: diagnostics.sorted() };
    }
  }
  const model = kind === "codec" ? buildCodecModel(root, displayPath(path), diagnostics)
    : buildMachineModel(root, kind, path, displayPath(path), (codecPath, from) => loadCodec(codecPath, from, diagnostics, options), diagnostics);
  // Errors found while loading (a missing include, say) fail the model as much as its own.
  return { model: diagnostics.hasErrors ? null : model, diagnostics: diagnostics.sorted() };
}

/** The codec model a machine names, checked as part of that machine. */
function loadCodec(path: string, from: Location, diagnostics: Diagnostics, options: ModelFileOptions): CodecIR | null {
  const root = loadModelFile(path, diagnostics, from, options);
  if (root === null) return null;
  if (root.name !== "class") {
    diagnostics.error(root.at, `the root element of a codec model is <class>, not <${root.name}>`);
    return null;
  }
  const script = root.attributes.get("script");
  const kind = script === undefined ? undefined : SCRIPTS.get(script.value.trim());
  if (kind !== undefined && kind !== "codec") {
    // Checked as a codec, a machine model would bring an error for each of its states.
    diagnostics.error(from, `${displayPath(path)} is a ${kind} model; protocol_class names codec models`);
    return null;
  }
  return buildCodecModel(root, displayPath(path), diagnostics);
}

/** Like {@link loadModel}, but throws {@link ModelError} when the model has errors. */
export function loadModelOrThrow(path: string, options: LoadOptions = {}): CodecIR | MachineIR {
  const result = loadModel(path, options);
  if (result.model === null) throw new ModelError(result.diagnostics);
  return result.model;
}

/** Loads a codec model, throwing {@link ModelError} when it has errors or is not a codec model. */
export function loadCodecModel(path: string): CodecIR {
  const model = loadModelOrThrow(path, { kind: "codec" });
  if (model.kind !== "codec") throw new Error(`${path} is not a codec model`);
  return model;
}
