/**
 * Error and warning types of the ZPL parser, tree API and writer.
 *
 * Each failure mode has its own class so callers can tell a broken file (fix the file) from a bad value
 * (fix one setting) from a tree that cannot be saved (fix the program).
 *
 * @module
 */

/** Where in a ZPL document something was found. */
export interface ZplPosition {
  /** 1-based line number; 0 when the problem concerns the whole input (e.g. the size limit). */
  readonly line: number;
  /** 1-based column, counted in Unicode code points; 0 together with `line` 0. */
  readonly column: number;
  /** File name or other label of the input, when the caller supplied one. */
  readonly source?: string | undefined;
}

/** Formats a position the way compilers do (`file:line:column`), so editors can jump to it. */
function formatPosition(position: ZplPosition): string {
  const parts: string[] = [];
  if (position.source !== undefined) parts.push(position.source);
  if (position.line > 0) parts.push(String(position.line), String(position.column));
  return parts.join(":");
}

/**
 * A ZPL document could not be read: a syntax error, bad encoding or an input over the size limit.
 *
 * The whole document is rejected on the first error, so `line` and `column` always point at the first problem.
 * `message` is plain English without the position; `toString()` adds it, e.g.
 * `config.zpl:3:7: indentation must be a multiple of 4 spaces, found 6`.
 */
export class ZplError extends Error implements ZplPosition {
  readonly line: number;
  readonly column: number;
  readonly source: string | undefined;

  constructor(message: string, position: ZplPosition) {
    super(message);
    this.name = "ZplError";
    this.line = position.line;
    this.column = position.column;
    this.source = position.source;
  }

  /** `source:line:column: message`, leaving out the parts that are unknown. */
  override toString(): string {
    const where = formatPosition(this);
    return where === "" ? this.message : `${where}: ${this.message}`;
  }
}

/**
 * Machine-readable kind of a {@link ZplWarning}: `name-with-slash`, a name the path API cannot reach;
 * `tab-separator`, a tab between a name, `=` and the value; `comment-indentation`, a comment line indented with
 * a tab, by spaces that are not a multiple of 4, or deeper than a property there could be.
 */
export type ZplWarningCode = "name-with-slash" | "tab-separator" | "comment-indentation";

/**
 * Something legal but probably unintended was found while parsing, e.g. a name containing `/`, which the
 * path lookup API can never reach, or a form zconfig reads that spec 4 does not show. Delivered through the
 * parser's `onWarning` option.
 */
export interface ZplWarning extends ZplPosition {
  readonly code: ZplWarningCode;
  readonly message: string;
}

/** Formats a warning like {@link ZplError.toString}. */
export function formatZplWarning(warning: ZplWarning): string {
  const where = formatPosition(warning);
  return where === "" ? warning.message : `${where}: ${warning.message}`;
}

/**
 * A property exists but its text is not of the requested kind, e.g. `heartbeat = 1s` read as an integer.
 * (C's `atoi` would silently give 0; we refuse instead.)
 */
export class ZplValueError extends Error {
  /** The lookup path that was asked for, as given by the caller. */
  readonly path: string;
  /** The text actually found. */
  readonly value: string;
  /** What was expected, in words ("an integer", "a number"). */
  readonly expected: string;

  constructor(path: string, value: string, expected: string) {
    super(`${path}: expected ${expected}, found ${JSON.stringify(value)}`);
    this.name = "ZplValueError";
    this.path = path;
    this.value = value;
    this.expected = expected;
  }
}

/** A path or property name handed to the tree API is not a valid ZPL name or path. */
export class ZplPathError extends Error {
  /** The offending path or name. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = "ZplPathError";
    this.path = path;
  }
}

/**
 * A tree cannot be written as ZPL text that reads back as the same tree (e.g. a value containing both quote
 * characters or a line break). Refusing is deliberate: the writer never saves a file that would change meaning.
 */
export class ZplWriteError extends Error {
  /** Slash-separated names from the root to the offending node ("" for the root itself). */
  readonly path: string;

  constructor(path: string, message: string) {
    super(path === "" ? message : `${path}: ${message}`);
    this.name = "ZplWriteError";
    this.path = path;
  }
}
