/**
 * Reading model files is safe with hostile models: only regular files of a bounded size are read, never
 * outside the model's directory unless allowed, each file once, with expanded size and include nesting
 * bounded; no error text shows the content of a file that is not a model. Attribute positions cost one pass
 * over each tag.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertModel } from "../generator/convert.js";
import { formatDiagnostic, type Diagnostic } from "../generator/diagnostics.js";
import type { CodecIR } from "../generator/ir.js";
import { MODEL_LIMITS } from "../generator/load.js";
import { generate } from "../generator/generate.js";
import { loadModel, type LoadOptions } from "../generator/model.js";

const SCRATCH = mkdtempSync(join(tmpdir(), "zproto-model-loading-"));
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

const SECRET = "TOKEN=hunter2-do-not-print";
/** A file outside every model directory of this test, holding something no error may show. */
const OUTSIDE = join(SCRATCH, "secret.txt");
writeFileSync(OUTSIDE, `${SECRET}\n`);

let count = 0;
/** A fresh model directory holding `files`; returns the path of the first. */
function models(files: Record<string, string>): string {
  const directory = join(SCRATCH, `models-${++count}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(directory, name, ".."), { recursive: true });
    writeFileSync(join(directory, name), text);
  }
  return join(directory, Object.keys(files)[0]);
}

function including(filename: string): string {
  return `<class name = "c" script = "zproto_codec_c">\n    <include filename = "${filename}" />\n    <message name = "A" />\n</class>\n`;
}

function errors(path: string, options: LoadOptions = {}): string[] {
  return loadModel(path, options).diagnostics.filter((d: Diagnostic) => d.severity === "error").map(formatDiagnostic);
}

describe("<include> reads only what a model may include", () => {
  it("refuses a path that leaves the model's directory, and shows nothing of the file", () => {
    const model = models({ "m.xml": including("../secret.txt") });
    const found = errors(model);
    expect(found).toEqual([`${model}:2:14: error: include ../secret.txt leaves the model's directory ${join(model, "..")}; ` +
      "a model includes only files in its own directory tree unless allowed out (--include-root DIR, a directory holding both, or --allow-outside)"]);
    expect(found.join("\n")).not.toContain("TOKEN");
  });

  it("refuses a symbolic link inside the tree that points out of it", () => {
    const model = models({ "m.xml": including("parts/link.xml"), "parts/keep": "" });
    symlinkSync(OUTSIDE, join(model, "..", "parts", "link.xml"));
    expect(errors(model)).toEqual([expect.stringMatching(/:2:14: error: include parts\/link\.xml leaves the model's directory/)]);
  });

  it("with allowOutside, reads the file but refuses it as no model without quoting it", () => {
    const model = models({ "m.xml": including("../secret.txt") });
    const found = errors(model, { allowOutside: true });
    expect(found).toEqual([`${OUTSIDE}:1:1: error: ${OUTSIDE} is not an XML model: it does not begin with '<'`]);
    expect(errors(models({ "m.xml": including("/proc/self/environ") }), { allowOutside: true }))
      .toEqual(["/proc/self/environ:1:1: error: /proc/self/environ is not an XML model: it does not begin with '<'"]);
    const zplNamed = join(SCRATCH, "secret.zpl");
    writeFileSync(zplNamed, `${SECRET}\n`);
    const asZpl = errors(models({ "m.xml": including("../secret.zpl") }), { allowOutside: true });
    expect(asZpl).toEqual([`${zplNamed}:1:1: error: ${zplNamed} is not a ZPL model: it does not begin with an element of the model language`]);
    expect([...found, ...asZpl].join("\n")).not.toMatch(/TOKEN|hunter2|'T'/);
  });

  it("--allow-outside lets the command line include files outside the model's directory", () => {
    const model = models({ "m.xml": including("../outside/part.xml") });
    mkdirSync(join(SCRATCH, "outside"), { recursive: true });
    writeFileSync(join(SCRATCH, "outside", "part.xml"), '<message name = "B" />\n');
    expect(spawnSync("node", ["dist/bin/zproto.js", "check", model], { encoding: "utf8" }).status).toBe(1);
    const allowed = spawnSync("node", ["dist/bin/zproto.js", "check", model, "--allow-outside"], { encoding: "utf8" });
    expect([allowed.status, allowed.stdout]).toEqual([0, `${model}: ok (2 messages)\n`]);
  });

  it("includeRoot widens the tree to a directory above the model, and generate gives the directory it generates", () => {
    const model = models({ "proto/m.xml": including("../common/_part.xml"), "common/_part.xml": '<message name = "B" />\n' });
    const root = join(model, "..", "..");
    expect(errors(model)).toEqual([expect.stringMatching(/include \.\.\/common\/_part\.xml leaves the model's directory/)]);
    expect(errors(model, { includeRoot: root })).toEqual([]);
    expect(errors(models({ "m.xml": including("../secret.txt") }), { includeRoot: join(SCRATCH, "models-none") })).toEqual([
      expect.stringMatching(/include \.\.\/secret\.txt leaves the model's directory/)]);
    const checked = spawnSync("node", ["dist/bin/zproto.js", "check", model, "--include-root", root], { encoding: "utf8" });
    expect([checked.status, checked.stdout]).toEqual([0, `${model}: ok (2 messages)\n`]);
    const out = join(SCRATCH, `generated-${++count}`);
    const result = generate([root], { out });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(result.written.map((file) => file.output)).toEqual([join(out, "proto", "m.ts")]);
  });

  it("reads regular files only: a device or a FIFO is refused at once, without reading or waiting", () => {
    expect(errors(models({ "m.xml": including("/dev/zero") }), { allowOutside: true })).toEqual([
      expect.stringMatching(/:2:14: error: file \/dev\/zero is not a regular file \(a device, FIFO or socket\); only regular files are read as models$/),
    ]);
    const model = models({ "m.xml": including("pipe.xml") });
    expect(spawnSync("mkfifo", [join(model, "..", "pipe.xml")]).status).toBe(0);
    expect(errors(model)).toEqual([expect.stringMatching(/:2:14: error: file .*pipe\.xml is not a regular file/)]);
    expect(errors(join(model, "..", "pipe.xml"))).toEqual([expect.stringMatching(/pipe\.xml:1:1: error: model file .*pipe\.xml is not a regular file/)]);
  });

  it("refuses a file over the size limit of a model file", () => {
    const big = `<message name = "B">${"x".repeat(MODEL_LIMITS.fileBytes)}</message>\n`;
    const model = models({ "m.xml": including("big.xml"), "big.xml": big });
    expect(errors(model)).toEqual([expect.stringMatching(new RegExp(`:2:14: error: file .*big\\.xml is more than ${MODEL_LIMITS.fileBytes} bytes, the limit of a model file$`))]);
  });
});

describe("includes are read once and bounded", () => {
  it("reads a file included several times once: its own problems are reported once", () => {
    const model = models({
      "m.xml": `<class name = "c" script = "zproto_codec_c">\n${'    <include filename = "part.xml" />\n'.repeat(3)}</class>\n`,
      "part.xml": '<fragment>\n    <include filename = "missing.xml" />\n    <message name = "A" />\n</fragment>\n',
    });
    const found = errors(model);
    expect(found.filter((line) => line.includes("does not exist"))).toEqual([expect.stringMatching(/part\.xml:2:14: error: file .*missing\.xml does not exist$/)]);
  });

  it("stops a file included 10 times, nested 6 deep, with one clear error instead of expanding it", () => {
    const files: Record<string, string> = {};
    for (let level = 0; level < 6; level++) {
      const body = `${'    <include filename = "level' + (level + 1) + '.xml" />\n'}`.repeat(10);
      files[`level${level}.xml`] = level === 0 ? `<class name = "c" script = "zproto_codec_c">\n${body}</class>\n` : `<fragment>\n${body}</fragment>\n`;
    }
    files["level6.xml"] = `<message name = "LEAF">${"Documentation that pads this file a little. ".repeat(6)}</message>\n`;
    expect(errors(models(files))).toEqual([expect.stringMatching(
      new RegExp(`level(\\d)\\.xml:\\d+:14: error: with this include, .*level\\1\\.xml grows past ${MODEL_LIMITS.expandedBytes} bytes, the limit of a model with its includes expanded`))]);
  });

  it(`allows includes nested ${MODEL_LIMITS.includeDepth} deep and refuses one more`, () => {
    const chain = (depth: number): Record<string, string> => {
      const files: Record<string, string> = { "f0.xml": including("f1.xml") };
      for (let level = 1; level < depth; level++) files[`f${level}.xml`] = `<fragment><include filename = "f${level + 1}.xml" /></fragment>\n`;
      files[`f${depth}.xml`] = '<message name = "B" />\n';
      return files;
    };
    expect(errors(models(chain(MODEL_LIMITS.includeDepth)))).toEqual([]);
    expect(errors(models(chain(MODEL_LIMITS.includeDepth + 1)))).toEqual([
      expect.stringMatching(new RegExp(`f${MODEL_LIMITS.includeDepth}\\.xml:1:20: error: includes nest more than ${MODEL_LIMITS.includeDepth} deep here$`)),
    ]);
  });
});

describe("attribute positions", () => {
  it("are those of the attributes themselves, not of text inside other attributes' values", () => {
    const model = models({ "m.xml": '<class name = "c" script = "zproto_codec_c">\n<message name = "A">\n<field name = "x type = y size=z" type = "strin" size = "3"/>\n</message>\n</class>\n' });
    expect(errors(model)).toEqual([`${model}:3:35: error: field x_type___y_size_z has unknown type "strin"`]);
  });

  it("are right for every one of thousands of attributes on one element", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `a${i}`);
    const tag = `<class name = "c" script = "zproto_codec_c"\n${names.map((name) => `  ${name} = "${name}"`).join("\n")}>\n<message name = "A" />\n</class>\n`;
    const warnings = loadModel(models({ "m.xml": tag })).diagnostics.filter((d) => d.severity === "warning");
    expect(warnings).toHaveLength(names.length);
    warnings.forEach((warning, i) => expect([warning.line, warning.column, warning.message]).toEqual([i + 2, 3, `unknown attribute a${i} on <class> is ignored`]));
  });
});

describe("an empty model file", () => {
  it("is reported at line 1, column 1, in either syntax", () => {
    const directory = join(models({ "empty.xml": "", "blank.xml": " \n\t\n", "empty.zpl": "" }), "..");
    for (const name of ["empty.xml", "blank.xml", "empty.zpl"]) {
      const path = join(directory, name);
      expect(errors(path)).toEqual([`${path}:1:1: error: model file ${path} is empty`]);
    }
  });
});

describe("the encoding of a model file", () => {
  it("must be UTF-8 in either syntax: a byte that is not is an error at its line and column, not a U+FFFD in the code", () => {
    const xml = models({ "latin1.xml": "" });
    const directory = join(xml, "..");
    // A U+FFFD written in the file is text like any other; the byte 0xE9 (é in Latin-1) after it is the error.
    writeFileSync(xml, Buffer.concat([Buffer.from('<class name = "c" script = "zproto_codec_c">\n<message name = "A">\uFFFD caf'), Buffer.from([0xe9]), Buffer.from("</message>\n</class>\n")]));
    expect(errors(xml)).toEqual([`${xml}:2:26: error: invalid UTF-8 (byte 0xE9); save the model as UTF-8`]);
    const zpl = join(directory, "latin1.zpl");
    writeFileSync(zpl, Buffer.concat([Buffer.from("class = c\n    script = zproto_codec_c\n    message = A\n        doc = caf"), Buffer.from([0xe9, 0x0a])]));
    expect(errors(zpl)).toEqual([`${zpl}:4:18: error: invalid UTF-8 (byte 0xE9)`]);
  });

  it("may begin with a byte-order mark in XML; in ZPL, which has none, the error says so", () => {
    const directory = join(models({ "bom.xml": '\uFEFF<class name = "c" script = "zproto_codec_c"><message name = "A"/></class>\n' }), "..");
    expect(errors(join(directory, "bom.xml"))).toEqual([]);
    const zpl = join(directory, "bom.zpl");
    writeFileSync(zpl, "\uFEFFclass = c\n    script = zproto_codec_c\n    message = A\n");
    expect(errors(zpl)).toEqual([`${zpl}:1:1: error: the text starts with a byte-order mark (BOM); save it as UTF-8 without BOM`]);
  });
});

describe("text that costs a naive reader quadratic time", () => {
  // Each of these took minutes before (a line-by-line shift(), regular expressions that backtrack over a long
  // run of spaces); the test's time limit is generous, so only such a regression can make it run out.
  it("reads and generates a model with 400,000 blank lines and 200,000 spaces inside a line, keeping the text", () => {
    const spaces = " ".repeat(200_000);
    const model = models({
      "m.xml": `<class name = "c" script = "zproto_codec_c" title = "a${spaces}b">\n${"\n".repeat(400_000)}doc${spaces}end\n<message name = "A" />\n</class>\n`,
    });
    const result = generate([model], { out: join(model, "..", "out") });
    expect(result.diagnostics).toEqual([]);
    const code = readFileSync(join(model, "..", "out", "m.ts"), "utf8");
    expect(code).toContain(` * a${spaces}b\n`);
    expect(code).toContain(` * doc${spaces}end\n`);
  }, 60_000);

  it("converts a line of 200,000 double quotes and 200,000 single quotes to ZPL and back", () => {
    const line = `x${'"'.repeat(200_000)}${"'".repeat(200_000)}`;
    const model = models({ "q.xml": `<class name = "c" script = "zproto_codec_c">\n${line}\n<message name = "A" />\n</class>\n` });
    const zpl = convertModel(model);
    expect(zpl.diagnostics).toEqual([]);
    const converted = join(model, "..", "q.zpl");
    writeFileSync(converted, zpl.text!);
    expect((loadModel(converted).model as CodecIR).doc).toBe(line);
  }, 60_000);
});
