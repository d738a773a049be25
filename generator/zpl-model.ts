/**
 * Reads a ZPL model file into the element tree ({@link ModelElement}) the XML reader produces, by the rules
 * of model-syntax.ts, with the line and column of every element and attribute in the .zpl file.
 */
import { parseZplBytes, ZplError, type ZplNode, type ZplPropertyPosition } from "../runtime/zpl/index.js";
import type { Diagnostics, Location } from "./diagnostics.js";
import type { ModelAttribute, ModelElement, ParsedModel } from "./element.js";
import { ATTRIBUTE_MARK, CONTINUATION, DOC, identifyingAttribute, isElementOf, isModelElement, valueIsText } from "./model-syntax.js";

/**
 * Parses a ZPL model. Returns its root element, or null after reporting why not to `diagnostics`. Text whose
 * first property is not an element of the model language is refused without quoting any of it: a path that
 * names some other file must not print that file's content.
 */
export function parseZplModel(bytes: Uint8Array, file: string, diagnostics: Diagnostics): ParsedModel | null {
  // A byte-order mark is left for the parser, which says what it is.
  const firstProperty = /^[ \t]*([^\s#].*)$/m.exec(Buffer.from(bytes).toString("utf8").replace(/^\uFEFF/, ""));
  if (firstProperty === null) {
    diagnostics.error({ file, line: 1, column: 1 }, `model file ${file} is empty`);
    return null;
  }
  if (!isModelElement(/^[A-Za-z0-9$\-_@.&+/]*/.exec(firstProperty[1])![0])) {
    diagnostics.error({ file, line: 1, column: 1 }, `${file} is not a ZPL model: it does not begin with an element of the model language`);
    return null;
  }
  const positions = new Map<ZplNode, ZplPropertyPosition>();
  let document: ZplNode;
  try {
    document = parseZplBytes(bytes, {
      source: file,
      maxBytes: Infinity,
      onProperty: (node, position) => positions.set(node, position),
      onWarning: (warning) => diagnostics.warning({ file, line: warning.line, column: warning.column }, warning.message),
    });
  } catch (error) {
    if (!(error instanceof ZplError)) throw error;
    diagnostics.error({ file, line: Math.max(error.line, 1), column: Math.max(error.column, 1) }, error.message);
    return null;
  }
  if (document.children.length !== 1) {
    const second = positions.get(document.children[1])!;
    diagnostics.error({ file, line: second.line, column: second.column }, "a model file has exactly one root element");
    return null;
  }
  const reader = new ElementReader(file, positions, diagnostics);
  const root = reader.element(document.children[0]);
  return { root, comments: countComments(document) };
}

function countComments(document: ZplNode): number {
  let count = 0;
  const pending = [document];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    count += node.comments.length;
    pending.push(...node.children);
  }
  return count;
}

/** Builds elements from ZPL nodes, reporting what the mapping refuses. */
class ElementReader {
  constructor(
    private readonly file: string,
    private readonly positions: ReadonlyMap<ZplNode, ZplPropertyPosition>,
    private readonly diagnostics: Diagnostics,
  ) {}

  private where(node: ZplNode, ofValue = false): Location {
    const position = this.positions.get(node)!;
    return { file: this.file, line: position.line, column: ofValue ? position.valueColumn ?? position.column : position.column };
  }

  /** A node as an element: its value, its `doc` lines, its attributes and elements, in the order written. */
  element(node: ZplNode): ModelElement {
    const at = this.where(node);
    const attributes = new Map<string, ModelAttribute>();
    const children: ModelElement[] = [];
    const lines: string[] = [];
    const value = this.valueOf(node);
    if (value !== undefined && valueIsText(node.name)) lines.push(value);
    else if (value !== undefined) attributes.set(identifyingAttribute(node.name), { value, at: this.where(node, true) });
    for (const child of node.children) {
      if (child.name === CONTINUATION) continue;
      const kind = this.kindOf(child, node);
      if (kind === "element") {
        children.push(this.element(child));
        continue;
      }
      const inner = child.children.find((grandchild) => grandchild.name !== CONTINUATION);
      if (inner !== undefined) {
        this.diagnostics.error(this.where(inner), `${child.name} ${kind === "doc" ? "is a line of documentation" : "is an attribute"} and has no children but ${CONTINUATION}`);
        continue;
      }
      const text = this.valueOf(child) ?? "";
      if (kind === "doc") {
        lines.push(text);
        continue;
      }
      const name = child.name.startsWith(ATTRIBUTE_MARK) ? child.name.slice(ATTRIBUTE_MARK.length) : child.name;
      const earlier = attributes.get(name);
      if (earlier !== undefined) {
        this.diagnostics.error(this.where(child), `${name} of ${node.name} is given twice (first at line ${earlier.at.line})`);
        continue;
      }
      attributes.set(name, { value: text, at: this.where(child) });
    }
    return { name: node.name, attributes, children, text: lines.join("\n"), at };
  }

  /** A node's value with its continuations appended; undefined when it was written without `=`. */
  private valueOf(node: ZplNode): string | undefined {
    const continuations = node.children.filter((child) => child.name === CONTINUATION);
    for (const piece of continuations) {
      const misplaced = piece.children[0] ?? (this.positions.get(piece)!.valueColumn === undefined ? piece : undefined);
      if (misplaced !== undefined) this.diagnostics.error(this.where(misplaced), `${CONTINUATION} continues a value: it is written '${CONTINUATION} = text' and has no children`);
    }
    if (this.positions.get(node)!.valueColumn === undefined) {
      if (continuations.length > 0) this.diagnostics.error(this.where(continuations[0]), `${CONTINUATION} continues a value, and ${node.name} has none (write '${node.name} = text')`);
      return undefined;
    }
    return [node.value ?? "", ...continuations.map((piece) => piece.value ?? "")].join("");
  }

  /**
   * `doc` is text; `@name` is an attribute; a node with children (other than continuations), one the
   * language names as an element of its parent, or one written without `=` is an element; anything else
   * (`name = value`) is an attribute.
   */
  private kindOf(child: ZplNode, parent: ZplNode): "doc" | "attribute" | "element" {
    if (child.name === DOC) return "doc";
    if (child.name.startsWith(ATTRIBUTE_MARK)) return "attribute";
    if (child.children.some((grandchild) => grandchild.name !== CONTINUATION) || isElementOf(parent.name, child.name)) return "element";
    return this.positions.get(child)!.valueColumn === undefined ? "element" : "attribute";
  }
}
