/**
 * The rules that map the model language onto ZPL (docs/zpl-models.md): which child nodes are elements and
 * which are attributes, which attribute a node's own value stands for, and how text is carried. The ZPL
 * reader and both writers use these, so that every model has one form in each syntax.
 */
import { dedent } from "./docs.js";
import type { ModelElement } from "./element.js";

/** The ZPL child that carries one line of an element's text. */
export const DOC = "doc";
/** Prefix that makes a ZPL child an attribute whatever its name (`@state = draft` on a codec `class`). */
export const ATTRIBUTE_MARK = "@";
/**
 * A ZPL child whose value continues its parent's: ZPL has no escapes, so a value holding both quote
 * characters that cannot stand unquoted is written in pieces, each quoted with the quote it does not hold.
 */
export const CONTINUATION = "+";

const MACHINE = ["state", "method", "reply", "send", "recv", "custom"];
const CODEC = ["define", "header", "message", "type", "license", "grammar"];

/** The model language's elements, by the element they may appear in (`include` may appear anywhere). */
const CHILD_ELEMENTS: ReadonlyMap<string, readonly string[]> = new Map([
  ["class", [...CODEC, ...MACHINE]],
  ["header", ["field"]],
  ["message", ["field"]],
  ["type", ["field"]],
  ["field", ["test"]],
  ["state", ["event", "before", "after"]],
  ["event", ["action"]],
  ["before", ["action"]],
  ["after", ["action"]],
  ["method", ["field", "accept"]],
  ["reply", ["field"]],
  ["send", ["message"]],
  ["recv", ["message"]],
]);
const EVERY_ELEMENT = [...new Set([...CHILD_ELEMENTS.values()].flat())];

/** Whether `name` is an element of the model language: what a model file's root node may be called. */
export function isModelElement(name: string): boolean {
  return name === "class" || name === "fragment" || name === "include" || EVERY_ELEMENT.includes(name);
}

/**
 * Whether a ZPL child named `child`, inside an element named `parent`, stands for an element even when it is
 * a leaf written with `=` (for an include fragment's root, any element of the language does).
 */
export function isElementOf(parent: string, child: string): boolean {
  if (child === "include") return true;
  return (parent === "fragment" ? EVERY_ELEMENT : CHILD_ELEMENTS.get(parent) ?? []).includes(child);
}

/** The attribute a ZPL node's own value stands for: `filename` for `include`, `name` for the rest. */
export function identifyingAttribute(element: string): string {
  return element === "include" ? "filename" : "name";
}

/** Whether an element's ZPL value is its text rather than an attribute: a `<test>` value is data, not a name. */
export function valueIsText(element: string): boolean {
  return element === "test";
}

/**
 * An element's text as the model reads it: a `<test>` value trimmed, documentation without the indentation,
 * trailing spaces and surrounding blank lines of the XML around it. Two files whose elements agree on this
 * text are the same model.
 */
export function modelText(element: Pick<ModelElement, "name" | "text">): string {
  return valueIsText(element.name) ? element.text.trim() : dedent(element.text);
}
