/**
 * Reads a model file into a small element tree that remembers where each element and attribute was written.
 * fast-xml-parser does the parsing; nothing of its output shape travels further than this module.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Diagnostics, Location } from "./diagnostics.js";

/** An attribute with the position of its name. */
export interface XmlAttribute {
  readonly value: string;
  readonly at: Location;
}

/** An element with its attributes, child elements and text, in document order. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, XmlAttribute>;
  readonly children: XmlElement[];
  /** Text content directly inside this element (documentation), concatenated. */
  readonly text: string;
  readonly at: Location;
}

type Ordered = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  captureMetaData: true,
  allowBooleanAttributes: true,
});
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

/** Maps character offsets to 1-based lines and columns. */
class LineIndex {
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
 * Parses XML text. Returns the root element, or null after reporting a syntax error (with its position)
 * to `diagnostics`.
 */
export function parseXml(text: string, file: string, diagnostics: Diagnostics): XmlElement | null {
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: true });
  if (valid !== true) {
    // The validator gives no column for some errors (an empty file, say).
    diagnostics.error({ file, line: valid.err.line, column: valid.err.col ?? 1 }, `XML is not well-formed: ${valid.err.msg}`);
    return null;
  }
  const lines = new LineIndex(text);
  const nodes = parser.parse(text) as Ordered[];
  const roots = nodes.map((node) => toElement(node, text, file, lines)).filter((e): e is XmlElement => e !== null);
  if (roots.length !== 1) {
    diagnostics.error({ file, line: 1, column: 1 }, "a model file has exactly one root element");
    return null;
  }
  return roots[0];
}

function toElement(node: Ordered, text: string, file: string, lines: LineIndex): XmlElement | null {
  const name = Object.keys(node).find((key) => key !== ":@" && !key.startsWith("#") && key !== "?xml");
  if (name === undefined) return null;
  const meta = (node as Record<symbol, { startIndex?: number } | undefined>)[META];
  const start = meta?.startIndex ?? 0;
  const at = lines.locate(file, start);
  const openTag = text.slice(start, tagEnd(text, start));
  const attributes = new Map<string, XmlAttribute>();
  const raw = (node[":@"] ?? {}) as Record<string, unknown>;
  for (const [attribute, value] of Object.entries(raw)) {
    const offset = attributeOffset(openTag, attribute);
    attributes.set(attribute, {
      value: typeof value === "string" ? value : "",
      at: offset < 0 ? at : lines.locate(file, start + offset),
    });
  }
  const children: XmlElement[] = [];
  let body = "";
  for (const child of (node[name] ?? []) as Ordered[]) {
    if (typeof child["#text"] === "string") body += child["#text"];
    else {
      const element = toElement(child, text, file, lines);
      if (element !== null) children.push(element);
    }
  }
  return { name, attributes, children, text: body, at };
}

/** Offset of the `>` that ends the tag starting at `start`, skipping quoted attribute values. */
function tagEnd(text: string, start: number): number {
  let quote = "";
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return i + 1;
  }
  return text.length;
}

function attributeOffset(openTag: string, attribute: string): number {
  const escaped = attribute.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`\\s(${escaped})\\s*=`).exec(openTag);
  return match === null ? -1 : match.index + 1;
}
