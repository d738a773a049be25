/**
 * The ZPL parser: text (or bytes, or a file) to a {@link ZplNode} tree, by the rules docs/zpl.md states
 * ("How our parser reads a file"). It reads what CZMQ's zconfig reads where that loses nothing (comments indented
 * anyhow, tabs around `=`), with a warning for each such form, and is stricter wherever zconfig guesses about
 * data (NUL, invalid UTF-8, a lone CR, an unclosed quote): those are errors with a position, and the first
 * error rejects the whole document.
 *
 * @module
 */

import { open } from "node:fs/promises";
import { ZplError, type ZplPosition, type ZplWarning, type ZplWarningCode } from "./errors.js";
import { isZplNameChar, ZplNode } from "./tree.js";

/** Default limit on the size of a document, in UTF-8 bytes. */
export const ZPL_DEFAULT_MAX_BYTES = 1024 * 1024;

/** Options of {@link parseZpl}, {@link parseZplBytes} and {@link loadZplFile}. */
export interface ZplParseOptions {
  /** Label for positions in errors and warnings, usually the file name. */
  source?: string;
  /**
   * Receives warnings about legal but suspicious input: a name containing `/`, a tab between a name, `=` and
   * the value, a comment line whose indentation is not that of a property there. Without it warnings are
   * dropped: the parser never writes to the console itself.
   */
  onWarning?: (warning: ZplWarning) => void;
  /**
   * Receives every property as it is parsed, with where it was written: for tools that report positions
   * inside a ZPL document (the model loader does). Left out, the parser computes no positions.
   */
  onProperty?: (node: ZplNode, position: ZplPropertyPosition) => void;
  /** Largest accepted input in UTF-8 bytes; default {@link ZPL_DEFAULT_MAX_BYTES}. `Infinity` disables it. */
  maxBytes?: number;
}

/** Where a property was written: `line` and `column` are those of its name. */
export interface ZplPropertyPosition extends ZplPosition {
  /**
   * Column where the value begins (its opening quote when quoted; just past `=` and its spaces when the value
   * is empty); undefined when the property was written without `=`.
   */
  readonly valueColumn: number | undefined;
}

/** Everything a line parser needs to report problems. */
interface Context {
  readonly source: string | undefined;
  readonly onWarning: ((warning: ZplWarning) => void) | undefined;
  readonly onProperty: ((node: ZplNode, position: ZplPropertyPosition) => void) | undefined;
}

/** A problem found inside one line; converted to a {@link ZplError} once line number and source are known. */
class LineProblem {
  constructor(
    readonly index: number,
    readonly message: string,
  ) {}
}

/**
 * Parses ZPL text into a tree whose root is unnamed with value `null`.
 *
 * Whole-line comments are kept: a comment indented to level N belongs to the node the next level-N property
 * would be a child of (the root for level 0). Comments after a property on the same line are discarded, as
 * spec 4 says.
 *
 * @throws {@link ZplError} on the first problem; no partial tree is ever returned
 */
export function parseZpl(text: string, options: ZplParseOptions = {}): ZplNode {
  const context = contextOf(options);
  checkSize(Buffer.byteLength(text, "utf8"), options, context, "input");
  if (text.charCodeAt(0) === 0xfeff) {
    throw new ZplError("the text starts with a byte-order mark (BOM); save it as UTF-8 without BOM", {
      line: 1,
      column: 1,
      source: context.source,
    });
  }
  const builder = new TreeBuilder();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    // CRLF is accepted by dropping the CR that precedes each LF; any other CR is caught below.
    const raw = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    try {
      checkCharacters(raw);
      builder.addLine(raw, lineNumber, context);
    } catch (error) {
      if (error instanceof LineProblem) {
        throw new ZplError(error.message, {
          line: lineNumber,
          column: columnOf(raw, error.index),
          source: context.source,
        });
      }
      throw error;
    }
  }
  return builder.root;
}

/**
 * Decodes strictly as UTF-8 (invalid sequences and a BOM are errors) and parses.
 * @throws {@link ZplError} on bad encoding, size or syntax
 */
export function parseZplBytes(bytes: Uint8Array, options: ZplParseOptions = {}): ZplNode {
  const context = contextOf(options);
  checkSize(bytes.length, options, context, "input");
  return parseZpl(decodeUtf8(bytes, context), options);
}

/**
 * Reads and parses a ZPL file. `options.source` defaults to `path`. File-system errors (missing file,
 * permissions) are passed on unchanged; everything about the content is a {@link ZplError}.
 */
export async function loadZplFile(path: string, options: ZplParseOptions = {}): Promise<ZplNode> {
  const effective: ZplParseOptions = { ...options, source: options.source ?? path };
  const context = contextOf(effective);
  const handle = await open(path, "r");
  let bytes: Uint8Array;
  try {
    // Check before reading so an oversized file is never pulled into memory.
    checkSize((await handle.stat()).size, effective, context, "file");
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  return parseZplBytes(bytes, effective);
}

function contextOf(options: ZplParseOptions): Context {
  return { source: options.source, onWarning: options.onWarning, onProperty: options.onProperty };
}

function checkSize(size: number, options: ZplParseOptions, context: Context, what: string): void {
  const limit = options.maxBytes ?? ZPL_DEFAULT_MAX_BYTES;
  if (size > limit) {
    throw new ZplError(`${what} is ${size} bytes, more than the limit of ${limit} bytes`, {
      line: 0,
      column: 0,
      source: context.source,
    });
  }
}

/** Builds the tree line by line; `path` holds the root and the most recent property at each depth. */
class TreeBuilder {
  readonly root = ZplNode.createRoot();
  private readonly path: ZplNode[] = [this.root];

  addLine(raw: string, lineNumber: number, context: Context): void {
    // Trailing whitespace never matters; trimming first also turns whitespace-only lines into blank ones.
    const line = trimEndWhitespace(raw);
    if (line === "") return;
    let start = 0;
    let tab = -1;
    for (let code = line.charCodeAt(0); code === 0x20 || code === 0x09; code = line.charCodeAt(++start)) {
      if (code === 0x09 && tab === -1) tab = start;
    }
    if (line[start] === "#") {
      this.addComment(line, start, tab !== -1, lineNumber, context);
      return;
    }
    if (tab !== -1) throw new LineProblem(tab, "tab in indentation; indent with spaces, 4 per level");
    if (start % 4 !== 0) {
      throw new LineProblem(start, `indentation must be a multiple of 4 spaces, found ${start}`);
    }
    const level = start / 4;
    const deepest = this.path.length - 1;
    if (level > deepest) {
      throw new LineProblem(
        start,
        deepest === 0
          ? "indentation error: nothing comes before this line to nest it under, so it must not be indented"
          : `indentation error: indented ${start} spaces, but at most ${deepest * 4} are allowed here ` +
              "(one level deeper than the previous property)",
      );
    }
    const node = parseProperty(line, start, lineNumber, context);
    this.path[level].children.push(node);
    this.path.length = level + 1;
    this.path.push(node);
  }

  /**
   * Comments are discarded by spec 4 whatever their indentation, and zconfig reads them indented deeper than
   * a property could be, or with tabs. Ours keeps each one under the node its indentation names, or the
   * deepest open one when it names none; such a comment gets a warning, since writing the tree back moves it.
   */
  private addComment(line: string, start: number, tabbed: boolean, lineNumber: number, context: Context): void {
    let width = 0;
    for (let i = 0; i < start; i++) width = line[i] === "\t" ? width + 4 - (width % 4) : width + 1;
    const deepest = this.path.length - 1;
    const level = Math.min(Math.floor(width / 4), deepest);
    const parent = this.path[level];
    const why = tabbed ? "indented with a tab"
      : width % 4 !== 0 ? `indented ${width} spaces, not a multiple of 4`
        : width / 4 <= deepest ? undefined
          : deepest === 0 ? "indented, but no property comes before it" : "indented deeper than the property before it allows";
    if (why !== undefined) {
      const owner = level === 0 ? "the document" : `'${parent.name}'`;
      warn(context, "comment-indentation", `comment ${why}; it is kept as a comment of ${owner}`, lineNumber, line, start);
    }
    parent.comments.push(line.slice(start + 1));
  }
}

function warn(context: Context, code: ZplWarningCode, message: string, lineNumber: number, line: string, index: number): void {
  context.onWarning?.({ code, message, line: lineNumber, column: columnOf(line, index), source: context.source });
}

/** Parses `name [= value] [# comment]` starting at `start`. */
function parseProperty(line: string, start: number, lineNumber: number, context: Context): ZplNode {
  let pos = start;
  while (pos < line.length && (isZplNameChar(line[pos]) || line[pos] === "/")) pos++;
  if (pos === start) {
    const found = line[start];
    throw new LineProblem(
      start,
      found === "=" ? "a property name is missing before '='" : `expected a property name, found ${describeChar(line, start)}`,
    );
  }
  const name = line.slice(start, pos);
  if (name.startsWith("/") || name.endsWith("/")) {
    throw new LineProblem(start, `the name '${name}' may not begin or end with '/'`);
  }
  if (name.includes("/")) {
    warn(context, "name-with-slash", `the name '${name}' contains '/', so path lookups can never find it`, lineNumber, line, start);
  }
  if (pos < line.length && !" \t=#".includes(line[pos])) {
    throw new LineProblem(pos, `${describeChar(line, pos)} cannot appear in a name`);
  }
  const afterName = skipBlanks(line, pos);
  let firstTab = afterName.tab;
  pos = afterName.end;
  let node: ZplNode;
  let valueIndex: number | undefined;
  if (pos >= line.length || line[pos] === "#") {
    node = new ZplNode(name, "");
  } else if (line[pos] !== "=") {
    throw new LineProblem(pos, `unexpected text after the name '${name}'; write '${name} = value' to give it a value`);
  } else {
    const afterEquals = skipBlanks(line, pos + 1);
    if (firstTab === -1) firstTab = afterEquals.tab;
    valueIndex = afterEquals.end;
    node = new ZplNode(name, parseValue(line, valueIndex));
  }
  if (firstTab !== -1) {
    warn(context, "tab-separator", "tab between a name, '=' and its value (zconfig reads it; spaces are usual)", lineNumber, line, firstTab);
  }
  context.onProperty?.(node, {
    line: lineNumber,
    column: columnOf(line, start),
    valueColumn: valueIndex === undefined ? undefined : columnOf(line, valueIndex),
    source: context.source,
  });
  return node;
}

/** Parses the value that starts at `pos` (just after `=` and its spaces) through the end of the line. */
function parseValue(line: string, pos: number): string {
  const quote = line[pos];
  if (quote === '"' || quote === "'") {
    const close = line.indexOf(quote, pos + 1);
    if (close === -1) {
      throw new LineProblem(pos, `unclosed quote: the value opened with ${quote} has no closing ${quote} on this line`);
    }
    let after = close + 1;
    while (line[after] === " " || line[after] === "\t") after++;
    if (after < line.length && line[after] !== "#") {
      throw new LineProblem(after, "unexpected text after the closing quote; only a comment (# ...) may follow");
    }
    return line.slice(pos + 1, close);
  }
  // An unquoted value ends at the first "#"; one that starts with "#" is therefore empty.
  const hash = line.indexOf("#", pos);
  return trimEndWhitespace(hash === -1 ? line.slice(pos) : line.slice(pos, hash));
}

/**
 * Rejects characters that are never allowed: CR other than before LF, other control characters, and
 * unpaired UTF-16 surrogates, which have no UTF-8 form.
 */
function checkCharacters(line: string): void {
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code === 0x0d) {
      throw new LineProblem(i, "carriage return (CR) without a line feed after it; end lines with LF or CRLF");
    }
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
      throw new LineProblem(i, `control character ${codePointLabel(code)} is not allowed`);
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = line.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      throw new LineProblem(i, `unpaired surrogate ${codePointLabel(code)} is not valid Unicode text`);
    }
  }
}

/**
 * Validates UTF-8 byte by byte (so the error can say where) and decodes. Rejects overlong forms, surrogates,
 * code points above U+10FFFF, truncated sequences and a leading BOM.
 */
function decodeUtf8(bytes: Uint8Array, context: Context): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new ZplError("the text starts with a byte-order mark (BOM); save it as UTF-8 without BOM", {
      line: 1,
      column: 1,
      source: context.source,
    });
  }
  let line = 1;
  let column = 1;
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      throw new ZplError(`invalid UTF-8 (byte 0x${bytes[i].toString(16).toUpperCase().padStart(2, "0")})`, {
        line,
        column,
        source: context.source,
      });
    }
    if (bytes[i] === 0x0a) {
      line++;
      column = 1;
    } else {
      column++;
    }
    i += length;
  }
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629 table 3-7), or 0 if it is malformed. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i];
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // overlong
    if (lead === 0xed) high = 0x9f; // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90; // overlong
    if (lead === 0xf4) high = 0x8f; // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > bytes.length) return 0;
  const second = bytes[i + 1];
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) {
    const continuation = bytes[i + k];
    if (continuation < 0x80 || continuation > 0xbf) return 0;
  }
  return length;
}

/** Skips spaces and tabs from `pos`: where they end, and where the first tab was (-1 for none). */
function skipBlanks(line: string, pos: number): { end: number; tab: number } {
  let end = pos;
  let tab = -1;
  for (let code = line.charCodeAt(end); code === 0x20 || code === 0x09; code = line.charCodeAt(++end)) {
    if (code === 0x09 && tab === -1) tab = end;
  }
  return { end, tab };
}

function trimEndWhitespace(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === " " || text[end - 1] === "\t")) end--;
  return text.slice(0, end);
}

/** 1-based column of UTF-16 index `index`, counted in code points so astral characters count once. */
function columnOf(line: string, index: number): number {
  let column = 1;
  for (let i = 0; i < index; i++) {
    const code = line.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < index) {
      const next = line.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    column++;
  }
  return column;
}

function codePointLabel(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Names the character at `index` for an error message: printable ASCII quoted, anything else by code point. */
function describeChar(line: string, index: number): string {
  const code = line.codePointAt(index) ?? 0;
  if (code === 0xfeff) return "a byte-order mark (U+FEFF)";
  if (code > 0x20 && code < 0x7f) return `'${String.fromCodePoint(code)}'`;
  return `'${String.fromCodePoint(code)}' (${codePointLabel(code)})`;
}
