/**
 * Models in ZPL syntax: one model language, two syntaxes. Every model converts to ZPL and back as the same
 * model (one form each way), generates the same code, and a broken .zpl model gets its errors at the .zpl
 * file's lines and columns. `zproto convert` and every other command take .zpl models.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
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

/**
 * An element tree without positions, text as the model reads it, attributes by name (their order has no
 * meaning, in XML as in the model language): what "the same model" means.
 */
interface Normalised {
  readonly name: string;
  readonly attributes: [string, string][];
  readonly text: string;
  readonly children: Normalised[];
}

function normalise(element: ModelElement): Normalised {
  return {
    name: element.name,
    attributes: [...element.attributes].map(([name, attribute]): [string, string] => [name, attribute.value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
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
    expect(convertModel(`${base}.xml`, "xml").text).toBe(xml);
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

describe("docs/zpl-models.md", () => {
  const DOC = readFileSync("docs/zpl-models.md", "utf8");
  /** Each marked example: its name, whether it is the ZPL side, and its text. */
  const examples = [...DOC.matchAll(/<!-- example: (\S+)( as zpl)? -->\n```[a-z]*\n([\s\S]*?)```/g)]
    .map(([, name, zpl, text]) => ({ name, syntax: zpl ? "zpl" : "xml", text }));

  it("shows the full hello protocol and zproto_example in both syntaxes, as shipped and as converted", () => {
    const shipped = ["models/hello/hello_msg.xml", "models/hello/hello_server.xml", "models/hello/hello_client.xml", "models/zproto_example/zproto_example.xml"];
    expect(examples.filter((example) => example.name !== "intro").map((example) => `${example.name} ${example.syntax}`))
      .toEqual(shipped.flatMap((path) => [`${path} xml`, `${path} zpl`]));
    for (const example of examples.filter((candidate) => candidate.name !== "intro")) {
      expect(example.text, example.name).toBe(example.syntax === "xml" ? readFileSync(example.name, "utf8") : convertModel(example.name).text);
    }
  });

  it("gives an opening example whose two syntaxes are the same model", () => {
    const [zpl, xml] = examples.filter((example) => example.name === "intro");
    const base = join(SCRATCH, "docs-intro");
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, "intro.zpl"), zpl.text);
    writeFileSync(join(base, "intro.xml"), xml.text);
    expect(parsed(join(base, "intro.zpl"))).toEqual(parsed(join(base, "intro.xml")));
  });
});

describe("code generated from the ZPL form", () => {
  const generating = [
    ...MODELS.filter((path) => path.startsWith("models/") && !basename(path).startsWith("_")),
    ...["kitchen_sink", "weather"].map((name) => `test/fixtures/models/${name}.xml`),
    ...modelFilesUnder("test/fixtures/models/engine"),
    ...modelFilesUnder("test/fixtures/models/kv"),
    // The union fixtures but the clash, which is refused by design.
    ...modelFilesUnder("test/fixtures/models/union").filter((path) => !basename(path).includes("clash")),
  ];

  it("is the code generated from the XML original, but for the header line naming the model file", () => {
    const zplTree = join(SCRATCH, "generate-zpl");
    const zplModels = generating.map((path) => {
      const target = join(zplTree, path.replace(/\.xml$/, ".zpl"));
      convertTo(path, target);
      return target;
    });
    // Fragments (models/sasl/_*.xml) are included by their file names, .xml as written: they go beside the
    // converted models as they are, and both trees may include from anywhere within themselves.
    for (const path of MODELS.filter((candidate) => basename(candidate).startsWith("_"))) {
      mkdirSync(dirname(join(zplTree, path)), { recursive: true });
      copyFileSync(path, join(zplTree, path));
    }
    const fromXml = generate(generating, { out: join(SCRATCH, "out-xml"), runtime: { directory: "runtime" }, includeRoot: "." });
    const fromZpl = generate(zplModels, { out: join(SCRATCH, "out-zpl"), runtime: { directory: "runtime" }, includeRoot: zplTree });
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

describe("a broken .zpl model", () => {
  function errorsOf(path: string): string[] {
    return loadModel(path).diagnostics.map(formatDiagnostic);
  }

  function scratch(name: string, text: string): string {
    const path = join(SCRATCH, "broken", name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  it("gets the checks of its XML form, each at the .zpl line and column", () => {
    const path = join(SCRATCH, "broken-fixture", "broken.zpl");
    convertTo("test/fixtures/models/broken.xml", path);
    const at = (position: string, rest: string): string => `${path}:${position}: ${rest}`;
    expect(errorsOf(path)).toEqual([
      at("2:5", `error: signature="16" on <class> must be an integer from 0 to 15`),
      at("4:5", "warning: unknown attribute colour on <class> is ignored"),
      at("12:15", `error: file ${join(SCRATCH, "broken-fixture", "missing-part.xml")} does not exist`),
      at("19:13", `error: number field width has size "3"; it must be 1, 2, 4 or 8`),
      at("20:17", "error: octets field key needs a size"),
      at("24:13", "error: field tags is hash; only number and string fields can have a constant value"),
      at("30:13", `error: define LABEL = "v1" used by field label is not an integer`),
      at("34:13", "error: constant 256 of field big does not fit in 1 octet"),
      at("37:9", "error: message SECOND has id 1, already used by message FIRST"),
      at("38:17", "error: field width is string here but number in message FIRST; a field name has one type"),
      at("40:17", "error: msg field body must be the last field of message SECOND"),
      at("44:17", "error: message SECOND has two fields named after"),
      at("48:9", `error: id="300" on <message> must be an integer from 1 to 255`),
      at("51:9", `error: id="0" on <message> must be an integer from 1 to 255`),
      at("53:15", "error: message first is defined twice (as FIRST)"),
      at("60:17", "error: number field who_age inside a composite type needs a size (1, 2, 4 or 8)"),
      at("63:5", "error: <states> is not part of a codec model"),
    ]);
    // the converted text puts each of those where the positions say
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines[15].slice(12)).toBe("type = integer");
    expect(lines[19].slice(16)).toBe("key");
    expect(lines[52].slice(14)).toBe("first");
  });

  it("reports what only ZPL can get wrong: an element that cannot be one, an attribute given twice, text with children", () => {
    const path = scratch("mapping.zpl", [
      "class = bad",
      "    script = zproto_codec_c",
      "    message = ONE",
      "        feild = x",
      "            type = string",
      "        field = y",
      "            type = string",
      "            type = number",
      '        doc = "a line"',
      "            nested = 1",
      "    message = TWO",
      "        name = TWO",
      "        + = more",
      "",
    ].join("\n"));
    expect(errorsOf(path)).toEqual([
      `${path}:4:9: error: <feild> is not allowed in <message>; only <field>`,
      `${path}:8:13: error: type of field is given twice (first at line 7)`,
      `${path}:10:13: error: doc is a line of documentation and has no children but +`,
      `${path}:12:9: error: name of message is given twice (first at line 11)`,
    ]);
  });

  it("reads nodes named like what every JavaScript object has as elements and attributes like any other", () => {
    const path = scratch("proto.zpl", "class = p\n    script = zproto_codec_c\n    __proto__ = x\n    message = A\n        __proto__\n            constructor = 1\n");
    expect(errorsOf(path)).toEqual([
      `${path}:3:5: warning: unknown attribute __proto__ on <class> is ignored`,
      `${path}:5:9: error: <__proto__> is not allowed in <message>; only <field>`,
    ]);
    expect(convertModel(path, "xml").diagnostics.map(formatDiagnostic)).toEqual([
      `${path}:3:5: error: __proto__ cannot be an element or attribute name in an XML model (the XML reader refuses it)`,
      `${path}:5:9: error: __proto__ cannot be an element or attribute name in an XML model (the XML reader refuses it)`,
      `${path}:6:13: error: constructor cannot be an element or attribute name in an XML model (the XML reader refuses it)`,
    ]);
  });

  it("reports ZPL syntax errors at their line and column, and refuses what is not a model without quoting it", () => {
    expect(errorsOf(scratch("indent.zpl", "class = x\n    script = zproto_codec_c\n      message = A\n"))).toEqual([
      `${join(SCRATCH, "broken", "indent.zpl")}:3:7: error: indentation must be a multiple of 4 spaces, found 6`,
    ]);
    expect(errorsOf(scratch("roots.zpl", "class = a\n    script = zproto_codec_c\nclass = b\n"))).toEqual([
      `${join(SCRATCH, "broken", "roots.zpl")}:3:1: error: a model file has exactly one root element`,
    ]);
    expect(errorsOf(scratch("empty.zpl", "# nothing but a comment\n\n"))).toEqual([
      `${join(SCRATCH, "broken", "empty.zpl")}:1:1: error: model file ${join(SCRATCH, "broken", "empty.zpl")} is empty`,
    ]);
    const config = scratch("config.zpl", "server\n    password = s3cret\n    timeout 5\n");
    const errors = errorsOf(config);
    expect(errors).toEqual([`${config}:1:1: error: ${config} is not a ZPL model: it does not begin with an element of the model language`]);
    expect(errors.join("")).not.toMatch(/s3cret|timeout/);
  });

  it("passes ZPL warnings on at their position, and a machine model's errors point into the .zpl file", () => {
    const directory = join(SCRATCH, "broken-machine");
    convertTo("models/hello/hello_msg.xml", join(directory, "hello_msg.zpl"));
    const path = join(directory, "server.zpl");
    writeFileSync(path, [
      "class = server",
      "    script\t= zproto_server_c",
      "    protocol_class = hello_msg",
      "    state = start",
      "        event = HELLO",
      "            next = nowhere",
      "            action = send",
      "                message = HULLO",
      "",
    ].join("\n"));
    expect(errorsOf(path)).toEqual([
      `${path}:2:11: warning: tab between a name, '=' and its value (zconfig reads it; spaces are usual)`,
      `${path}:3:5: warning: no state of server handles message PING (role="client": the client sends it); the server drops it`,
      `${path}:6:13: error: next state nowhere does not exist`,
      `${path}:8:17: error: the protocol has no message HULLO`,
    ]);
  });
});

describe("the zproto command on .zpl models", () => {
  const directory = join(SCRATCH, "cli", "hello");
  const HELLO = ["hello_msg", "hello_server", "hello_client"];
  for (const name of HELLO) convertTo(`models/hello/${name}.xml`, join(directory, `${name}.zpl`));
  const zpl = (name: string): string => join(directory, `${name}.zpl`);
  /** What a command prints for the XML original and for the ZPL form, the model file's name made alike. */
  const both = (name: string, ...args: string[]): [string, string] => {
    const fromXml = zproto(args[0], `models/hello/${name}.xml`, ...args.slice(1));
    const fromZpl = zproto(args[0], zpl(name), ...args.slice(1));
    expect([fromXml.status, fromZpl.status, fromZpl.stderr]).toEqual([0, 0, ""]);
    return [fromXml.stdout.replaceAll(`models/hello/${name}.xml`, "MODEL"), fromZpl.stdout.replaceAll(zpl(name), "MODEL")];
  };

  it("check, grammar and diagram answer as for the XML original", () => {
    expect(zproto("check", ...HELLO.map(zpl)).stdout).toBe(
      [`${zpl("hello_msg")}: ok (5 messages)`, `${zpl("hello_server")}: ok (server machine, 3 states)`, `${zpl("hello_client")}: ok (client machine, 4 states)`, ""].join("\n"));
    const [grammarXml, grammarZpl] = both("hello_msg", "grammar");
    expect(grammarZpl).toBe(grammarXml);
    const [dotXml, dotZpl] = both("hello_server", "diagram", "--format", "dot");
    expect(dotZpl).toBe(dotXml);
  });

  it("skeleton writes the same implementation file", () => {
    const [xml, zplText] = both("hello_client", "skeleton", "--out", join(directory, "client.ts"), "--engine", join(directory, "hello_client.ts"), "--stdout");
    expect(zplText).toBe(xml);
  });

  it("print decodes frames into the same ZPL forms", () => {
    const frames = '{"frames": ["aaa7010441646121"]}\n';
    const run = (model: string): string => spawnSync("node", [ZPROTO, "print", model], { input: frames, encoding: "utf8" }).stdout;
    expect(run(zpl("hello_msg"))).toBe(run("models/hello/hello_msg.xml"));
    expect(run(zpl("hello_msg"))).toContain("name = \"Ada!\"");
  });

  it("convert writes to stdout by default, to --out with a line saying so, and --to picks the syntax", () => {
    const toZpl = zproto("convert", "models/hello/hello_msg.xml");
    expect([toZpl.status, toZpl.stderr]).toEqual([0, ""]);
    expect(toZpl.stdout).toBe(readFileSync(zpl("hello_msg"), "utf8"));
    const out = join(SCRATCH, "cli", "new", "dir", "hello_msg.xml");
    const toXml = zproto("convert", zpl("hello_msg"), "--out", out);
    expect([toXml.status, toXml.stdout]).toEqual([0, `${zpl("hello_msg")} -> ${out}\n`]);
    expect(readFileSync(out, "utf8")).toBe(readFileSync("models/hello/hello_msg.xml", "utf8").replace(
      /<message name = "(PING|PONG)" id = "(\d)" role = "(\w+)">\n {4}(.*)\n<\/message>/g, '<message name = "$1" id = "$2" role = "$3">$4</message>'));
    expect(zproto("convert", "models/hello/hello_msg.xml", "--to", "xml").stdout).toBe(readFileSync(out, "utf8"));
    const bad = zproto("convert", "models/hello/hello_msg.xml", "--to", "json");
    expect([bad.status, bad.stderr.split("\n")[0]]).toEqual([2, "zproto convert: --to must be xml or zpl"]);
  });

  it("convert says that comments are not carried over, and fails with a position on what the target cannot hold", () => {
    const commented = join(SCRATCH, "cli", "commented.xml");
    writeFileSync(commented, '<!-- one -->\n<class name = "c" script = "zproto_codec_c">\n    <!-- two -->\n    <message name = "A" />\n</class>\n');
    const run = zproto("convert", commented);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(`zproto: note: the 2 comments of ${commented} are not model content and not carried over\n`);
    expect(run.stdout).toBe("class = c\n    script = zproto_codec_c\n\n    message = A\n");
    const multiline = join(SCRATCH, "cli", "multiline.xml");
    writeFileSync(multiline, '<class name = "c" script = "zproto_codec_c">\n    <message name = "A" role = "one\ntwo" />\n</class>\n');
    const failed = zproto("convert", multiline);
    expect([failed.status, failed.stdout]).toEqual([1, ""]);
    expect(failed.stderr).toBe(`${multiline}:2:25: error: the value of role cannot be written in ZPL: the value contains a line break\n`);
    const unnamed = join(SCRATCH, "cli", "names.zpl");
    writeFileSync(unnamed, "class = c\n    message = A\n        $weird = 1\n");
    expect(zproto("convert", unnamed).stderr).toBe(`${unnamed}:3:9: error: $weird is not an XML name, so it cannot be written in XML\n`);
  });
});

describe("models of both syntaxes together", () => {
  const directory = join(SCRATCH, "mixed");

  it("includes a file of either syntax from either, nested", () => {
    mkdirSync(join(directory, "parts"), { recursive: true });
    writeFileSync(join(directory, "codec.zpl"), "class = mixed\n    script = zproto_codec_c\n    include = parts/first.xml\n    message = THIRD\n");
    writeFileSync(join(directory, "parts", "first.xml"), '<fragment>\n<message name = "FIRST" />\n<include filename = "second.zpl" />\n</fragment>\n');
    writeFileSync(join(directory, "parts", "second.zpl"), "message = SECOND\n    field = text\n        type = strin\n");
    const result = loadModel(join(directory, "codec.zpl"));
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([`${join(directory, "parts", "second.zpl")}:3:9: error: field text has unknown type "strin"`]);
    writeFileSync(join(directory, "parts", "second.zpl"), "message = SECOND\n    field = text\n        type = string\n");
    const fixed = loadModel(join(directory, "codec.zpl"));
    expect(fixed.model?.kind === "codec" && fixed.model.messages.map((message) => message.name)).toEqual(["FIRST", "SECOND", "THIRD"]);
  });

  it("finds a machine's protocol as x.xml or x.zpl, and names both when both are there", () => {
    const zplOnly = join(directory, "lookup");
    convertTo("models/hello/hello_msg.xml", join(zplOnly, "hello_msg.zpl"));
    writeFileSync(join(zplOnly, "hello_server.xml"), readFileSync("models/hello/hello_server.xml"));
    const found = loadModel(join(zplOnly, "hello_server.xml"));
    expect(found.diagnostics).toEqual([]);
    expect(found.model?.kind === "server" && found.model.protocolImport).toBe("./hello_msg.js");
    writeFileSync(join(zplOnly, "hello_msg.xml"), readFileSync("models/hello/hello_msg.xml"));
    expect(loadModel(join(zplOnly, "hello_server.xml")).diagnostics.map(formatDiagnostic)).toEqual([
      `${join(zplOnly, "hello_server.xml")}:5:5: error: protocol_class hello_msg: both ${join(zplOnly, "hello_msg.xml")} and ${join(zplOnly, "hello_msg.zpl")} exist; keep one (a model is written in one syntax)`,
    ]);
    rmSync(join(zplOnly, "hello_msg.zpl"));
    rmSync(join(zplOnly, "hello_msg.xml"));
    expect(loadModel(join(zplOnly, "hello_server.xml")).diagnostics.map(formatDiagnostic)).toEqual([
      `${join(zplOnly, "hello_server.xml")}:5:5: error: protocol_class hello_msg: there is no hello_msg.xml or hello_msg.zpl in ${zplOnly}`,
    ]);
  });

  it("generate over a directory takes .zpl models too, and refuses x.xml beside x.zpl, naming both", () => {
    const tree = join(directory, "tree");
    convertTo("models/hello/hello_msg.xml", join(tree, "hello", "hello_msg.zpl"));
    writeFileSync(join(tree, "hello", "hello_server.xml"), readFileSync("models/hello/hello_server.xml"));
    const ok = generate([tree], { out: join(directory, "out") });
    expect(ok.written.map((file) => file.output).sort()).toEqual([join(directory, "out", "hello", "hello_msg.ts"), join(directory, "out", "hello", "hello_server.ts")]);
    writeFileSync(join(tree, "hello", "hello_msg.xml"), readFileSync("models/hello/hello_msg.xml"));
    const run = zproto("generate", tree, "--out", join(directory, "out2"));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${join(tree, "hello", "hello_msg.zpl")}:1:1: error: ${join(tree, "hello", "hello_msg.xml")} and ${join(tree, "hello", "hello_msg.zpl")} would both generate ${join(directory, "out2", "hello", "hello_msg.ts")}; keep one of them\n`);
  });
});
