/**
 * Front door of the generator: load a model file, decide which kind of model it is, check and normalise it.
 */
import type { CodecIR } from "./ir.js";
import { buildCodecModel } from "./codec-model.js";
import { Diagnostics, ModelError, type Diagnostic } from "./diagnostics.js";
import { displayPath, loadModelFile } from "./load.js";

/** The model kinds zproto-ts compiles, named after the zproto scripts that select them. */
export type ModelKind = "codec" | "server" | "client";

const SCRIPTS: Record<string, ModelKind> = {
  zproto_codec_c: "codec",
  zproto_codec_c_v1: "codec",
  zproto_server_c: "server",
  zproto_client_c: "client",
};

/** Options of {@link loadModel}. */
export interface LoadOptions {
  /** Model kind to assume instead of the `script` attribute. */
  readonly kind?: ModelKind;
}

/** What loading a model gave: the IR when it had no errors, and every diagnostic. */
export interface LoadResult {
  readonly model: CodecIR | null;
  readonly diagnostics: readonly Diagnostic[];
}

/** Loads, checks and normalises a codec model; never throws for problems in the model itself. */
export function loadModel(path: string, options: LoadOptions = {}): LoadResult {
  const diagnostics = new Diagnostics();
  const root = loadModelFile(path, diagnostics);
  if (root === null) return { model: null, diagnostics: diagnostics.sorted() };
  if (root.name !== "class") {
    diagnostics.error(root.at, `the root element of a model is <class>, not <${root.name}>`);
    return { model: null, diagnostics: diagnostics.sorted() };
  }
  let kind = options.kind;
  if (kind === undefined) {
    const script = root.attributes.get("script");
    kind = script === undefined ? undefined : SCRIPTS[script.value.trim()];
    if (kind === undefined) {
      diagnostics.error(script?.at ?? root.at, script === undefined
        ? "<class> has no script attribute: say zproto_codec_c, zproto_server_c or zproto_client_c (or pass --kind)"
        : `script "${script.value}" is not one zproto-ts compiles (zproto_codec_c, zproto_server_c, zproto_client_c)`);
      return { model: null, diagnostics: diagnostics.sorted() };
    }
  }
  if (kind !== "codec") {
    diagnostics.error(root.at, `${kind} models are not supported yet`);
    return { model: null, diagnostics: diagnostics.sorted() };
  }
  const model = buildCodecModel(root, displayPath(path), diagnostics);
  // Errors found while loading (a missing include, say) fail the model as much as its own.
  return { model: diagnostics.hasErrors ? null : model, diagnostics: diagnostics.sorted() };
}

/** Like {@link loadModel}, but throws {@link ModelError} when the model has errors. */
export function loadModelOrThrow(path: string, options: LoadOptions = {}): CodecIR {
  const result = loadModel(path, options);
  if (result.model === null) throw new ModelError(result.diagnostics);
  return result.model;
}
