/**
 * Loads a model file and resolves its `<include>` elements: the root element of the included file takes
 * the include's place, before anything else looks at the model. Missing files and include cycles are errors.
 */
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { Diagnostics, Location } from "./diagnostics.js";
import { parseXml, type XmlElement } from "./xml.js";

/** How a model file path is shown in diagnostics: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith("..") || shown === "" ? path : shown;
}

/** Reads and parses one model file with its includes resolved; null when it could not be read at all. */
export function loadModelFile(path: string, diagnostics: Diagnostics, referencedFrom: Location | null = null): XmlElement | null {
  return loadFile(resolve(path), diagnostics, [], referencedFrom);
}

function loadFile(path: string, diagnostics: Diagnostics, stack: string[], includedFrom: Location | null): XmlElement | null {
  const file = displayPath(path);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read (${(error as Error).message})`;
    diagnostics.error(includedFrom ?? { file, line: 1, column: 1 }, includedFrom ? `file ${file} ${reason}` : `model file ${file} ${reason}`);
    return null;
  }
  const root = parseXml(text, file, diagnostics);
  if (root === null) return null;
  return resolveIncludes(root, path, diagnostics, [...stack, path]);
}

function resolveIncludes(element: XmlElement, path: string, diagnostics: Diagnostics, stack: string[]): XmlElement {
  const children: XmlElement[] = [];
  for (const child of element.children) {
    if (child.name !== "include") {
      children.push(resolveIncludes(child, path, diagnostics, stack));
      continue;
    }
    const filename = child.attributes.get("filename");
    if (filename === undefined || filename.value.trim() === "") {
      diagnostics.error(child.at, "<include> needs a filename attribute");
      continue;
    }
    const target = resolve(dirname(path), filename.value);
    if (stack.includes(target)) {
      diagnostics.error(filename.at, `include cycle: ${[...stack, target].map(displayPath).join(" -> ")}`);
      continue;
    }
    const included = loadFile(target, diagnostics, stack, filename.at);
    // A <fragment> root (several states, say, or a whole SASL exchange) splices its children in place.
    if (included !== null) children.push(...(included.name === "fragment" ? included.children : [included]));
  }
  return { ...element, children };
}
