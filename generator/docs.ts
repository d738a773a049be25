/** Documentation text of model elements: the text content, without the indentation of the XML. */
import type { ModelElement } from "./element.js";

/** Dedented, trimmed documentation text of an element ("" when there is none). */
export function documentation(element: ModelElement): string {
  return dedent(element.text);
}

/**
 * Removes the common indentation and surrounding blank lines of a text block. Linear in the text: a model
 * file may hold hundreds of thousands of lines (more than `Math.min(...)` takes arguments, and too many to
 * drop blank ones one `shift()` at a time).
 */
export function dedent(text: string): string {
  const all = text.replace(/\r\n?/g, "\n").split("\n").map((line) => line.trimEnd());
  const first = all.findIndex((line) => line !== "");
  if (first === -1) return "";
  const lines = all.slice(first, all.findLastIndex((line) => line !== "") + 1);
  let common = Infinity;
  for (const line of lines) if (line !== "") common = Math.min(common, /^ */.exec(line)![0].length);
  return lines.map((line) => line.slice(common)).join("\n");
}
