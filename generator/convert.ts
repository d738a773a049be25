/**
 * `zproto convert`: a model file in the other syntax (XML to ZPL or back), keeping its documentation text and
 * the order of everything. Works on the file as written: includes stay includes, and the model is not
 * checked, so a model with errors converts too (its errors come out the same on the other side).
 */
import { Diagnostics, type Diagnostic } from "./diagnostics.js";
import { parseModelFile, syntaxOf, type ModelSyntax } from "./load.js";
import { writeXmlModel } from "./write-xml-model.js";
import { writeZplModel } from "./write-zpl-model.js";

/** What {@link convertModel} made. */
export interface ConvertResult {
  /** The model in the target syntax; null when it could not be read or has no form in that syntax. */
  readonly text: string | null;
  readonly syntax: ModelSyntax;
  /** Comments of the source file, which are not model content and so are not carried over. */
  readonly comments: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** Converts the model file at `path` to `to` (by default the syntax it is not written in). */
export function convertModel(path: string, to?: ModelSyntax): ConvertResult {
  const diagnostics = new Diagnostics();
  const syntax = to ?? (syntaxOf(path) === "xml" ? "zpl" : "xml");
  const parsed = parseModelFile(path, diagnostics);
  if (parsed === null) return { text: null, syntax, comments: 0, diagnostics: diagnostics.sorted() };
  const text = syntax === "zpl" ? writeZplModel(parsed.root, diagnostics) : writeXmlModel(parsed.root, diagnostics);
  return { text, syntax, comments: parsed.comments, diagnostics: diagnostics.sorted() };
}
