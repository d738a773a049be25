/**
 * The ZPL writer: a tree to text that `parseZpl` reads back as the same tree. A tree that cannot be
 * written faithfully is refused rather than saved with a changed meaning.
 *
 * @module
 */

import { ZplWriteError } from "./errors.js";
import type { ZplNodeData } from "./tree.js";
import { isValidZplName } from "./tree.js";

/** Text that replaces redacted values. */
export const ZPL_REDACTED = "<redacted>";

/** Options of {@link writeZpl}. */
export interface ZplWriteOptions {
  /**
   * Property names (compared case-insensitively, so `Password` is caught too) whose values are written as
   * {@link ZPL_REDACTED}. Meant for log dumps; redacted output naturally does not read back as the same tree.
   */
  redact?: Iterable<string>;
}

const INDENT = "    ";

/**
 * Writes a document: 4 spaces per level, `name = "value"` (single quotes when the value contains `"`, no
 * quotes when it contains both quote characters), a property whose value is `""` as its bare name, comments as
 * `#text` on their own lines right under the node they belong to, and the root's comments at the top followed
 * by an empty line. Lines end with LF. Every tree `parseZpl` returns can be written, and reads back equal.
 *
 * @param root - an unnamed node with value `null`, as returned by `parseZpl`
 * @throws {@link ZplWriteError} naming the node when the tree has no faithful ZPL form: a named root or a
 *   root with a value, an invalid name, a non-root value `null` (it would read back as `""`), a value with a
 *   line break, NUL or other control character, a value with both quote characters that cannot stand
 *   unquoted (it begins with a quote or whitespace, ends with whitespace or holds `#`), or a comment that is
 *   multi-line, contains control characters or ends in whitespace (the parser trims it)
 */
export function writeZpl(root: ZplNodeData, options: ZplWriteOptions = {}): string {
  if (root.name !== "") {
    throw new ZplWriteError("", `the root must be unnamed, found the name ${JSON.stringify(root.name)}`);
  }
  if (root.value !== null) {
    throw new ZplWriteError("", "the root must have the value null; ZPL has no line to hold a root value");
  }
  const writer = new Writer(new Set([...(options.redact ?? [])].map((name) => name.toLowerCase())));
  const rootComments = root.comments ?? [];
  for (const comment of rootComments) writer.comment(comment, 0, "");
  if (rootComments.length > 0 && root.children.length > 0) writer.lines.push("");
  for (const child of root.children) writer.node(child, 0, "");
  return writer.lines.map((line) => `${line}\n`).join("");
}

class Writer {
  readonly lines: string[] = [];

  constructor(private readonly redacted: ReadonlySet<string>) {}

  node(node: ZplNodeData, depth: number, parentPath: string): void {
    const path = parentPath === "" ? node.name : `${parentPath}/${node.name}`;
    if (!isValidZplName(node.name)) {
      throw new ZplWriteError(
        path,
        `${JSON.stringify(node.name)} is not a valid ZPL name (letters, digits and $-_@.&+, '/' only inside)`,
      );
    }
    if (node.value === null) {
      throw new ZplWriteError(path, 'the value is null, which would read back as ""; only the root may be null');
    }
    const value = this.redacted.has(node.name.toLowerCase()) ? ZPL_REDACTED : node.value;
    const indent = INDENT.repeat(depth);
    this.lines.push(value === "" ? `${indent}${node.name}` : `${indent}${node.name} = ${zplValueText(value, path)}`);
    for (const comment of node.comments ?? []) this.comment(comment, depth + 1, path);
    for (const child of node.children) this.node(child, depth + 1, path);
  }

  comment(text: string, depth: number, path: string): void {
    const problem = findUnwritableCharacter(text);
    if (problem !== undefined) throw new ZplWriteError(path, `comment ${JSON.stringify(text)} contains ${problem}`);
    if (text.endsWith(" ") || text.endsWith("\t")) {
      throw new ZplWriteError(path, `comment ${JSON.stringify(text)} ends with whitespace, which reading drops`);
    }
    this.lines.push(`${INDENT.repeat(depth)}#${text}`);
  }
}

/**
 * A value as written after `=`. ZPL has no escapes, so the quote character is chosen to be one the value does
 * not hold, and a value holding both goes unquoted, which reads back the same when it does not begin with a
 * quote or whitespace, end with whitespace or hold `#`.
 *
 * @param quoting - `always` (the configuration writer's style) or `when-needed`: one word (no whitespace,
 *   quote or `#`) goes unquoted
 * @throws {@link ZplWriteError} naming `path` when no written form reads back as `value`
 */
export function zplValueText(value: string, path: string, quoting: "always" | "when-needed" = "always"): string {
  const problem = findUnwritableCharacter(value);
  if (problem !== undefined) throw new ZplWriteError(path, `the value contains ${problem}`);
  if (quoting === "when-needed" && /^[^\s"'#]+$/.test(value)) return value;
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  const unquotedProblem = whyNotUnquoted(value);
  if (unquotedProblem !== undefined) {
    throw new ZplWriteError(path, `the value contains both ' and " and ${unquotedProblem}, so no ZPL text reads back as it (ZPL has no escapes)`);
  }
  return value;
}

/** Why `value` would not read back unchanged if written without quotes; undefined when it would. */
function whyNotUnquoted(value: string): string | undefined {
  if (value[0] === '"' || value[0] === "'") return "begins with a quote";
  if (/^[ \t]|[ \t]$/.test(value)) return "begins or ends with whitespace";
  if (value.includes("#")) return "holds '#'";
  return undefined;
}

/** Describes the first character that cannot be part of one line of UTF-8 ZPL text, if any. */
function findUnwritableCharacter(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x0a || code === 0x0d) return "a line break";
    if (code === 0) return "a NUL character";
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return `the control character ${label(code)}`;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) return `the unpaired surrogate ${label(code)}, which has no UTF-8 form`;
  }
  return undefined;
}

function label(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}
