/** Documentation text of model elements: the text content, without the indentation of the XML. */
import type { XmlElement } from "./xml.js";

/** Dedented, trimmed documentation text of an element ("" when there is none). */
export function documentation(element: XmlElement): string {
  return dedent(element.text);
}

/** Removes the common indentation and surrounding blank lines of a text block. */
export function dedent(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n").map((line) => line.replace(/\s+$/, ""));
  while (lines.length > 0 && lines[0] === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const indents = lines.filter((line) => line !== "").map((line) => /^ */.exec(line)![0].length);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((line) => line.slice(common)).join("\n");
}
