/**
 * Writes a model's element tree as ZPL, by the rules of model-syntax.ts: the form the ZPL reader reads back
 * as the same model. Blank lines separate the root's children; values go unquoted when they are one word.
 */
import { isValidZplName, ZplWriteError } from "../runtime/zpl/index.js";
import { zplValueText } from "../runtime/zpl/write.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import type { ModelElement } from "./element.js";
import { ATTRIBUTE_MARK, CONTINUATION, DOC, identifyingAttribute, isElementOf, modelText, valueIsText } from "./model-syntax.js";

const INDENT = "    ";

type Quoting = "always" | "when-needed";

/** The ZPL text of a model, or null after reporting to `diagnostics` what ZPL cannot hold. */
export function writeZplModel(root: ModelElement, diagnostics: Diagnostics): string | null {
  const writer = new ZplModelWriter(diagnostics);
  writer.element(root, null, 0);
  return diagnostics.hasErrors ? null : writer.lines.map((line) => `${line}\n`).join("");
}

/**
 * `value` in pieces that ZPL can each quote: whole when it can be written at all, else cut wherever the next
 * character is the second kind of quote, so that each piece holds one kind and is quoted with the other.
 */
function pieces(value: string): string[] {
  try {
    zplValueText(value, "");
    return [value];
  } catch {
    const cut: string[] = [];
    let start = 0;
    let quote: string | undefined;
    for (let i = 0; i < value.length; i++) {
      const character = value[i];
      if (character !== '"' && character !== "'") continue;
      if (quote !== undefined && quote !== character) {
        cut.push(value.slice(start, i));
        start = i;
      }
      quote = character;
    }
    return [...cut, value.slice(start)];
  }
}

class ZplModelWriter {
  readonly lines: string[] = [];

  constructor(private readonly diagnostics: Diagnostics) {}

  element(element: ModelElement, parent: ModelElement | null, depth: number): void {
    const indent = INDENT.repeat(depth);
    if (parent !== null && element.name === DOC) {
      this.diagnostics.error(element.at, `an element named <${DOC}> has no ZPL form: ${DOC} lines are documentation text`);
    }
    this.checkName(element.name, element.at);
    // An element the language does not place here would read back as an attribute if written as
    // `name = value` without children, so it keeps its value among its children.
    const placed = parent === null || isElementOf(parent.name, element.name);
    const text = modelText(element);
    const textLines = text === "" ? [] : text.split("\n");
    let value: { text: string; at: Location } | undefined;
    let valueAttribute: string | undefined;
    if (placed && valueIsText(element.name) && textLines.length > 0) {
      value = { text: textLines.shift()!, at: element.at };
    } else if (placed && !valueIsText(element.name)) {
      valueAttribute = identifyingAttribute(element.name);
      const attribute = element.attributes.get(valueAttribute);
      if (attribute !== undefined) value = { text: attribute.value, at: attribute.at };
    }
    if (depth === 1) this.lines.push("");
    if (value === undefined) this.lines.push(`${indent}${element.name}`);
    else this.property(indent, element.name, value.text, value.at, "when-needed");
    const inner = indent + INDENT;
    for (const [name, attribute] of element.attributes) {
      if (name === valueAttribute) continue;
      this.checkName(name, attribute.at);
      const mark = name === DOC || isElementOf(element.name, name) ? ATTRIBUTE_MARK : "";
      this.property(inner, mark + name, attribute.value, attribute.at, "when-needed");
    }
    for (const line of textLines) {
      if (line === "") this.lines.push(`${inner}${DOC}`);
      else this.property(inner, DOC, line, element.at, "always");
    }
    for (const child of element.children) this.element(child, element, depth + 1);
  }

  /** `name = value` at `indent`, with continuation lines when the value must be written in pieces. */
  private property(indent: string, name: string, value: string, at: Location, quoting: Quoting): void {
    const [first, ...rest] = pieces(value);
    this.lines.push(`${indent}${name} = ${this.valueText(first, at, name, quoting)}`);
    for (const piece of rest) this.lines.push(`${indent}${INDENT}${CONTINUATION} = ${this.valueText(piece, at, name, quoting)}`);
  }

  private valueText(text: string, at: Location, name: string, quoting: Quoting): string {
    try {
      return zplValueText(text, "", quoting);
    } catch (error) {
      if (!(error instanceof ZplWriteError)) throw error;
      this.diagnostics.error(at, `${name === DOC ? "a line of documentation" : `the value of ${name}`} cannot be written in ZPL: ${error.message}`);
      return "";
    }
  }

  private checkName(name: string, at: Location): void {
    if (!isValidZplName(name) || name.startsWith(ATTRIBUTE_MARK)) this.diagnostics.error(at, `${name} is not a ZPL name, so it cannot be written in ZPL`);
  }
}
