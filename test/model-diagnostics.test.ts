/**
 * A broken model gets every error at once, each with file:line:column and a sentence; nothing is written
 * and `zproto` exits 1.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../generator/diagnostics.js";
import { generate } from "../generator/generate.js";
import type { CodecIR } from "../generator/ir.js";
import { loadModel } from "../generator/model.js";

const BROKEN = "test/fixtures/models/broken.xml";
const ZPROTO = "dist/bin/zproto.js";

function errorsOf(path: string): string[] {
  return loadModel(path).diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
}

describe("model diagnostics", () => {
  it("reports every problem of a broken model with file:line:column", () => {
    // Not reported: the unknown type "integer" and define UNKNOWN_DEFINE, which the missing include may define.
    expect(errorsOf(BROKEN)).toEqual([
      `${BROKEN}:1:24: error: signature="16" on <class> must be an integer from 0 to 15`,
      `${BROKEN}:4:14: error: file test/fixtures/models/missing-part.xml does not exist`,
      `${BROKEN}:7:47: error: number field width has size "3"; it must be 1, 2, 4 or 8`,
      `${BROKEN}:8:16: error: octets field key needs a size`,
      `${BROKEN}:9:44: error: field tags is hash; only number and string fields can have a constant value`,
      `${BROKEN}:11:47: error: define LABEL = "v1" used by field label is not an integer`,
      `${BROKEN}:12:56: error: constant 256 of field big does not fit in 1 octet`,
      `${BROKEN}:14:30: error: message SECOND has id 1, already used by message FIRST`,
      `${BROKEN}:15:16: error: field width is string here but number in message FIRST; a field name has one type`,
      `${BROKEN}:16:16: error: msg field body must be the last field of message SECOND`,
      `${BROKEN}:18:16: error: message SECOND has two fields named after`,
      `${BROKEN}:20:29: error: id="300" on <message> must be an integer from 1 to 255`,
      `${BROKEN}:21:30: error: id="0" on <message> must be an integer from 1 to 255`,
      `${BROKEN}:22:14: error: message first is defined twice (as FIRST)`,
      `${BROKEN}:27:16: error: number field who_age inside a composite type needs a size (1, 2, 4 or 8)`,
      `${BROKEN}:29:5: error: <states> is not part of a codec model`,
    ]);
  });

  it("warns about unknown attributes without failing on them", () => {
    const warnings = loadModel(BROKEN).diagnostics.filter((d) => d.severity === "warning").map(formatDiagnostic);
    expect(warnings).toEqual([`${BROKEN}:1:67: warning: unknown attribute colour on <class> is ignored`]);
  });

  it("reports include cycles where the cycle closes", () => {
    const result = loadModel("test/fixtures/models/cycle-a.xml");
    expect(result.model).toBeNull();
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      "test/fixtures/models/cycle-b.xml:2:14: error: include cycle: test/fixtures/models/cycle-a.xml -> " +
        "test/fixtures/models/cycle-b.xml -> test/fixtures/models/cycle-a.xml",
    ]);
  });

  describe("with scratch model files", () => {
    let dir = "";
    // A test may write several models: every one's directory goes.
    const made: string[] = [];
    afterEach(() => {
      for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
    });
    const model = (body: string, attributes = 'script="zproto_codec_c"'): string => {
      dir = mkdtempSync(join(tmpdir(), "zproto-model-"));
      made.push(dir);
      const path = join(dir, "m.xml");
      writeFileSync(path, `<class name="m" ${attributes}>\n${body}\n</class>\n`);
      return path;
    };
    const messages = (path: string): string[] => loadModel(path).diagnostics.filter((d) => d.severity === "error").map((d) => `${d.line}:${d.column} ${d.message}`);

    it("reports names the model does not define, unless an include that could not be read may define them", () => {
      const body = '<message name="A"><field name="a" type="person"/><field name="b" type="number" size="1" value="VERSION"/></message>';
      expect(messages(model(body))).toEqual([
        '2:35 field a has unknown type "person"',
        '2:89 constant "VERSION" of field b is neither an integer nor a define of this model',
      ]);
      const incomplete = model(`<include filename="types.xml"/>\n${body}`);
      expect(messages(incomplete)).toEqual([`2:10 file ${join(dir, "types.xml")} does not exist`]);
      expect(messages(model('<include filename="messages.xml"/>'))).toEqual([`2:10 file ${join(dir, "messages.xml")} does not exist`]);
      expect(messages(model(""))).toEqual(["1:1 a codec model needs at least one <message>"]);
    });

    it("catches implicit ids that collide with explicit ones", () => {
      const path = model('<message name="A"/>\n<message name="B" id="1"/>');
      expect(messages(path)).toEqual(['3:19 message B has id 1, already used by message A']);
    });

    it("assigns implicit ids by position among all messages", () => {
      const path = model('<message name="A" id="7"/>\n<message name="B"/>\n<message name="C"/>');
      expect((loadModel(path).model as CodecIR).messages.map((m) => m.id)).toEqual([7, 2, 3]);
    });

    it("refuses a nested composite type and a second msg field", () => {
      const path = model([
        '<type name="inner"><field name="x" type="string"/></type>',
        '<type name="outer"><field name="y" type="inner"/></type>',
        '<message name="A"><field name="o" type="outer"/><field name="m" type="msg"/><field name="n" type="msg"/></message>',
      ].join("\n"));
      expect(messages(path)).toEqual([
        "3:36 type outer uses composite type inner; composite types cannot nest",
        "4:56 msg field m must be the last field of message A",
      ]);
    });

    it("refuses a field type that cannot be one frame in frame-per-field framing", () => {
      const path = model('<message name="A"><field name="h" type="hash"/></message>', 'script="zproto_codec_c" framing="frames"');
      expect(messages(path)).toEqual(['2:35 field h: type hash cannot travel as one frame in framing="frames"']);
    });

    it("needs exactly one message without a command frame", () => {
      const path = model('<message name="A"/><message name="B"/>', 'script="zproto_codec_c" framing="frames" command="none"');
      expect(messages(path)).toEqual(['1:58 a model without a command frame (command="none") has exactly one message, not 2']);
    });

    it("says when XML is not well-formed", () => {
      const path = model('<message name="A">');
      expect(messages(path)[0]).toMatch(/^\d+:\d+ XML is not well-formed: /);
    });

    it("gives an empty model file a line and a column", () => {
      const path = model("");
      writeFileSync(path, "");
      expect(loadModel(path).diagnostics.map(formatDiagnostic)).toEqual([`${path}:1:1: error: model file ${path} is empty`]);
    });

    it("checks a message's fields after a bad id or a missing name, and a nameless field's type", () => {
      const path = model([
        '<message name="A" id="0"><feild name="x" type="string"/></message>',
        '<message><field name="y" type="nmber"/></message>',
        '<message name="C" role="clinet"><field type="strng"/></message>',
      ].join("\n"));
      expect(messages(path)).toEqual([
        '2:19 id="0" on <message> must be an integer from 1 to 255',
        "2:26 <feild> is not allowed in <message>; only <field>",
        "3:1 <message> needs a name attribute",
        '3:26 field y has unknown type "nmber"',
        '4:19 role="clinet" on message C must be client or server (the peer that sends it)',
        "4:33 <field> needs a name attribute",
        '4:40 field unnamed has unknown type "strng"',
      ]);
    });

    it("refuses names without a letter or digit, of which no identifier can be made, and still checks the rest", () => {
      const path = model('<message name="#"><field name="x" type="strng"/></message>\n<message name="B"/>');
      writeFileSync(path, readFileSync(path, "utf8").replace('name="m"', 'name="..."'));
      expect(messages(path)).toEqual([
        '1:8 name "..." of <class> has no letter or digit, so no identifier can be made of it',
        '2:10 name "#" of <message> has no letter or digit, so no identifier can be made of it',
        '2:35 field x has unknown type "strng"',
      ]);
    });

    it("knows only the model language's own scripts and types, not the names every JavaScript object has", () => {
      expect(messages(model('<message name="A"/>', 'script="constructor"'))).toEqual([
        '1:17 script "constructor" is not one zproto-ts compiles (zproto_codec_c, zproto_server_c, zproto_client_c)',
      ]);
      expect(messages(model('<message name="A"/>', 'script="toString"'))).toEqual([
        '1:17 script "toString" is not one zproto-ts compiles (zproto_codec_c, zproto_server_c, zproto_client_c)',
      ]);
    });

    it("reports well-formed XML the parser still refuses, without throwing", () => {
      const nested = model(`${"<message>".repeat(200)}${"</message>".repeat(200)}`);
      expect(messages(nested)).toEqual(["1:1 XML cannot be read as a model: Maximum nested tags exceeded"]);
      const external = model('<message name="A">&e;</message>');
      writeFileSync(external, `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n${readFileSync(external, "utf8")}`);
      expect(messages(external)).toEqual(["1:1 XML cannot be read as a model: External entities are not supported"]);
      expect(messages(model('<message name="A"><__proto__/></message>'))[0]).toMatch(/^1:1 XML cannot be read as a model: .*"__proto__"/);
    });

    it("keeps names like toString as written", () => {
      const path = model('<message name="A" toString="x"><valueOf/></message>');
      expect(loadModel(path).diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([
        "2:19 unknown attribute toString on <message> is ignored",
        "2:32 <valueOf> is not allowed in <message>; only <field>",
      ]);
    });

    it("needs a script unless the kind is given", () => {
      const path = model('<message name="A"/>', "");
      expect(messages(path)).toEqual([
        "1:1 <class> has no script attribute: say zproto_codec_c, zproto_server_c or zproto_client_c (or pass --kind)",
      ]);
      expect((loadModel(path, { kind: "codec" }).model as CodecIR).messages).toHaveLength(1);
    });

    it("writes nothing when any model has errors", () => {
      const path = model('<message name="A"><field name="x" type="nope"/></message>');
      const out = join(dir, "out");
      const result = generate(["models/zproto_example/zproto_example.xml", path], { out });
      expect(result.ok).toBe(false);
      expect(result.written).toEqual([]);
      expect(readdirSync(dir)).toEqual(["m.xml"]);
    });
  });
});

describe("zproto CLI on broken models", () => {
  it("check prints every error to stderr and exits 1", () => {
    const run = spawnSync("node", [ZPROTO, "check", BROKEN], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n").filter((line) => line.includes(": error: "))).toHaveLength(errorsOf(BROKEN).length);
    expect(run.stdout).toBe("");
  });

  it("generate exits 1 and writes nothing", () => {
    const out = mkdtempSync(join(tmpdir(), "zproto-out-"));
    try {
      const run = spawnSync("node", [ZPROTO, "generate", BROKEN, "--out", out], { encoding: "utf8" });
      expect(run.status).toBe(1);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("check passes a good model", () => {
    expect(execFileSync("node", [ZPROTO, "check", "models/filemq/fmq_msg.xml"], { encoding: "utf8" })).toBe(
      "models/filemq/fmq_msg.xml: ok (13 messages)\n",
    );
  });
});
