/**
 * The ZPL data model ({@link ZplNode}) and its path lookup API, with CZMQ `zconfig` semantics.
 *
 * @module
 */

import { ZplPathError, ZplValueError } from "./errors.js";

/**
 * The plain shape of a ZPL node. The writer and {@link ZplNode.equals} accept this shape, so trees built as
 * object literals (fixtures, generated data) work without converting them first.
 */
export interface ZplNodeData {
  /** Property name; "" for the document root. */
  readonly name: string;
  /** Property text; `null` only for the root, which has no line of its own. */
  readonly value: string | null;
  readonly children: readonly ZplNodeData[];
  /** Whole-line comments nested under this node (text after `#`); missing means none. */
  readonly comments?: readonly string[];
}

// Spec 4 name characters without "/": a name may contain "/" only between other name characters.
const NAME_CHARS = "A-Za-z0-9$\\-_@.&+";
const NAME_CHAR = new RegExp(`^[${NAME_CHARS}]$`);
const VALID_NAME = new RegExp(`^[${NAME_CHARS}](?:[${NAME_CHARS}/]*[${NAME_CHARS}])?$`);

/** Whether `ch` (one character) may appear anywhere in a name. `/` is not included: it may only appear inside. */
export function isZplNameChar(ch: string): boolean {
  return NAME_CHAR.test(ch);
}

/**
 * Whether `name` is a property name that ZPL text can express: one or more of `A-Z a-z 0-9 $ - _ @ . & +`,
 * optionally with `/` between them (but such a name cannot be reached by path lookup).
 */
export function isValidZplName(name: string): boolean {
  return VALID_NAME.test(name);
}

const INTEGER_TEXT = /^[+-]?[0-9]+$/;
const NUMBER_TEXT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * Splits a lookup path CZMQ-style: one leading `/` is ignored, the rest is split on `/`.
 * Returns `undefined` when a segment is empty, because no property has an empty name.
 */
function splitPath(path: string): string[] | undefined {
  const body = path.startsWith("/") ? path.slice(1) : path;
  const segments = body.split("/");
  return segments.some((segment) => segment === "") ? undefined : segments;
}

/**
 * One property of a ZPL document, or the document root.
 *
 * A property written without `=` has value `""` (as in C); `null` means "no value at all" and is reserved for
 * the root, which the writer refuses to give a line. Lookup paths follow CZMQ: segments separated by `/`, one
 * leading `/` ignored, and at each level the **first** child with that name is taken.
 */
export class ZplNode implements ZplNodeData {
  name: string;
  value: string | null;
  children: ZplNode[];
  /** Whole-line comments nested under this node, in file order (text after `#`). */
  comments: string[];

  /**
   * Creates a node; nothing is validated here (the parser and writer do that), so any tree can be modelled.
   * @param name - property name ("" for a root)
   * @param value - property text; defaults to `""`, the value of a property written without `=`
   */
  constructor(name: string, value: string | null = "", children: ZplNode[] = [], comments: string[] = []) {
    this.name = name;
    this.value = value;
    this.children = children;
    this.comments = comments;
  }

  /** Creates an empty document root (no name, value `null`). */
  static createRoot(children: ZplNode[] = [], comments: string[] = []): ZplNode {
    return new ZplNode("", null, children, comments);
  }

  /** Deep-copies plain node data (or another tree) into `ZplNode` instances; any depth (no recursion). */
  static from(data: ZplNodeData): ZplNode {
    const copy = (node: ZplNodeData): ZplNode => new ZplNode(node.name, node.value, [], [...(node.comments ?? [])]);
    const top = copy(data);
    const pending: [ZplNodeData, ZplNode][] = [[data, top]];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [source, target] = next;
      for (const child of source.children) {
        const childCopy = copy(child);
        target.children.push(childCopy);
        pending.push([child, childCopy]);
      }
    }
    return top;
  }

  /** A deep copy of this subtree. */
  clone(): ZplNode {
    return ZplNode.from(this);
  }

  /**
   * Structural equality: names, values (`""` and `null` differ), comments (missing equals empty) and children
   * in order. Any depth: it walks the trees without recursion.
   */
  equals(other: ZplNodeData): boolean {
    return nodesEqual(this, other);
  }

  /** The node at `path`, or `undefined`. An empty path or empty segment (`a//b`, `a/`) finds nothing. */
  locate(path: string): ZplNode | undefined {
    const segments = splitPath(path);
    if (segments === undefined) return undefined;
    let node: ZplNode = this;
    for (const segment of segments) {
      const next = node.children.find((child) => child.name === segment);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  /**
   * The text at `path`, or `defaultValue` when there is no such node or it has no value (`null`).
   * A property written without `=` yields `""`, not the default.
   */
  get(path: string): string | undefined;
  get(path: string, defaultValue: string): string;
  get(path: string, defaultValue?: string): string | undefined {
    return this.locate(path)?.value ?? defaultValue;
  }

  /**
   * Every node named like the last segment of `path` under the first match of the parent path, in order —
   * the way to read repeated sections such as `security/plain/account`.
   */
  all(path: string): ZplNode[] {
    const segments = splitPath(path);
    if (segments === undefined) return [];
    const last = segments[segments.length - 1];
    let parent: ZplNode | undefined = this;
    for (const segment of segments.slice(0, -1)) {
      parent = parent.children.find((child) => child.name === segment);
      if (parent === undefined) return [];
    }
    return parent.children.filter((child) => child.name === last);
  }

  /**
   * Sets the value of the first node at `path`, creating missing nodes (with value `""`) on the way.
   * @returns the node that now holds `value`
   * @throws {@link ZplPathError} if the path is empty or a segment is not a valid ZPL name
   */
  set(path: string, value: string): ZplNode {
    const segments = splitPath(path);
    if (segments === undefined || segments.some((segment) => !isValidZplName(segment))) {
      throw new ZplPathError(path, `${JSON.stringify(path)} is not a valid ZPL path`);
    }
    let node: ZplNode = this;
    for (const segment of segments) {
      let next = node.children.find((child) => child.name === segment);
      if (next === undefined) {
        next = new ZplNode(segment);
        node.children.push(next);
      }
      node = next;
    }
    node.value = value;
    return node;
  }

  /**
   * Appends a new child, even if a sibling of the same name exists (repeated sections).
   * @returns the new child
   * @throws {@link ZplPathError} if `name` is not a valid ZPL name
   */
  addChild(name: string, value = ""): ZplNode {
    if (!isValidZplName(name)) {
      throw new ZplPathError(name, `${JSON.stringify(name)} is not a valid ZPL name`);
    }
    const child = new ZplNode(name, value);
    this.children.push(child);
    return child;
  }

  /**
   * The value at `path` as a safe integer in decimal (optional sign, digits only), or `defaultValue` when the
   * node is missing or has no value.
   * @throws {@link ZplValueError} naming the path if the text is anything else (`""`, `1s`, `0x10`, ` 5`)
   */
  getInteger(path: string): number | undefined;
  getInteger(path: string, defaultValue: number): number;
  getInteger(path: string, defaultValue?: number): number | undefined {
    const text = this.get(path);
    if (text === undefined) return defaultValue;
    const result = INTEGER_TEXT.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(result)) throw new ZplValueError(path, text, "an integer");
    // Normalise "-0" so callers never see a negative zero.
    return result === 0 ? 0 : result;
  }

  /**
   * The value at `path` as a finite decimal number (e.g. `12`, `-0.5`, `1e3`), or `defaultValue` when the
   * node is missing or has no value.
   * @throws {@link ZplValueError} naming the path if the text is not a plain decimal number
   */
  getNumber(path: string): number | undefined;
  getNumber(path: string, defaultValue: number): number;
  getNumber(path: string, defaultValue?: number): number | undefined {
    const text = this.get(path);
    if (text === undefined) return defaultValue;
    const result = NUMBER_TEXT.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(result)) throw new ZplValueError(path, text, "a number");
    return result === 0 ? 0 : result;
  }
}

function nodesEqual(a: ZplNodeData, b: ZplNodeData): boolean {
  const pending: [ZplNodeData, ZplNodeData][] = [[a, b]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [left, right] = next;
    if (left.name !== right.name || left.value !== right.value) return false;
    const commentsLeft = left.comments ?? [];
    const commentsRight = right.comments ?? [];
    if (commentsLeft.length !== commentsRight.length || commentsLeft.some((text, i) => text !== commentsRight[i])) return false;
    if (left.children.length !== right.children.length) return false;
    left.children.forEach((child, i) => pending.push([child, right.children[i]]));
  }
  return true;
}
