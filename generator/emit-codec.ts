/** Emits the TypeScript codec module of a codec model. */
import type { CodecIR } from "./ir.js";
import { RUNTIME_VALUES, codecView } from "./codec-view.js";
import { render } from "./templates.js";

/** Runtime types a generated codec may use. */
const RUNTIME_TYPES = ["Codec", "CodecSchema", "Draft", "JsonMessage", "Routed", "SubscriptionNotice", "ZplFormOptions", "ZplNode", "ZplNodeData"];
/** Names only mentioned in TSDoc links still need importing for the links to resolve. */
const DOC_ONLY = ["EncodeError", "JsonFormError", "MalformedError", "ZplFormError"];

/** Options of code emission. */
export interface EmitOptions {
  /** Module specifier of the runtime: a relative path inside this repository, `zproto-ts/runtime` elsewhere. */
  readonly runtimeImport: string;
}

/** The codec module's source text. */
export function emitCodec(model: CodecIR, options: EmitOptions): string {
  const view = codecView(model);
  const body = render("codec.ts.hbs", view);
  // A name counts only where it is not a property (`reader.unknownId` is FrameReader's method, not the
  // import); a spread (`...msgValue(`) is a use.
  const uses = (name: string): boolean => new RegExp(`(?<![\\w$])(?<![^.]\\.)${name}\\b`).test(body.replace("@@IMPORTS@@", ""));
  const names = [
    ...[...RUNTIME_VALUES, ...DOC_ONLY].filter(uses).sort(),
    ...RUNTIME_TYPES.filter(uses).sort().map((name) => `type ${name}`),
  ];
  const imports = `import {\n${names.map((name) => `  ${name},`).join("\n")}\n} from "${options.runtimeImport}";`;
  return tidy(body.replace("@@IMPORTS@@", imports));
}

/**
 * Trailing spaces off, at most one blank line in a row, one final newline. Linear in the source, which
 * holds the model's text: a regular expression such as /[ \t]+$/ would backtrack over every long run of
 * spaces inside a line, quadratically.
 */
export function tidy(source: string): string {
  return source.split("\n").map(trimSpacesEnd).join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

function trimSpacesEnd(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === " " || line[end - 1] === "\t")) end--;
  return line.slice(0, end);
}
