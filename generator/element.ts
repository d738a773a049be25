/**
 * The element tree every model file is read into, whatever its syntax (XML or ZPL): elements with their
 * attributes, child elements and text, each remembering where it was written. Checking, normalising and
 * emitting start from this tree, so both syntaxes share every later stage.
 */
import type { Location } from "./diagnostics.js";

/** An attribute with the position of its name (or, for a ZPL node's own value, of that value). */
export interface ModelAttribute {
  readonly value: string;
  readonly at: Location;
}

/** An element with its attributes, child elements and text, in document order. */
export interface ModelElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, ModelAttribute>;
  readonly children: ModelElement[];
  /** Text content directly inside this element (documentation, or a `<test>` value), concatenated. */
  readonly text: string;
  readonly at: Location;
}

/** One model file read, before its includes are resolved. */
export interface ParsedModel {
  readonly root: ModelElement;
  /** How many comments the file held: comments are not model content, so a conversion drops them. */
  readonly comments: number;
}
