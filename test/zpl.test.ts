import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ZPL_DEFAULT_MAX_BYTES,
  ZPL_REDACTED,
  ZplError,
  ZplNode,
  ZplPathError,
  ZplValueError,
  ZplWriteError,
  formatZplWarning,
  isValidZplName,
  loadZplFile,
  parseZpl,
  parseZplBytes,
  writeZpl,
  type ZplNodeData,
  type ZplParseOptions,
  type ZplWarning,
} from "../runtime/zpl/index.js";

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** Parses and returns the error it must throw, so tests can assert on its fields. */
function parseError(text: string, options?: ZplParseOptions): ZplError {
  try {
    parseZpl(text, options);
  } catch (error) {
    if (error instanceof ZplError) return error;
    throw error;
  }
  throw new Error(`expected a ZplError for ${JSON.stringify(text)}`);
}

function bytesError(bytes: Uint8Array): ZplError {
  try {
    parseZplBytes(bytes);
  } catch (error) {
    if (error instanceof ZplError) return error;
    throw error;
  }
  throw new Error("expected a ZplError");
}

function writeError(root: ZplNodeData): ZplWriteError {
  try {
    writeZpl(root);
  } catch (error) {
    if (error instanceof ZplWriteError) return error;
    throw error;
  }
  throw new Error("expected a ZplWriteError");
}

/** Shorthand for building expected trees: `n("name", "value", [children], [comments])`. */
function n(name: string, value: string | null = "", children: ZplNode[] = [], comments: string[] = []): ZplNode {
  return new ZplNode(name, value, children, comments);
}

function root(children: ZplNode[] = [], comments: string[] = []): ZplNode {
  return ZplNode.createRoot(children, comments);
}

/** The warnings parsing `text` gives. */
function parseWarnings(text: string): ZplWarning[] {
  const warnings: ZplWarning[] = [];
  parseZpl(text, { onWarning: (warning) => warnings.push(warning) });
  return warnings;
}

/** Value of the only top-level property of a one-line document. */
function valueOf(line: string): string | null {
  const tree = parseZpl(line);
  expect(tree.children).toHaveLength(1);
  return tree.children[0].value;
}

// ---------------------------------------------------------------------------------------------------------
// §1 example

const SPEC_EXAMPLE = `#   Server configuration
server
    timeout = 10000         #   ms
publish
    location = ./share
    alias = /
security
    plain = 1
        account
            login = guest
            group = guest
        account
            login = admin
    echo = "#1 is not a comment here"
`;

describe("spec example (§1)", () => {
  const tree = parseZpl(SPEC_EXAMPLE);

  it("builds the exact tree, keeping the whole-line comment and dropping the trailing one", () => {
    const expected = root(
      [
        n("server", "", [n("timeout", "10000")]),
        n("publish", "", [n("location", "./share"), n("alias", "/")]),
        n("security", "", [
          n("plain", "1", [
            n("account", "", [n("login", "guest"), n("group", "guest")]),
            n("account", "", [n("login", "admin")]),
          ]),
          n("echo", "#1 is not a comment here"),
        ]),
      ],
      ["   Server configuration"],
    );
    expect(tree).toEqual(expected);
    expect(tree.equals(expected)).toBe(true);
  });

  it("answers path lookups", () => {
    expect(tree.get("server/timeout")).toBe("10000");
    expect(tree.getInteger("server/timeout", 0)).toBe(10000);
    expect(tree.get("publish/alias")).toBe("/");
    expect(tree.get("security/plain")).toBe("1");
    expect(tree.get("security/echo")).toBe("#1 is not a comment here");
    // first match per segment: the first account
    expect(tree.get("security/plain/account/login")).toBe("guest");
    expect(tree.all("security/plain/account").map((account) => account.get("login"))).toEqual(["guest", "admin"]);
  });

  it("round-trips through the writer", () => {
    const text = writeZpl(tree);
    expect(parseZpl(text)).toEqual(tree);
    expect(text).toBe(
      [
        "#   Server configuration",
        "",
        "server",
        '    timeout = "10000"',
        "publish",
        '    location = "./share"',
        '    alias = "/"',
        "security",
        '    plain = "1"',
        "        account",
        '            login = "guest"',
        '            group = "guest"',
        "        account",
        '            login = "admin"',
        '    echo = "#1 is not a comment here"',
        "",
      ].join("\n"),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// §2 table, row by row (what C does vs what we do)

describe("§2 line splitting / Z2", () => {
  it("LF and CRLF give the same tree", () => {
    const lf = "a = 1\nb\n    c = x y\n";
    expect(parseZpl(lf.replaceAll("\n", "\r\n"))).toEqual(parseZpl(lf));
    expect(parseZpl("a = 1\r\nb = 2").get("b")).toBe("2");
  });

  it("a CRLF does not leak into a quoted or unquoted value", () => {
    expect(parseZpl('a = "x"\r\nb = y\r\n').children.map((c) => c.value)).toEqual(["x", "y"]);
  });

  it("a lone CR is an error, not one long line (C) nor a line break (spec)", () => {
    const error = parseError("a = 1\rb = 2\r");
    expect(error.line).toBe(1);
    expect(error.column).toBe(6);
    expect(error.message).toMatch(/carriage return/);
    expect(parseError("a = 1\nb = 2\r\r\n").line).toBe(2);
  });

  it("accepts a last line without LF", () => {
    expect(parseZpl("a = 1\nb = 2").get("b")).toBe("2");
  });
});

describe("§2 line length / Z3", () => {
  it("never truncates long lines (C cuts at 1 024 bytes)", () => {
    const long = "x".repeat(5000);
    expect(parseZpl(`key = ${long}\nnext = 1\n`).get("key")).toBe(long);
    const longName = "n".repeat(3000);
    expect(parseZpl(`${longName} = "v"`).get(longName)).toBe("v");
  });

  it("caps the total size at 1 MiB by default, and the cap can be changed", () => {
    expect(ZPL_DEFAULT_MAX_BYTES).toBe(1024 * 1024);
    const big = `a = ${"x".repeat(ZPL_DEFAULT_MAX_BYTES)}`;
    const error = parseError(big, { source: "big.zpl" });
    expect(error.line).toBe(0);
    expect(error.message).toMatch(/more than the limit of 1048576 bytes/);
    expect(error.toString()).toBe(`big.zpl: ${error.message}`);
    expect(parseZpl(big, { maxBytes: Infinity }).get("a")).toHaveLength(ZPL_DEFAULT_MAX_BYTES);
    // the limit counts UTF-8 bytes, not characters
    expect(parseError("a = ééé", { maxBytes: 8 }).message).toMatch(/10 bytes/);
    expect(parseZpl("a = ééé", { maxBytes: 10 }).get("a")).toBe("ééé");
  });
});

describe("§2 comments", () => {
  it("keeps a whole-line comment at column 1 as a comment of the root", () => {
    const tree = parseZpl("# one\na = 1\n#two  \n#\n");
    expect(tree.comments).toEqual([" one", "two", ""]);
    expect(tree.children).toEqual([n("a", "1")]);
  });

  it("keeps an indented whole-line comment on the node it is nested under", () => {
    const tree = parseZpl("a\n    # about a's children\n    b = 1\n        # under b\n    # back under a\n# root\n");
    expect(tree.comments).toEqual([" root"]);
    expect(tree.children[0].comments).toEqual([" about a's children", " back under a"]);
    expect(tree.locate("a/b")?.comments).toEqual([" under b"]);
  });

  it("discards comments after a property, as spec 4 says", () => {
    const tree = parseZpl("a = 1 # one\nb # bee\nc = 'x' # see\n");
    expect(tree).toEqual(root([n("a", "1"), n("b", ""), n("c", "x")]));
  });

  it("keeps tabs and non-ASCII inside comments", () => {
    expect(parseZpl("#\tcafé ☕ 😀\n").comments).toEqual(["\tcafé ☕ 😀"]);
  });
});

describe("§2 indentation / Z4", () => {
  it("rejects indentation that is not a multiple of 4, with the right line and column", () => {
    const error = parseError("a\n    b\n      c\n", { source: "config.zpl" });
    expect([error.line, error.column, error.source]).toEqual([3, 7, "config.zpl"]);
    expect(error.message).toBe("indentation must be a multiple of 4 spaces, found 6");
    expect(error.toString()).toBe("config.zpl:3:7: indentation must be a multiple of 4 spaces, found 6");
    expect(parseError("a\n  b\n").line).toBe(2);
    expect(parseError("a\n     b\n").column).toBe(6);
  });

  it("reads a comment line indented by spaces that are not a multiple of 4 (as zconfig does), with a warning", () => {
    const warnings: ZplWarning[] = [];
    const tree = parseZpl("a = 1\n  # x\n    b\n      # y\n", { onWarning: (w) => warnings.push(w) });
    expect(tree.comments).toEqual([" x"]);
    expect(tree.get("a/b")).toBe("");
    expect(tree.children[0].comments).toEqual([" y"]);
    expect(warnings.map((w) => [w.code, w.line, w.column])).toEqual([["comment-indentation", 2, 3], ["comment-indentation", 4, 7]]);
    expect(formatZplWarning(warnings[1])).toBe("4:7: comment indented 6 spaces, not a multiple of 4; it is kept as a comment of 'a'");
  });

  it("allows a child at most one level deeper than the previous property", () => {
    const error = parseError("a\n    b\n            c\n");
    expect([error.line, error.column]).toEqual([3, 13]);
    expect(error.message).toMatch(/indentation error: indented 12 spaces, but at most 8 are allowed/);
  });

  it("requires the first property at level 0", () => {
    expect(parseError("    a = 1\n").message).toMatch(/must not be indented/);
    expect(parseError("# header\n\n    a = 1\n").line).toBe(3);
  });

  it("reads comment lines deeper than a property could be, even on the first line, keeping them on the deepest open node", () => {
    const warnings: ZplWarning[] = [];
    const onWarning = (w: ZplWarning): number => warnings.push(w);
    expect(parseZpl("    # indented first line\na\n", { onWarning })).toEqual(root([n("a")], [" indented first line"]));
    expect(parseZpl("a\n        # too deep\n    b\n", { onWarning })).toEqual(root([n("a", "", [n("b")], [" too deep"])]));
    expect(warnings.map((w) => [w.code, w.line, w.message])).toEqual([
      ["comment-indentation", 1, "comment indented, but no property comes before it; it is kept as a comment of the document"],
      ["comment-indentation", 2, "comment indented deeper than the property before it allows; it is kept as a comment of 'a'"],
    ]);
    // one level deeper than the previous property is a comment's own place: no warning
    warnings.length = 0;
    expect(parseZpl("a\n    # ok\n", { onWarning }).children[0].comments).toEqual([" ok"]);
    expect(warnings).toEqual([]);
  });

  it("still refuses properties indented like those comments", () => {
    expect(parseError("    a = 1\n").line).toBe(1);
    expect(parseError("a\n        b\n").line).toBe(2);
    expect(parseError("a\n  b\n").line).toBe(2);
  });

  it("accepts dedenting by several levels at once", () => {
    const tree = parseZpl("a\n    b\n        c\n            d = 1\ne = 2\n");
    expect(tree.get("a/b/c/d")).toBe("1");
    expect(tree.get("e")).toBe("2");
  });

  it("ignores trailing spaces and tabs, including on otherwise blank lines", () => {
    expect(parseZpl("a = 1 \t \n \t \n   \nb\t\t\n").children).toEqual([n("a", "1"), n("b", "")]);
  });
});

describe("§2 tabs / Z4", () => {
  it("rejects a tab before a name (C: invalid syntax)", () => {
    const error = parseError("a\n\tb = 1\n");
    expect([error.line, error.column]).toEqual([2, 1]);
    expect(error.message).toMatch(/tab in indentation/);
    expect(parseError("a\n    \tb\n").column).toBe(5);
  });

  it("reads a tab-indented comment line (as zconfig does), with a warning", () => {
    const warnings: ZplWarning[] = [];
    const tree = parseZpl("a\n\t# under a\n\t\t# still a\n  \t# and a\n", { source: "t.zpl", onWarning: (w) => warnings.push(w) });
    expect(tree).toEqual(root([n("a", "", [], [" under a", " still a", " and a"])]));
    expect(warnings.map((w) => formatZplWarning(w))).toEqual([
      "t.zpl:2:2: comment indented with a tab; it is kept as a comment of 'a'",
      "t.zpl:3:3: comment indented with a tab; it is kept as a comment of 'a'",
      "t.zpl:4:4: comment indented with a tab; it is kept as a comment of 'a'",
    ]);
  });

  it("reads tabs around '=' and after a name (as zconfig does), with one warning a line", () => {
    const warnings: ZplWarning[] = [];
    const onWarning = (w: ZplWarning): number => warnings.push(w);
    const cases: [string, string, number][] = [
      ["a\t= 1", "1", 2], ["a =\t1", "1", 4], ["a = \t1", "1", 5], ["a \t= 1", "1", 3], ["a\t# comment", "", 2],
      ["a\t=\t'q'", "q", 2], ["a\t", "", 0],
    ];
    for (const [line, value, column] of cases) {
      warnings.length = 0;
      expect(parseZpl(line, { onWarning }).children[0], JSON.stringify(line)).toEqual(n("a", value));
      // a trailing tab is trailing whitespace, dropped without a word
      expect(warnings.map((w) => [w.code, w.column]), JSON.stringify(line)).toEqual(column === 0 ? [] : [["tab-separator", column]]);
    }
    expect(formatZplWarning(parseWarnings("a\t= 1")[0])).toBe("1:2: tab between a name, '=' and its value (zconfig reads it; spaces are usual)");
  });

  it("still refuses `name<tab>value`, like `name value`", () => {
    expect(parseError("a\tb").message).toMatch(/unexpected text after the name 'a'/);
    expect(parseError("a\tb").column).toBe(3);
  });

  it("keeps tabs inside values as text", () => {
    expect(valueOf("a = x\ty")).toBe("x\ty");
    expect(valueOf('a = "\tx\t"')).toBe("\tx\t");
    expect(valueOf("a = x\t# c")).toBe("x");
  });

  it("allows whitespace including tabs between a closing quote and a comment (Z7)", () => {
    expect(valueOf('a = "x"\t # c')).toBe("x");
  });
});

describe("§2 names / Z5", () => {
  it("accepts every spec-4 name character", () => {
    expect(parseZpl("aZ09$-_@.&+ = 1").get("aZ09$-_@.&+")).toBe("1");
    expect(parseZpl("$ = 1\n- = 2\n. = 3").children.map((c) => c.name)).toEqual(["$", "-", "."]);
  });

  it("rejects a name that begins or ends with '/'", () => {
    expect(parseError("/a = 1").message).toMatch(/may not begin or end with '\/'/);
    expect(parseError("x\n    a/ = 1").line).toBe(2);
    expect(parseError("/ = 1").line).toBe(1);
  });

  it("accepts a name containing '/' with a warning, and path lookup cannot find it", () => {
    const warnings: ZplWarning[] = [];
    const tree = parseZpl("x\n    a/b = 1\n", { source: "w.zpl", onWarning: (w) => warnings.push(w) });
    expect(tree.children[0].children[0]).toEqual(n("a/b", "1"));
    expect(tree.get("x/a/b")).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: "name-with-slash", line: 2, column: 5, source: "w.zpl" });
    expect(formatZplWarning(warnings[0])).toBe("w.zpl:2:5: the name 'a/b' contains '/', so path lookups can never find it");
  });

  it("parses without an onWarning callback", () => {
    expect(parseZpl("a/b = 1").children[0].name).toBe("a/b");
  });

  it("rejects non-ASCII and other characters in a name position", () => {
    expect(parseError("café = 1").message).toBe("'é' (U+00E9) cannot appear in a name");
    expect(parseError("café = 1").column).toBe(4);
    expect(parseError("é = 1").message).toMatch(/expected a property name, found 'é'/);
    expect(parseError("a*b = 1").column).toBe(2);
    expect(parseError("= 1").message).toMatch(/name is missing before '='/);
    expect(parseError('"a" = 1').column).toBe(1);
    expect(parseError("😀x = 1\nb = é😀\nc!").line).toBe(1);
    expect(parseError("b = é😀x\nc!").toString()).toBe("2:2: '!' cannot appear in a name");
  });

  it("compares names case-sensitively", () => {
    const tree = parseZpl("Server = 1\nserver = 2\n");
    expect(tree.get("Server")).toBe("1");
    expect(tree.get("server")).toBe("2");
    expect(tree.get("SERVER")).toBeUndefined();
  });
});

describe("§2 after the name / Z6", () => {
  it("gives a bare name the value \"\" (not null)", () => {
    expect(valueOf("name")).toBe("");
    expect(valueOf("name   ")).toBe("");
    expect(valueOf("name # comment")).toBe("");
    expect(valueOf("name#comment")).toBe("");
    expect(valueOf("name =")).toBe("");
    expect(valueOf("name =   ")).toBe("");
    expect(valueOf("name=value")).toBe("value");
  });

  it("rejects `name value`", () => {
    const error = parseError("server\n    timeout 1000\n");
    expect([error.line, error.column]).toEqual([2, 13]);
    expect(error.message).toBe("unexpected text after the name 'timeout'; write 'timeout = value' to give it a value");
  });
});

describe("§2 quoted values / Z7", () => {
  it("strips double or single quotes and keeps everything inside", () => {
    expect(valueOf('a = "  hello # world = x  "')).toBe("  hello # world = x  ");
    expect(valueOf("a = 'say \"hi\"'")).toBe('say "hi"');
    expect(valueOf("a = \"it's\"")).toBe("it's");
    expect(valueOf('a = ""')).toBe("");
    expect(valueOf("a=''")).toBe("");
  });

  it("allows a trailing comment after the closing quote", () => {
    expect(valueOf('a = "x" # comment "with" quotes')).toBe("x");
    expect(valueOf('a = "x"#c')).toBe("x");
    expect(valueOf('a = "x"   ')).toBe("x");
  });

  it("rejects an unclosed quote instead of treating it as unquoted (spec)", () => {
    const error = parseError('a = 1\nb = "open\nc = "x"\n');
    expect([error.line, error.column]).toEqual([2, 5]);
    expect(error.message).toMatch(/unclosed quote/);
    expect(parseError("b = 'open\"").line).toBe(1);
  });

  it("rejects text after the closing quote", () => {
    const error = parseError('a = "x" y');
    expect(error.column).toBe(9);
    expect(error.message).toMatch(/after the closing quote/);
    expect(parseError('a = "x""y"').column).toBe(8);
  });

  it("does not start a quoted value when the quote is not first", () => {
    expect(valueOf("a = x \"y\" 'z'")).toBe("x \"y\" 'z'");
  });
});

describe("§2 unquoted values / Z8", () => {
  it("runs to the first '#', with trailing whitespace removed", () => {
    expect(valueOf("a = hello world   # comment")).toBe("hello world");
    expect(valueOf("a = hello world")).toBe("hello world");
    expect(valueOf("a =    x")).toBe("x");
  });

  it("may contain spaces, '=' and quotes", () => {
    expect(valueOf("a = b = c")).toBe("b = c");
    expect(valueOf("a = tcp://*:5670")).toBe("tcp://*:5670");
    expect(valueOf("a = it's")).toBe("it's");
    expect(valueOf("a==")).toBe("=");
  });

  it("treats a value beginning with '#' as empty plus a comment (not C's `#x` quirk)", () => {
    expect(valueOf("a = #x")).toBe("");
    expect(valueOf("a =#x")).toBe("");
  });

  it("accepts non-ASCII text", () => {
    expect(valueOf("a = café ☕ 😀 ü")).toBe("café ☕ 😀 ü");
    expect(valueOf("a = \uFEFF")).toBe("\uFEFF");
  });
});

describe("§2 blank lines, duplicates, errors", () => {
  it("ignores blank lines anywhere, even between a parent and its child", () => {
    expect(parseZpl("\n\na\n\n\n    b = 1\n\n")).toEqual(root([n("a", "", [n("b", "1")])]));
  });

  it("keeps duplicate siblings in order (Z10)", () => {
    const tree = parseZpl("publish\n    a = 1\npublish\n    a = 2\npublish = x\n");
    expect(tree.children.map((c) => c.name)).toEqual(["publish", "publish", "publish"]);
    expect(tree.all("publish").map((p) => p.get("a", p.value ?? ""))).toEqual(["1", "2", "x"]);
    expect(tree.get("publish/a")).toBe("1");
  });

  it("rejects the whole document on the first error (Z9)", () => {
    const text = "a = 1\nb = 2\nc value\nd = 4\n   e\n";
    const error = parseError(text);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ZplError");
    expect(error.line).toBe(3);
    expect(() => parseZpl(text)).toThrow(ZplError);
  });

  it("gives a position-only toString when there is no source", () => {
    expect(parseError("a\n  b").toString()).toBe("2:3: indentation must be a multiple of 4 spaces, found 2");
  });
});

describe("§2 characters and encoding / Z1", () => {
  it("rejects a BOM in text and in bytes", () => {
    const error = parseError("\uFEFFa = 1");
    expect([error.line, error.column]).toEqual([1, 1]);
    expect(error.message).toMatch(/byte-order mark/);
    const bytes = bytesError(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]));
    expect(bytes.message).toMatch(/byte-order mark/);
  });

  it("decodes valid UTF-8 bytes", () => {
    const bytes = new TextEncoder().encode("a = café 😀\n# ü\n");
    const tree = parseZplBytes(bytes);
    expect(tree.get("a")).toBe("café 😀");
    expect(tree.comments).toEqual([" ü"]);
  });

  it("rejects invalid UTF-8 with its position", () => {
    const prefix = new TextEncoder().encode("a = 1\nb = é");
    const cases: [number[], string][] = [
      [[0xff], "lone 0xFF"],
      [[0x80], "stray continuation byte"],
      [[0xc0, 0xaf], "overlong"],
      [[0xe0, 0x80, 0xaf], "overlong 3-byte"],
      [[0xed, 0xa0, 0x80], "UTF-8 encoded surrogate"],
      [[0xf4, 0x90, 0x80, 0x80], "above U+10FFFF"],
      [[0xe2, 0x82], "truncated at end"],
      [[0xe2, 0x28, 0xa1], "bad continuation"],
    ];
    for (const [bad, label] of cases) {
      const error = bytesError(new Uint8Array([...prefix, ...bad]));
      expect([error.line, error.column], label).toEqual([2, 6]);
      expect(error.message, label).toMatch(/invalid UTF-8/);
    }
  });

  it("rejects control characters, including NUL and DEL, in values and comments", () => {
    expect(parseError("a = x\u0000y").column).toBe(6);
    expect(parseError("a = x\u0000y").message).toBe("control character U+0000 is not allowed");
    expect(parseError("# x\u0007").line).toBe(1);
    expect(parseError('a = "\u007f"').message).toMatch(/U\+007F/);
    expect(parseError("a = \u000b").line).toBe(1);
  });

  it("rejects unpaired surrogates in string input", () => {
    expect(parseError("a = x\ud800").message).toMatch(/unpaired surrogate U\+D800/);
    expect(parseError("a = \udc00x").column).toBe(5);
  });

  it("counts columns in code points", () => {
    // 😀 is two UTF-16 units but one column
    expect(parseError('a = "😀" x').column).toBe(9);
  });
});

describe("property positions (onProperty)", () => {
  it("reports each property's line, name column and value column; no value column without '='", () => {
    const seen: [string, number, number, number | undefined, string | undefined][] = [];
    const tree = parseZpl('# top\nclass = hello\n    doc = "A greeting"\n    bare\n    empty =\n    tab\t=\ty\n', {
      source: "m.zpl",
      onProperty: (node, at) => seen.push([node.name, at.line, at.column, at.valueColumn, at.source]),
    });
    expect(tree.get("class/doc")).toBe("A greeting");
    expect(seen).toEqual([
      ["class", 2, 1, 9, "m.zpl"],
      ["doc", 3, 5, 11, "m.zpl"],
      ["bare", 4, 5, undefined, "m.zpl"],
      ["empty", 5, 5, 12, "m.zpl"],
      ["tab", 6, 5, 11, "m.zpl"],
    ]);
  });

  it("hands over the very nodes of the returned tree", () => {
    const nodes: ZplNode[] = [];
    const tree = parseZpl("a\n    b = 1\n", { onProperty: (node) => nodes.push(node) });
    expect(nodes).toEqual([tree.children[0], tree.children[0].children[0]]);
    expect(nodes[1]).toBe(tree.children[0].children[0]);
  });
});

describe("Z11 empty documents", () => {
  it("gives an empty root for empty, blank and comment-only input", () => {
    expect(parseZpl("")).toEqual(root());
    expect(parseZpl("\n\n   \n")).toEqual(root());
    expect(parseZpl("# only\n#comments\n")).toEqual(root([], [" only", "comments"]));
    const empty = parseZpl("");
    expect(empty.name).toBe("");
    expect(empty.value).toBeNull();
  });
});

describe("loadZplFile", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "zpl-test-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads a UTF-8 file and uses the path as source", async () => {
    const file = join(dir, "ok.zpl");
    await writeFile(file, SPEC_EXAMPLE.replaceAll("\n", "\r\n"));
    const tree = await loadZplFile(file);
    expect(tree).toEqual(parseZpl(SPEC_EXAMPLE));
  });

  it("reports syntax errors with the file name", async () => {
    const file = join(dir, "bad.zpl");
    await writeFile(file, "a\n  b\n");
    const error = await loadZplFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZplError);
    expect(String(error)).toBe(`${file}:2:3: indentation must be a multiple of 4 spaces, found 2`);
  });

  it("rejects a BOM, invalid UTF-8 and oversized files", async () => {
    const bom = join(dir, "bom.zpl");
    await writeFile(bom, Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0a]));
    await expect(loadZplFile(bom)).rejects.toThrow(/byte-order mark/);

    const latin1 = join(dir, "latin1.zpl");
    await writeFile(latin1, Buffer.from("a = caf\xe9\n", "latin1"));
    const error = await loadZplFile(latin1, { source: "latin1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZplError);
    expect(String(error)).toBe("latin1:1:8: invalid UTF-8 (byte 0xE9)");

    const big = join(dir, "big.zpl");
    await writeFile(big, `a = ${"x".repeat(100)}\n`);
    await expect(loadZplFile(big, { maxBytes: 50 })).rejects.toThrow(/file is 105 bytes, more than the limit of 50/);
    expect((await loadZplFile(big)).get("a")).toHaveLength(100);
  });

  it("passes file-system errors on unchanged", async () => {
    const error = await loadZplFile(join(dir, "missing.zpl")).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ZplError);
    expect((error as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  it("delivers warnings", async () => {
    const file = join(dir, "warn.zpl");
    await writeFile(file, "a/b = 1\n");
    const warnings: ZplWarning[] = [];
    await loadZplFile(file, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.source, w.line, w.column])).toEqual([[file, 1, 1]]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Tree API (§3.1)

describe("tree lookups (CZMQ semantics)", () => {
  const tree = parseZpl("a\n    b = 1\n    b = 2\n    c\n        d = deep\na = second\nempty\n");

  it("get takes the first match per segment and returns the default only when missing", () => {
    expect(tree.get("a/b")).toBe("1");
    expect(tree.get("a/c/d")).toBe("deep");
    expect(tree.get("a")).toBe("");
    expect(tree.get("empty", "dflt")).toBe("");
    expect(tree.get("missing", "dflt")).toBe("dflt");
    expect(tree.get("a/missing")).toBeUndefined();
    expect(tree.get("a/b/c")).toBeUndefined();
  });

  it("ignores exactly one leading '/'", () => {
    expect(tree.get("/a/b")).toBe("1");
    expect(tree.get("//a/b")).toBeUndefined();
  });

  it("finds nothing for empty paths or empty segments", () => {
    expect(tree.locate("")).toBeUndefined();
    expect(tree.locate("/")).toBeUndefined();
    expect(tree.locate("a//b")).toBeUndefined();
    expect(tree.locate("a/")).toBeUndefined();
    expect(tree.all("")).toEqual([]);
  });

  it("locate returns the node itself", () => {
    const c = tree.locate("a/c");
    expect(c).toBe(tree.children[0].children[2]);
    expect(c?.get("d")).toBe("deep");
  });

  it("all returns repeated siblings under the first match of the parent", () => {
    expect(tree.all("a/b").map((b) => b.value)).toEqual(["1", "2"]);
    expect(tree.all("a").map((a) => a.value)).toEqual(["", "second"]);
    expect(tree.all("/a/b")).toHaveLength(2);
    expect(tree.all("x/b")).toEqual([]);
    expect(tree.all("a/zzz")).toEqual([]);
  });

  it("treats a null value as missing", () => {
    const r = root([n("a", null)]);
    expect(r.get("a", "dflt")).toBe("dflt");
    expect(r.getInteger("a", 7)).toBe(7);
  });
});

describe("tree set / addChild", () => {
  it("updates the first match", () => {
    const tree = parseZpl("a = 1\na = 2\n");
    tree.set("a", "9");
    expect(tree.all("a").map((a) => a.value)).toEqual(["9", "2"]);
  });

  it("creates missing nodes with value \"\" and returns the target", () => {
    const tree = parseZpl("a\n    x = 1\n");
    const node = tree.set("/a/b/c", "v");
    expect(node.value).toBe("v");
    expect(tree).toEqual(root([n("a", "", [n("x", "1"), n("b", "", [n("c", "v")])])]));
    expect(parseZpl(writeZpl(tree))).toEqual(tree);
  });

  it("rejects invalid paths", () => {
    const tree = root();
    for (const path of ["", "/", "a//b", "a/", "a b", "café", "a=b"]) {
      expect(() => tree.set(path, "x"), path).toThrow(ZplPathError);
    }
    expect(tree.children).toEqual([]);
  });

  it("addChild appends repeated siblings and validates the name", () => {
    const r = root();
    r.addChild("account").addChild("login", "guest");
    r.addChild("account").addChild("login", "admin");
    expect(r.all("account").map((a) => a.get("login"))).toEqual(["guest", "admin"]);
    expect(() => r.addChild("/x")).toThrow(ZplPathError);
    expect(r.addChild("a/b", "ok").name).toBe("a/b");
  });

  it("clone and from make independent deep copies", () => {
    const original = parseZpl(SPEC_EXAMPLE);
    const copy = original.clone();
    expect(copy).toEqual(original);
    copy.set("server/timeout", "1");
    expect(original.get("server/timeout")).toBe("10000");
    const fromPlain = ZplNode.from({ name: "", value: null, children: [{ name: "a", value: "1", children: [] }] });
    expect(fromPlain).toBeInstanceOf(ZplNode);
    expect(fromPlain.get("a")).toBe("1");
  });

  it("equals, from and clone handle a 100,000-deep tree without overflowing the stack", () => {
    const deep = (depth: number, leaf: string): ZplNode => {
      const top = n("a");
      let node = top;
      for (let i = 1; i < depth; i++) node = node.addChild("a");
      node.value = leaf;
      return top;
    };
    const a = deep(100_000, "x");
    expect(a.equals(deep(100_000, "x"))).toBe(true);
    expect(a.equals(deep(100_000, "y"))).toBe(false);
    expect(a.equals(deep(99_999, "x"))).toBe(false);
    expect(a.clone().equals(a)).toBe(true);
  });

  it("equals distinguishes \"\" from null and treats missing comments as empty", () => {
    expect(n("a", "").equals({ name: "a", value: null, children: [] })).toBe(false);
    expect(n("a", "").equals({ name: "a", value: "", children: [] })).toBe(true);
    expect(n("a", "", [], ["c"]).equals({ name: "a", value: "", children: [] })).toBe(false);
    expect(n("a", "", [n("b")]).equals({ name: "a", value: "", children: [] })).toBe(false);
  });
});

describe("numeric accessors", () => {
  const tree = parseZpl(
    [
      "timeout = 10000",
      "negative = -5",
      "plus = +5",
      "heartbeat = 1s",
      "hex = 0x10",
      "spaced = ' 5'",
      "empty",
      "huge = 99999999999999999999",
      "ratio = 0.25",
      "exp = 1e3",
      "inf = Infinity",
      "nan = NaN",
      "zero = -0",
    ].join("\n"),
  );

  it("reads decimal integers", () => {
    expect(tree.getInteger("timeout")).toBe(10000);
    expect(tree.getInteger("negative", 0)).toBe(-5);
    expect(tree.getInteger("plus", 0)).toBe(5);
    expect(Object.is(tree.getInteger("zero", 1), 0)).toBe(true);
    expect(tree.getInteger("missing", 42)).toBe(42);
    expect(tree.getInteger("missing")).toBeUndefined();
  });

  it("rejects non-numeric text with a ZplValueError naming the path (C's atoi would give 0)", () => {
    for (const key of ["heartbeat", "hex", "spaced", "empty", "huge", "ratio", "exp", "inf"]) {
      expect(() => tree.getInteger(key, 0), key).toThrow(ZplValueError);
    }
    try {
      tree.getInteger("/heartbeat", 0);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ZplValueError);
      const valueError = error as ZplValueError;
      expect(valueError.path).toBe("/heartbeat");
      expect(valueError.value).toBe("1s");
      expect(valueError.message).toBe('/heartbeat: expected an integer, found "1s"');
    }
  });

  it("reads decimal numbers and rejects the rest", () => {
    expect(tree.getNumber("ratio")).toBe(0.25);
    expect(tree.getNumber("exp")).toBe(1000);
    expect(tree.getNumber("timeout")).toBe(10000);
    expect(tree.getNumber("missing", 1.5)).toBe(1.5);
    for (const key of ["heartbeat", "hex", "spaced", "empty", "inf", "nan"]) {
      expect(() => tree.getNumber(key), key).toThrow(ZplValueError);
    }
  });
});

describe("isValidZplName", () => {
  it("follows the ABNF", () => {
    for (const name of ["a", "A1", "$", "a/b", "a//b", "x.y-z_@&+"]) expect(isValidZplName(name), name).toBe(true);
    for (const name of ["", "/", "/a", "a/", "a b", "é", "a=b", "a#", "'a'"]) {
      expect(isValidZplName(name), name).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Writer (§3.2)

describe("writer", () => {
  it("writes 4 spaces per level, quoted values, bare empty values and comments under their node", () => {
    const tree = root(
      [
        n("server", "", [n("timeout", "10000"), n("name", "it's")], [" server settings"]),
        n("echo", 'say "hi"'),
        n("a", "", [n("b", "", [n("c", "deep")])]),
      ],
      ["header", ""],
    );
    expect(writeZpl(tree)).toBe(
      [
        "#header",
        "#",
        "",
        "server",
        "    # server settings",
        '    timeout = "10000"',
        '    name = "it\'s"',
        "echo = 'say \"hi\"'",
        "a",
        "    b",
        '        c = "deep"',
        "",
      ].join("\n"),
    );
    expect(parseZpl(writeZpl(tree))).toEqual(tree);
  });

  it("writes an empty document as empty text and comments-only without a blank line", () => {
    expect(writeZpl(root())).toBe("");
    expect(writeZpl(root([], ["x"]))).toBe("#x\n");
  });

  it("quotes values with leading/trailing whitespace, '#', '=' or a leading quote, so they survive", () => {
    for (const value of ["  padded  ", "\tx\t", "#1", "a # b", "= x", "'", '"', "x =", "  ", "é 😀", "\uFEFF"]) {
      const tree = root([n("k", value)]);
      expect(parseZpl(writeZpl(tree)).get("k"), JSON.stringify(value)).toBe(value);
    }
    expect(writeZpl(root([n("k", " x")]))).toBe('k = " x"\n');
  });

  it("writes a value with both quote characters unquoted, which the parser reads back as it is", () => {
    for (const value of [`it's "x"`, `a'b"c`, `x = "y" 'z'`, `it's\t"x"`]) {
      const text = writeZpl(root([n("k", value)]));
      expect(text).toBe(`k = ${value}\n`);
      expect(parseZpl(text).get("k")).toBe(value);
    }
  });

  it("refuses values that cannot be written faithfully", () => {
    expect(writeError(root([n("s", "", [n("k", "'it's \"x\"")])])).message).toBe(
      "s/k: the value contains both ' and \" and begins with a quote, so no ZPL text reads back as it (ZPL has no escapes)",
    );
    expect(writeError(root([n("k", " it's \"x\"")])).message).toMatch(/both ' and " and begins or ends with whitespace/);
    expect(writeError(root([n("k", "it's \"x\"\t")])).message).toMatch(/begins or ends with whitespace/);
    expect(writeError(root([n("k", "it's #\"x\"")])).message).toMatch(/both ' and " and holds '#'/);
    expect(writeError(root([n("k", "a\nb")])).message).toMatch(/line break/);
    expect(writeError(root([n("k", "a\r")])).message).toMatch(/line break/);
    expect(writeError(root([n("k", "a\u0000")])).message).toMatch(/NUL/);
    expect(writeError(root([n("k", "\u001b[0m")])).message).toMatch(/U\+001B/);
    expect(writeError(root([n("k", "\ud800")])).message).toMatch(/surrogate/);
    expect(writeError(root([n("k", "\u007f")])).path).toBe("k");
  });

  it("refuses a null value below the root, since it would read back as \"\"", () => {
    const error = writeError(root([n("a", "", [n("b", null)])]));
    expect(error.path).toBe("a/b");
    expect(error.message).toMatch(/null/);
  });

  it("refuses a named root or a root with a value", () => {
    expect(writeError(n("server", null)).message).toMatch(/root must be unnamed/);
    expect(writeError(n("", "x")).message).toMatch(/root must have the value null/);
  });

  it("refuses invalid names", () => {
    for (const name of ["", "/a", "a/", "a b", "é", "a=b"]) {
      expect(writeError(root([n(name, "1")])).message, name).toMatch(/not a valid ZPL name/);
    }
  });

  it("refuses comments that would not read back", () => {
    expect(writeError(root([], ["trailing "])).message).toMatch(/ends with whitespace/);
    expect(writeError(root([n("a", "", [], ["tab\t"])])).path).toBe("a");
    expect(writeError(root([], ["two\nlines"])).message).toMatch(/line break/);
    expect(writeError(root([], ["bell\u0007"])).message).toMatch(/U\+0007/);
  });

  it("writes names containing '/' (they parse back with a warning)", () => {
    const tree = root([n("a/b", "1")]);
    const warnings: ZplWarning[] = [];
    expect(parseZpl(writeZpl(tree), { onWarning: (w) => warnings.push(w) })).toEqual(tree);
    expect(warnings).toHaveLength(1);
  });

  it("accepts plain object trees", () => {
    const plain: ZplNodeData = {
      name: "",
      value: null,
      children: [{ name: "a", value: "1", children: [], comments: ["c"] }],
    };
    expect(writeZpl(plain)).toBe('a = "1"\n    #c\n');
    expect(parseZpl(writeZpl(plain)).equals(plain)).toBe(true);
  });

  it("redacts values of the given names, case-insensitively, for logs", () => {
    const tree = parseZpl("security\n    login = admin\n    Password = s3cret\n    hash = abc\n    token\n");
    const text = writeZpl(tree, { redact: ["password", "HASH", "token"] });
    expect(text).toBe(
      [
        "security",
        '    login = "admin"',
        `    Password = "${ZPL_REDACTED}"`,
        `    hash = "${ZPL_REDACTED}"`,
        `    token = "${ZPL_REDACTED}"`,
        "",
      ].join("\n"),
    );
    expect(text).not.toContain("s3cret");
    // the tree itself is untouched
    expect(tree.get("security/Password")).toBe("s3cret");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const NAME_CHARS = [..."abcxyzABZ0189$-_@.&+"];
const nameArb = fc
  .tuple(
    fc.constantFrom(...NAME_CHARS),
    fc.array(fc.constantFrom(...NAME_CHARS, "/"), { maxLength: 6 }),
    fc.constantFrom(...NAME_CHARS),
    fc.boolean(),
  )
  .map(([first, middle, last, single]) => (single ? first : first + middle.join("") + last));

const textChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  fc.constantFrom(" ", "\t", "#", "=", "'", '"', "/", "é", "€", "😀", "\u0085", "\u2028", "\uFEFF"),
);
const valueArb = fc.array(textChar, { maxLength: 12 }).map((chars) => chars.join(""));

/** Whether the parser can give a node the value `value` (§3.2: then the writer must write it). */
function parserCanYield(value: string): boolean {
  if (!(value.includes('"') && value.includes("'"))) return true;
  // only unquoted text holds both quotes: it cannot begin with a quote or whitespace, end in whitespace or hold "#"
  return !/^["' \t]|[ \t]$|#/.test(value);
}

function treeValues(tree: ZplNodeData): string[] {
  const values: string[] = [];
  const pending = [...tree.children];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    values.push(node.value ?? "");
    pending.push(...node.children);
  }
  return values;
}
const commentArb = fc
  .array(textChar, { maxLength: 12 })
  .map((chars) => chars.join("").replace(/[ \t]+$/, ""));

interface PlainNode {
  name: string;
  value: string;
  comments: string[];
  children: PlainNode[];
}

const { node: nodeArb } = fc.letrec<{ node: PlainNode }>((tie) => ({
  node: fc.record({
    name: nameArb,
    value: valueArb,
    comments: fc.array(commentArb, { maxLength: 2 }),
    children: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constant<PlainNode[]>([]),
      fc.array(tie("node"), { maxLength: 4 }),
    ),
  }),
}));

const treeArb = fc
  .record({ children: fc.array(nodeArb, { maxLength: 5 }), comments: fc.array(commentArb, { maxLength: 3 }) })
  .map(({ children, comments }): ZplNodeData => ({ name: "", value: null, children, comments }));

describe("properties", () => {
  it("parse(write(t)) equals t for random trees, and only trees the parser cannot give are refused", () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        if (!treeValues(tree).every(parserCanYield)) {
          expect(() => writeZpl(tree)).toThrow(/both ' and "/);
          return;
        }
        const text = writeZpl(tree);
        const parsed = parseZpl(text);
        expect(parsed.equals(tree)).toBe(true);
        expect(parsed).toEqual(ZplNode.from(tree));
        // writing is deterministic, so a second round gives the same text
        expect(writeZpl(parsed)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("parse(write(t)) also holds with CRLF line endings", () => {
    fc.assert(
      fc.property(treeArb.filter((tree) => treeValues(tree).every(parserCanYield)), (tree) => {
        expect(parseZpl(writeZpl(tree).replaceAll("\n", "\r\n")).equals(tree)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  const zplishText = fc
    .array(
      fc.oneof(
        fc.constantFrom("\n", "\r\n", "\r", "    ", "  ", "\t", " = ", "=", "#", '"', "'", "/", "a", "b", "é", "\u0000"),
        fc.string({ maxLength: 4 }),
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join(""));

  it("parsing arbitrary text either succeeds or throws a positioned ZplError", () => {
    fc.assert(
      fc.property(zplishText, (text) => {
        let tree: ZplNode;
        try {
          tree = parseZpl(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ZplError);
          const zplError = error as ZplError;
          const lineCount = text.split("\n").length;
          expect(zplError.line).toBeGreaterThanOrEqual(1);
          expect(zplError.line).toBeLessThanOrEqual(lineCount);
          expect(zplError.column).toBeGreaterThanOrEqual(1);
          return;
        }
        // whatever parses can be written, and reads back the same
        expect(parseZpl(writeZpl(tree))).toEqual(tree);
      }),
      { numRuns: 1000 },
    );
  });

  // Lines shaped like ZPL, with the forms zconfig accepts: odd and tab indentation on comments, tabs around
  // "=", values quoted either way or not at all and holding either quote, both, "#" and "=".
  const zplLine = fc
    .tuple(
      fc.constantFrom("", "", "    ", "        ", "  ", "\t", " \t"),
      fc.oneof(
        fc.tuple(nameArb, fc.constantFrom("", " = ", "=", "\t=\t", " =  ", " "), valueArb, fc.constantFrom("", '"', "'"), fc.constantFrom("", " # c", "\t#c"))
          .map(([name, separator, value, quote, comment]) => `${name}${separator}${separator.includes("=") ? `${quote}${value}${quote}` : ""}${comment}`),
        commentArb.map((text) => `#${text}`),
      ),
    )
    .map(([indent, body]) => indent + body);

  it("every ZPL-shaped document the parser accepts is written and read back equal", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(zplLine, { maxLength: 12 }), (lines) => {
        let tree: ZplNode;
        try {
          tree = parseZpl(lines.join("\n"));
        } catch (error) {
          expect(error).toBeInstanceOf(ZplError);
          return;
        }
        accepted++;
        expect(parseZpl(writeZpl(tree)).equals(tree)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // the generator must mostly make documents the parser accepts, or the property proves little
    expect(accepted).toBeGreaterThan(200);
  });

  it("valid UTF-8 bytes parse exactly like the decoded text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 30 }), (text) => {
        const bytes = new TextEncoder().encode(text);
        let fromText: unknown;
        let fromBytes: unknown;
        try {
          fromText = parseZpl(text);
        } catch (error) {
          fromText = String(error);
        }
        try {
          fromBytes = parseZplBytes(bytes);
        } catch (error) {
          fromBytes = String(error);
        }
        expect(fromBytes).toEqual(fromText);
      }),
      { numRuns: 300, examples: [["\uFEFFa = 1"], ["a = é\r\nb"], ["a\rb"], ["  x"]] },
    );
  });
});
