/**
 * Writes a model's element tree as XML in the layout of the models shipped here: the root's attributes one a
 * line, its text and children unindented and separated by blank lines, everything deeper indented 4 spaces,
 * short text inline. The XML reader reads it back as the same model.
 */
import type { Diagnostics, Location } from "./diagnostics.js";
import type { ModelElement } from "./element.js";
import { modelText, valueIsText } from "./model-syntax.js";

const INDENT = "    ";
/** XML names as far as model names go: ZPL names may also hold `$&+/@` or begin with a digit, `-` or `.`. */
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Names the XML reader refuses (its parser builds objects keyed by them). */
const REFUSED_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/** The XML text of a model, or null after reporting to `diagnostics` what XML cannot hold. */
export function writeXmlModel(root: ModelElement, diagnostics: Diagnostics): string | null {
  const lines: string[] = [];
  const checkName = (name: string, at: Location): void => {
    if (!XML_NAME.test(name)) diagnostics.error(at, `${name} is not an XML name, so it cannot be written in XML`);
    else if (REFUSED_NAMES.has(name)) diagnostics.error(at, `${name} cannot be an element or attribute name in an XML model (the XML reader refuses it)`);
  };
  const attributes = (element: ModelElement, separator: string): string => [...element.attributes].map(([name, attribute]) => {
    checkName(name, attribute.at);
    return `${separator}${name} = "${escape(attribute.value, /[&<>"]/g)}"`;
  }).join("");

  const write = (element: ModelElement, depth: number): void => {
    checkName(element.name, element.at);
    const indent = INDENT.repeat(Math.max(depth - 1, 0));
    const inner = depth === 0 ? "" : indent + INDENT;
    const text = modelText(element);
    const open = depth === 0 && element.attributes.size > 0
      ? `<${element.name}${attributes(element, `\n${INDENT}`)}\n${INDENT}>`
      : `${indent}<${element.name}${attributes(element, " ")}>`;
    if (element.children.length === 0 && (valueIsText(element.name) || !text.includes("\n"))) {
      // A <test> value is read trimmed but otherwise as written, so it is never re-indented.
      lines.push(text === "" ? `${open.slice(0, -1).trimEnd()} />` : `${open}${escape(text, /[&<>]/g)}</${element.name}>`);
      return;
    }
    lines.push(open);
    if (text !== "") lines.push(...text.split("\n").map((line) => (line === "" ? "" : inner + escape(line, /[&<>]/g))));
    element.children.forEach((child, index) => {
      if (depth === 0 && (index > 0 || text !== "")) lines.push("");
      write(child, depth + 1);
    });
    lines.push(`${indent}</${element.name}>`);
  };
  write(root, 0);
  return diagnostics.hasErrors ? null : lines.map((line) => `${line}\n`).join("");
}

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

function escape(text: string, characters: RegExp): string {
  return text.replace(characters, (character) => ENTITIES[character]);
}
