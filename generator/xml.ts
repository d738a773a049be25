/**
 * Reads an XML model file into the element tree ({@link ModelElement}), remembering where each element and
 * attribute was written. fast-xml-parser does the parsing; nothing of its output shape travels further than
 * this module.
 */
import { isUtf8 } from "node:buffer";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Diagnostics, Location } from "./diagnostics.js";
import type { ModelAttribute, ModelElement, ParsedModel } from "./element.js";

type Ordered = Record<string, unknown>;

const COMMENT = "#comment";
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  captureMetaData: true,
  allowBooleanAttributes: true,
  commentPropName: COMMENT,
  // Names like toString are kept as written (the default renames them __toString): nothing here looks names up
  // on the objects the parser builds. It still refuses __proto__, constructor and prototype.
  onDangerousProperty: (name: string) => name,
});
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

/** Maps character offsets to 1-based lines and columns. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  locate(file: string, offset: number): Location {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return { file, line: low + 1, column: offset - this.starts[low] + 1 };
  }
}

/**
 * Parses an XML model file's bytes, which must be UTF-8: a byte that is not is an error at its position, so
 * that no text of the model turns into U+FFFD on its way into generated code.
 */
export function parseXmlBytes(bytes: Buffer, file: string, diagnostics: Diagnostics): ParsedModel | null {
  const text = bytes.toString("utf8");
  if (!isUtf8(bytes)) {
    const index = firstReplacement(bytes, text);
    diagnostics.error(new LineIndex(text).locate(file, index.text), `invalid UTF-8 (byte 0x${bytes[index.byte].toString(16).toUpperCase().padStart(2, "0")}); save the model as UTF-8`);
    return null;
  }
  return parseXml(text, file, diagnostics);
}

/** Where the decoder first replaced bytes that are not UTF-8, in `text` and in `bytes` (a U+FFFD written as such is not one). */
function firstReplacement(bytes: Buffer, text: string): { text: number; byte: number } {
  let byte = 0;
  let index = 0;
  for (const character of text) {
    if (character === "\uFFFD" && !(bytes[byte] === 0xef && bytes[byte + 1] === 0xbf && bytes[byte + 2] === 0xbd)) break;
    byte += Buffer.byteLength(character);
    index += character.length;
  }
  return { text: index, byte };
}

/**
 * Parses XML text. Returns the root element, or null after reporting why not (with a position) to
 * `diagnostics`. Text that does not begin like XML is refused without quoting any of it: a path that names
 * some other file must not print that file's content.
 */
export function parseXml(text: string, file: string, diagnostics: Diagnostics): ParsedModel | null {
  const first = /\S/.exec(text.replace(/^\uFEFF/, ""));
  if (first === null) {
    diagnostics.error({ file, line: 1, column: 1 }, `model file ${file} is empty`);
    return null;
  }
  if (first[0] !== "<") {
    diagnostics.error({ file, line: 1, column: 1 }, `${file} is not an XML model: it does not begin with '<'`);
    return null;
  }
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: true });
  if (valid !== true) {
    diagnostics.error({ file, line: valid.err.line || 1, column: valid.err.col || 1 }, `XML is not well-formed: ${valid.err.msg}`);
    return null;
  }
  let document: Ordered[];
  try {
    document = parser.parse(text) as Ordered[];
  } catch (error) {
    // Well-formed XML the parser still refuses: elements nested too deep, a name like __proto__, an external entity.
    diagnostics.error({ file, line: 1, column: 1 }, `XML cannot be read as a model: ${(error as Error).message}`);
    return null;
  }
  const reader = new ElementReader(text, file);
  const roots = document.map((node) => reader.element(node)).filter((e): e is ModelElement => e !== null);
  if (roots.length !== 1) {
    diagnostics.error({ file, line: 1, column: 1 }, "a model file has exactly one root element");
    return null;
  }
  return { root: roots[0], comments: reader.comments };
}

/** Turns fast-xml-parser's ordered output into elements, counting the comments it passes. */
class ElementReader {
  private readonly lines: LineIndex;
  comments = 0;

  constructor(private readonly text: string, private readonly file: string) {
    this.lines = new LineIndex(text);
  }

  element(node: Ordered): ModelElement | null {
    if (COMMENT in node) this.comments++;
    const name = Object.keys(node).find((key) => key !== ":@" && !key.startsWith("#") && key !== "?xml");
    if (name === undefined) return null;
    const meta = (node as Record<symbol, { startIndex?: number } | undefined>)[META];
    const start = meta?.startIndex ?? 0;
    const at = this.lines.locate(this.file, start);
    const offsets = attributeOffsets(this.text, start);
    const attributes = new Map<string, ModelAttribute>();
    for (const [attribute, value] of Object.entries((node[":@"] ?? {}) as Record<string, unknown>)) {
      const offset = offsets.get(attribute);
      attributes.set(attribute, {
        value: typeof value === "string" ? value : "",
        at: offset === undefined ? at : this.lines.locate(this.file, offset),
      });
    }
    const children: ModelElement[] = [];
    let body = "";
    for (const child of (node[name] ?? []) as Ordered[]) {
      if (typeof child["#text"] === "string") body += child["#text"];
      else {
        const element = this.element(child);
        if (element !== null) children.push(element);
      }
    }
    return { name, attributes, children, text: body, at };
  }
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

/**
 * Where each attribute of the start tag at `start` begins, found in one pass over the tag (so a tag with
 * many attributes costs its length, not its length times their number). Only the first of a repeated
 * attribute counts; the validator has refused repeats already.
 */
function attributeOffsets(text: string, start: number): Map<string, number> {
  const offsets = new Map<string, number>();
  let i = start + 1;
  while (i < text.length && !isSpace(text[i]) && text[i] !== ">" && text[i] !== "/") i++;
  while (i < text.length) {
    while (i < text.length && isSpace(text[i])) i++;
    if (i >= text.length || text[i] === ">" || text[i] === "/") break;
    const nameStart = i;
    while (i < text.length && !isSpace(text[i]) && text[i] !== "=" && text[i] !== ">" && text[i] !== "/") i++;
    const name = text.slice(nameStart, i);
    if (!offsets.has(name)) offsets.set(name, nameStart);
    while (i < text.length && isSpace(text[i])) i++;
    if (text[i] !== "=") continue;
    i++;
    while (i < text.length && isSpace(text[i])) i++;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const close = text.indexOf(quote, i + 1);
      i = close === -1 ? text.length : close + 1;
    }
  }
  return offsets;
}
