/**
 * Models in ZPL syntax: one model language, two syntaxes. Every model converts to ZPL and back as the same
 * model (one form each way), generates the same code, and a broken .zpl model gets its errors at the .zpl
 * file's lines and columns. `zproto convert` and every other command take .zpl models.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertModel } from "../generator/convert.js";
import { Diagnostics, formatDiagnostic } from "../generator/diagnostics.js";
import type { ModelElement } from "../generator/element.js";
import { generate } from "../generator/generate.js";
import { displayPath, parseModelFile } from "../generator/load.js";
import { loadModel } from "../generator/model.js";
import { modelText } from "../generator/model-syntax.js";

const ZPROTO = "dist/bin/zproto.js";
const SCRATCH = mkdtempSync(join(tmpdir(), "zproto-zpl-models-"));
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

function modelFilesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".xml"))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

const MODELS = [...modelFilesUnder("models"), ...modelFilesUnder("test/fixtures/models")];

/** An element tree without positions, text as the model reads it: what "the same model" means. */
interface Normalised {
  readonly name: string;
  readonly attributes: [string, string][];
  readonly text: string;
  readonly children: Normalised[];
}

function normalise(element: ModelElement): Normalised {
  return {
    name: element.name,
    attributes: [...element.attributes].map(([name, attribute]) => [name, attribute.value]),
    text: modelText(element),
    children: element.children.map(normalise),
  };
}

function parsed(path: string): Normalised {
  const diagnostics = new Diagnostics();
  const model = parseModelFile(path, diagnostics);
  expect(diagnostics.list.map(formatDiagnostic), path).toEqual([]);
  return normalise(model!.root);
}

/** Converts and writes the result to `out`, which must succeed. */
function convertTo(path: string, out: string, syntax?: "xml" | "zpl"): string {
  const result = convertModel(path, syntax);
  expect(result.diagnostics.map(formatDiagnostic), path).toEqual([]);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, result.text!);
  return result.text!;
}

function zproto(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync("node", [ZPROTO, ...args], { encoding: "utf8" });
}

describe("converting every model and fixture to ZPL and back", () => {
  it.each(MODELS)("%s is the same model in both syntaxes, with one form in each", (path) => {
    const base = join(SCRATCH, "round-trip", path);
    const zpl = convertTo(path, `${base}.zpl`);
    const xml = convertTo(`${base}.zpl`, `${base}.xml`);
    expect(parsed(`${base}.zpl`)).toEqual(parsed(path));
    expect(parsed(`${base}.xml`)).toEqual(parsed(path));
    // converting the converted files again gives the same text: each syntax has one form of a model
    expect(convertModel(`${base}.xml`).text).toBe(zpl);
    expect(convertModel(`${base}.zpl`, "xml").text).toBe(xml);
  });

  it("covers the mapping's corners in the fixtures (attributes named like elements, both quotes, unknown elements)", () => {
    const zpl = convertModel("test/fixtures/models/syntax_corners.xml").text!;
    expect(zpl).toContain(`    title = It's a "test" of both quotes\n`);
    expect(zpl).toContain("    @state = draft\n");
    expect(zpl).toContain('    @doc = "an attribute named like a documentation line"\n');
    expect(zpl).toContain("    doc\n");
    expect(zpl).toContain('    doc = "    This line is indented relative to the others."\n');
    expect(zpl).toContain('    define = EMPTY\n        value = ""\n');
    expect(zpl).toContain(`    define = PIECES\n        value = '"quoted" and it'\n            + = "'s # not a comment"\n`);
    expect(zpl).toContain('    message = ""\n');
    expect(zpl).toContain("\n    message\n");
    expect(zpl).toContain("\n    states\n");
    expect(zpl).toContain("    feild\n        name = x\n");
    expect(zpl).toContain('            test = "first line"\n                doc = "second line"\n');
    expect(zpl).toContain(`            test = v = "x" 'y'\n                key = k\n`);
  });
});

describe("code generated from the ZPL form", () => {
  const generating = [
    ...MODELS.filter((path) => path.startsWith("models/")),
    ...["kitchen_sink", "weather"].map((name) => `test/fixtures/models/${name}.xml`),
    ...modelFilesUnder("test/fixtures/models/engine"),
  ];

  it("is the code generated from the XML original, but for the header line naming the model file", () => {
    const zplTree = join(SCRATCH, "generate-zpl");
    const zplModels = generating.map((path) => {
      const target = join(zplTree, path.replace(/\.xml$/, ".zpl"));
      convertTo(path, target);
      return target;
    });
    const fromXml = generate(generating, { out: join(SCRATCH, "out-xml"), runtime: { directory: "runtime" } });
    const fromZpl = generate(zplModels, { out: join(SCRATCH, "out-zpl"), runtime: { directory: "runtime" } });
    expect(fromXml.ok).toBe(true);
    expect(fromZpl.diagnostics.map(formatDiagnostic)).toEqual(fromXml.diagnostics.map(formatDiagnostic).map((line) => line.replace(/^(\S+)\.xml:/, `${zplTree}/$1.zpl:`)));
    expect(fromZpl.written).toHaveLength(generating.length);
    fromXml.written.forEach((file, index) => {
      const [xmlHeader, ...xmlBody] = readFileSync(file.output, "utf8").split("\n");
      const [zplHeader, ...zplBody] = readFileSync(fromZpl.written[index].output, "utf8").split("\n");
      expect(xmlHeader).toContain(`from ${file.model}.`);
      expect(zplHeader).toBe(xmlHeader.replace(file.model, displayPath(zplModels[index])));
      expect(zplBody.join("\n"), file.model).toBe(xmlBody.join("\n"));
    });
  });

  it("zproto generate hello_msg.zpl writes what the XML original does (the issue's definition of done)", () => {
    const directory = join(SCRATCH, "hello");
    convertTo("models/hello/hello_msg.xml", join(directory, "hello_msg.zpl"));
    const outputs = [["models/hello/hello_msg.xml", "out-xml"], [join(directory, "hello_msg.zpl"), "out-zpl"]].map(([model, out]) => {
      const run = zproto("generate", model, "--out", join(directory, out));
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      return readFileSync(join(directory, out, "hello_msg.ts"), "utf8").split("\n");
    });
    expect(outputs[1][0]).toBe(`// Code generated by zproto-ts from ${join(directory, "hello_msg.zpl")}. DO NOT EDIT.`);
    expect(outputs[1].slice(1)).toEqual(outputs[0].slice(1));
  });
});
