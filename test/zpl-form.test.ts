/**
 * The ZPL form of a message (`spec/zpl.md` §4): the spec's example, round trips of every golden vector
 * through text, the value encodings at their edges, every import error, redaction, and `zproto print` /
 * `zproto encode --zpl` on the command line.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import * as fmqMsg from "../generated/filemq/fmq_msg.js";
import * as example from "../generated/zproto_example/zproto_example.js";
import { loadCodecModel } from "../generator/model.js";
import { codecSchema } from "../generator/schema.js";
import { decodeDynamic, dynamicCodec, encodeDynamic } from "../runtime/wire/interpret.js";
import {
  ZplFormError, fromZplForm, fromZplFormRouted, printZplForm, toZplForm, type ZplFormErrorKind,
} from "../runtime/wire/zpl-form.js";
import { ZplError, ZplNode, ZplWriteError, parseZpl, writeZpl } from "../runtime/zpl/index.js";
import { VECTOR_MODELS, framesOf, isPositive, readVectors, type VectorModel } from "./support/vectors.js";

const EXAMPLE_MODEL = "models/zproto_example/zproto_example.xml";
const hex = (frames: readonly Uint8Array[]): string[] => frames.map((frame) => Buffer.from(frame).toString("hex"));
const bytes = (text: string): Buffer => Buffer.from(text, "hex");

/** The BINARY message of the spec's example, and its form. */
const SPEC_BINARY = example.binary({
  sequence: 123,
  flags: Buffer.from("b38c", "latin1"),
  publicKey: bytes("010203"),
  identifier: bytes("3a60e6850a1e4cc15f3bfd4b42bc6b3e"),
  address: Buffer.from("ADDR", "latin1"),
  content: [Buffer.from("part1", "latin1"), Buffer.from("p3", "latin1")],
});
const SPEC_BINARY_TEXT = `zproto_example
    message = "ZPROTO_EXAMPLE_BINARY"
    routing_id = "00a1b2c3d4"
    content
        sequence = "123"
        flags = "62333863"
        public_key = "010203"
        identifier = "3A60E6850A1E4CC15F3BFD4B42BC6B3E"
        address = "41444452"
        content = "057061727431027033"
`;

/** A LOG message with every field set, and its form: the constant `version` shows the model's value. */
const LOG = example.log({ sequence: 7, level: 2, event: 3, node: 45536, peer: 65535, time: 1427261426n, host: "localhost", data: "started" });
const LOG_TEXT = `zproto_example
    message = "ZPROTO_EXAMPLE_LOG"
    content
        sequence = "7"
        version = "3"
        level = "2"
        event = "3"
        node = "45536"
        peer = "65535"
        time = "1427261426"
        host = "localhost"
        data = "started"
`;

/** What a failed import or export threw, as far as a user sees it. */
function failure(run: () => unknown): { kind: ZplFormErrorKind; messageName: string | null; key: string | null; message: string } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ZplFormError)) throw error;
    return { kind: error.kind, messageName: error.messageName, key: error.key, message: error.message };
  }
  throw new Error("expected a ZplFormError, nothing was thrown");
}

/** LOG_TEXT with one line replaced (or removed, when `to` is null). */
function logWith(from: string, to: string | null): string {
  const lines = LOG_TEXT.split("\n");
  const at = lines.findIndex((line) => line.trimStart().startsWith(from));
  if (at < 0) throw new Error(`no line ${from}`);
  if (to === null) lines.splice(at, 1);
  else lines[at] = " ".repeat(lines[at].length - lines[at].trimStart().length) + to;
  return lines.join("\n");
}

describe("the ZPL form of zproto_example (spec/zpl.md §4)", () => {
  it("prints the spec's BINARY example exactly and reads it back", () => {
    expect(example.printZpl(SPEC_BINARY, { routingId: bytes("00A1B2C3D4") })).toBe(SPEC_BINARY_TEXT);
    expect(example.fromZpl(SPEC_BINARY_TEXT)).toEqual(SPEC_BINARY);
    expect(example.fromZplRouted(SPEC_BINARY_TEXT)).toEqual({ routingId: bytes("00a1b2c3d4"), message: SPEC_BINARY });
  });

  it("gives a tree: a document with one node named after the class", () => {
    const tree = example.toZpl(SPEC_BINARY);
    expect(tree.name).toBe("");
    expect(tree.value).toBe(null);
    expect(tree.children.map((node) => node.name)).toEqual(["zproto_example"]);
    expect(tree.locate("zproto_example/content/identifier")?.value).toBe("3A60E6850A1E4CC15F3BFD4B42BC6B3E");
    expect(tree.get("zproto_example/routing_id")).toBe(undefined);
    expect(example.fromZpl(tree)).toEqual(SPEC_BINARY);
    // The class node alone is a form too (one message of a document of several).
    expect(example.fromZpl(tree.children[0])).toEqual(SPEC_BINARY);
  });

  it("prints strings as numbered children and a hash as one child per entry", () => {
    const structures = example.structures({
      sequence: 1, aliases: ["First alias", "Second alias"], headers: new Map([["endpoint", "tcp://localhost:5665"], ["empty", ""]]),
    });
    const text = `zproto_example
    message = "ZPROTO_EXAMPLE_STRUCTURES"
    content
        sequence = "1"
        aliases
            0 = "First alias"
            1 = "Second alias"
        headers
            endpoint = "tcp://localhost:5665"
            empty
`;
    expect(example.printZpl(structures)).toBe(text);
    expect(example.fromZpl(text)).toEqual(structures);
    // Items are ordered by their numeric names, not by their order in the file.
    const shuffled = text.replace('            0 = "First alias"\n            1 = "Second alias"', '            1 = "Second alias"\n            0 = "First alias"');
    expect(example.fromZpl(shuffled)).toEqual(structures);
    const many = example.structures({ aliases: Array.from({ length: 12 }, (_, i) => `alias ${i}`) });
    expect(example.fromZpl(example.printZpl(many))).toEqual(many);
  });

  it("prints constants as the model's resolved value and every string, even empty", () => {
    expect(example.printZpl(LOG)).toBe(LOG_TEXT);
    const empty = example.printZpl(example.log());
    expect(empty).toBe(`zproto_example
    message = "ZPROTO_EXAMPLE_LOG"
    content
        sequence = "0"
        version = "3"
        level = "0"
        event = "0"
        node = "0"
        peer = "0"
        time = "0"
        host
`);
    // An empty longstr is unset on the wire, so the form leaves it out; import gives it back as "".
    expect(example.fromZpl(empty)).toEqual(example.log());
    // A constant may be left out on import; present, it is checked.
    expect(example.fromZpl(logWith("version", null))).toEqual(LOG);
  });

  it("reads any spelling of the message name and uuids in either case", () => {
    expect(example.fromZpl(logWith("message", 'message = "zproto_example_log"'))).toEqual(LOG);
    expect(example.fromZpl(logWith("message", 'message = "ZPROTO-EXAMPLE LOG"'))).toEqual(LOG);
    const lower = SPEC_BINARY_TEXT.replace("3A60E6850A1E4CC15F3BFD4B42BC6B3E", "3a60e6850a1e4cc15f3bfd4b42bc6b3e");
    expect(example.fromZpl(lower)).toEqual(SPEC_BINARY);
  });

  it("fills fields left out of content with their unset values", () => {
    const text = 'zproto_example\n    message = "ZPROTO_EXAMPLE_BINARY"\n    content\n        sequence = "5"\n';
    expect(example.fromZpl(text)).toEqual(example.binary({ sequence: 5 }));
    expect(example.encode(example.fromZpl(text))).toEqual(example.encode({ message: "BINARY", sequence: 5 }));
  });

  it("carries numbers in the full unsigned 64-bit range", () => {
    const max = example.log({ time: 2n ** 64n - 1n, sequence: 65535, level: 255, event: 255 });
    const text = example.printZpl(max);
    expect(text).toContain('        time = "18446744073709551615"\n');
    expect(text).toContain('        sequence = "65535"\n        version = "3"\n        level = "255"\n        event = "255"\n');
    const back = example.fromZpl(text);
    expect(back).toEqual(max);
    expect(back.message === "LOG" && back.time).toBe(18446744073709551615n);
    expect(failure(() => example.fromZpl(logWith("time", 'time = "18446744073709551616"')))).toEqual({
      kind: "OutOfRange", messageName: "LOG", key: "content/time",
      message: "zproto_example: LOG: content/time: 18446744073709551616n is outside 0..2^64-1",
    });
  });

  it("writes msg frames with a 1-octet length below 255 octets and FF plus 4 octets from 255 on", () => {
    const frame = (length: number): Buffer => Buffer.alloc(length, 0xab);
    const message = example.binary({ content: [frame(0), frame(254), frame(255), frame(300)] });
    const value = example.toZpl(message).get("zproto_example/content/content") ?? "";
    expect(value).toBe(["00", "fe" + "ab".repeat(254), "ff000000ff" + "ab".repeat(255), "ff0000012c" + "ab".repeat(300)].join(""));
    expect(example.fromZpl(example.printZpl(message))).toEqual(message);
    // An empty list of frames is an empty value; a long length prefix on a short frame still reads.
    expect(example.toZpl(example.binary({ content: [] })).get("zproto_example/content/content")).toBe("");
    const long = SPEC_BINARY_TEXT.replace('content = "057061727431027033"', 'content = "ff000000057061727431027033"');
    expect(example.fromZpl(long)).toEqual(SPEC_BINARY);
  });
});

describe("round trips of every golden vector: frames -> form -> text -> form -> frames", () => {
  /** Vectors with hash keys that are not ZPL names (`"clé ✓"`, `"key:🎉…"`): their export must fail. */
  const UNPRINTABLE: Record<VectorModel, string[]> = {
    zproto_example: ["STRUCTURES max", "STRUCTURES typical"],
    fmq_msg: ["ICANHAZ max", "ICANHAZ typical", "CHEEZBURGER max", "CHEEZBURGER typical", "ICANHAZ max255", "CHEEZBURGER max255", "ICANHAZ dict-entry-255"],
    fmq_msg_v2: ["ICANHAZ max", "ICANHAZ typical", "CHEEZBURGER max", "CHEEZBURGER typical"],
    mdp_client_msg: [],
    mdp_worker_msg: [],
  };

  describe.each(Object.entries(VECTOR_MODELS) as [VectorModel, string][])("%s", (model, path) => {
    const schema = codecSchema(loadCodecModel(path));
    const codec = dynamicCodec(schema);
    const positives = readVectors(model).filter(isPositive);

    it("prints and reads back every positive vector, or refuses it for its hash keys", () => {
      const refused: string[] = [];
      for (const record of positives) {
        const name = `${record.message} ${record.case}`;
        const decoded = decodeDynamic(schema, framesOf(record));
        let text: string;
        try {
          text = writeZpl(toZplForm(schema, decoded));
        } catch (error) {
          expect(error, name).toBeInstanceOf(ZplFormError);
          expect((error as ZplFormError).kind, name).toBe("BadName");
          refused.push(name);
          continue;
        }
        const back = fromZplForm(codec, parseZpl(text));
        expect(back, name).toEqual(decoded);
        expect(hex(encodeDynamic(schema, back)), name).toEqual(record.frames);
      }
      expect(refused).toEqual(UNPRINTABLE[model]);
    });
  });

  it("gives the same text and messages through the generated codec as through the interpreter", () => {
    const schema = example.schema;
    for (const record of readVectors("zproto_example").filter(isPositive)) {
      if (UNPRINTABLE.zproto_example.includes(`${record.message} ${record.case}`)) continue;
      const decoded = example.decode(framesOf(record));
      const text = example.printZpl(decoded);
      expect(text).toBe(printZplForm(schema, decodeDynamic(schema, framesOf(record))));
      expect(example.fromZpl(text)).toEqual(decoded);
    }
  });
});

describe("ZPL form import errors name the key and never return a partial message", () => {
  const long = "x".repeat(256);
  const cases: [string, string, ZplFormErrorKind, string | null, string][] = [
    ["no message key", logWith("message", null), "MissingMessage", null, 'zproto_example: the form has no "message" key'],
    ["an unknown message", logWith("message", 'message = "ZPROTO_EXAMPLE_NOPE"'), "UnknownMessage", "message",
      'zproto_example: message: unknown message "ZPROTO_EXAMPLE_NOPE"; zproto_example has ZPROTO_EXAMPLE_LOG, ZPROTO_EXAMPLE_STRUCTURES, ZPROTO_EXAMPLE_BINARY, ZPROTO_EXAMPLE_TYPES'],
    ["a message of another model", logWith("message", 'message = "LOG"'), "UnknownMessage", "message",
      'zproto_example: message: unknown message "LOG"; zproto_example has ZPROTO_EXAMPLE_LOG, ZPROTO_EXAMPLE_STRUCTURES, ZPROTO_EXAMPLE_BINARY, ZPROTO_EXAMPLE_TYPES'],
    ["no content", 'zproto_example\n    message = "ZPROTO_EXAMPLE_LOG"\n', "MissingContent", "content",
      'zproto_example: LOG: content: LOG has fields, so its form has "content"'],
    ["a non-numeric number", logWith("level", 'level = "2a"'), "BadNumber", "content/level",
      'zproto_example: LOG: content/level: expected an unsigned decimal number, found "2a"'],
    ["a negative number", logWith("time", 'time = "-1"'), "BadNumber", "content/time",
      'zproto_example: LOG: content/time: expected an unsigned decimal number, found "-1"'],
    ["an empty number", logWith("node", "node"), "BadNumber", "content/node",
      'zproto_example: LOG: content/node: expected an unsigned decimal number, found ""'],
    ["a number out of range", logWith("level", 'level = "256"'), "OutOfRange", "content/level",
      "zproto_example: LOG: content/level: 256 is outside 0..255"],
    ["a wrong constant", logWith("version", 'version = "4"'), "BadConstant", "content/version",
      'zproto_example: LOG: content/version: is the constant "3", found "4"'],
    ["a string over 255 octets", logWith("host", `host = "${long}"`), "BadValue", "content/host",
      "zproto_example: LOG: content/host: string is 256 octets; at most 255 fit"],
    ["an unknown field", logWith("host", 'hots = "localhost"'), "UnknownKey", "content/hots",
      "zproto_example: LOG: content/hots: LOG has no such field"],
    ["an unknown top-level key", logWith("message", 'message = "ZPROTO_EXAMPLE_LOG"\n    colour = "red"'), "UnknownKey", "colour",
      "zproto_example: LOG: colour: no such key in the form of a message"],
    ["a topic outside pubsub", logWith("message", 'message = "ZPROTO_EXAMPLE_LOG"\n    topic = "x"'), "UnknownKey", "topic",
      "zproto_example: LOG: topic: only messages of pubsub models have a topic"],
    ["a field given twice", logWith("level", 'level = "2"\n        level = "2"'), "DuplicateKey", "content/level",
      "zproto_example: LOG: content/level: occurs twice"],
    ["children under a number", logWith("level", 'level = "2"\n            deep = "1"'), "BadStructure", "content/level",
      "zproto_example: LOG: content/level: is one value and has no children"],
    ["a bad routing id", logWith("message", 'message = "ZPROTO_EXAMPLE_LOG"\n    routing_id = "00a"'), "BadHex", "routing_id",
      'zproto_example: LOG: routing_id: expected hex digits, two an octet, found "00a"'],
    ["bad hex", SPEC_BINARY_TEXT.replace('flags = "62333863"', 'flags = "6233386g"'), "BadHex", "content/flags",
      'zproto_example: BINARY: content/flags: expected hex digits, two an octet, found "6233386g"'],
    ["odd hex", SPEC_BINARY_TEXT.replace('public_key = "010203"', 'public_key = "01020"'), "BadHex", "content/public_key",
      'zproto_example: BINARY: content/public_key: expected hex digits, two an octet, found "01020"'],
    ["octets of the wrong width", SPEC_BINARY_TEXT.replace('flags = "62333863"', 'flags = "623338"'), "BadLength", "content/flags",
      "zproto_example: BINARY: content/flags: expected exactly 4 octets, got 3"],
    ["a uuid of the wrong width", SPEC_BINARY_TEXT.replace("3A60E6850A1E4CC15F3BFD4B42BC6B3E", "3A60E6850A1E4CC15F3BFD4B42BC6B"), "BadLength",
      "content/identifier", "zproto_example: BINARY: content/identifier: expected exactly 16 octets, got 15"],
    ["a uuid with dashes", SPEC_BINARY_TEXT.replace("3A60E6850A1E4CC15F3BFD4B42BC6B3E", "3A60E685-0A1E-4CC1-5F3B-FD4B42BC6B3E"), "BadHex",
      "content/identifier", 'zproto_example: BINARY: content/identifier: expected hex digits, two an octet, found "3A60E685-0A1E-4CC1-5F3B-FD4B42BC6B3E"'],
    ["msg frames cut short", SPEC_BINARY_TEXT.replace('content = "057061727431027033"', 'content = "0570617274310370"'), "BadFrames", "content/content",
      "zproto_example: BINARY: content/content: frame 1 says 3 octets, but only 1 remains"],
    ["a msg length prefix cut short", SPEC_BINARY_TEXT.replace('content = "057061727431027033"', 'content = "ff0000"'), "BadFrames", "content/content",
      "zproto_example: BINARY: content/content: frame 0 has a 4-octet length cut short"],
    ["list items not numbered 0 to n-1", 'zproto_example\n    message = "ZPROTO_EXAMPLE_STRUCTURES"\n    content\n        aliases\n            0 = "a"\n            2 = "b"\n',
      "BadStructure", "content/aliases/2", "zproto_example: STRUCTURES: content/aliases/2: the 2 items of a list are named 0 to 1"],
    ["list items with other names", 'zproto_example\n    message = "ZPROTO_EXAMPLE_STRUCTURES"\n    content\n        aliases\n            first = "a"\n',
      "BadStructure", "content/aliases/first", "zproto_example: STRUCTURES: content/aliases/first: the only item of a list is named 0"],
    ["a list item twice", 'zproto_example\n    message = "ZPROTO_EXAMPLE_STRUCTURES"\n    content\n        aliases\n            0 = "a"\n            0 = "b"\n',
      "DuplicateKey", "content/aliases/0", "zproto_example: STRUCTURES: content/aliases/0: occurs twice"],
    ["a hash with a value", 'zproto_example\n    message = "ZPROTO_EXAMPLE_STRUCTURES"\n    content\n        headers = "a=b"\n',
      "BadStructure", "content/headers", "zproto_example: STRUCTURES: content/headers: holds its items as children, not a value"],
    ["a hash key twice", 'zproto_example\n    message = "ZPROTO_EXAMPLE_STRUCTURES"\n    content\n        headers\n            a = "1"\n            a = "2"\n',
      "DuplicateKey", "content/headers/a", "zproto_example: STRUCTURES: content/headers/a: occurs twice"],
    ["another root", LOG_TEXT.replace("zproto_example\n", "fmq_msg\n"), "NotAMessage", null,
      'zproto_example: the form\'s root is "fmq_msg"; a zproto_example message\'s is "zproto_example" with no value'],
    ["two messages in one document", LOG_TEXT + LOG_TEXT, "NotAMessage", null,
      'zproto_example: the document has 2 top-level properties; the ZPL form of a message is one, named "zproto_example"'],
    ["an empty document", "", "NotAMessage", null,
      'zproto_example: the document has 0 top-level properties; the ZPL form of a message is one, named "zproto_example"'],
  ];

  it.each(cases)("%s", (_, text, kind, key, message) => {
    const messageName = /^zproto_example: ([A-Z]+): /.exec(message)?.[1] ?? null;
    expect(failure(() => example.fromZpl(text))).toEqual({ kind, messageName, key, message });
  });

  it("needs routing_id for a routed import", () => {
    expect(failure(() => example.fromZplRouted(LOG_TEXT))).toEqual({
      kind: "MissingRoutingId", messageName: "LOG", key: "routing_id", message: "zproto_example: LOG: routing_id: a routed message needs a routing_id",
    });
  });

  it("passes on ZPL syntax errors with their position", () => {
    let thrown: unknown;
    try {
      example.fromZpl('zproto_example\n  message = "ZPROTO_EXAMPLE_LOG"\n');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ZplError);
    expect(String(thrown)).toBe("2:3: indentation must be a multiple of 4 spaces, found 2");
  });
});

describe("ZPL form export errors", () => {
  it("refuses hash keys that are not ZPL names, naming the field", () => {
    const structures = example.structures({ headers: new Map([["ok", "1"], ["not a name", "2"]]) });
    expect(failure(() => example.toZpl(structures))).toEqual({
      kind: "BadName", messageName: "STRUCTURES", key: "content/headers",
      message: `zproto_example: STRUCTURES: content/headers: the key "not a name" is not a valid ZPL name (letters, digits and $-_@.&+, '/' only inside), so it cannot be a property`,
    });
  });

  it("refuses values the wire cannot carry, as the encoder does", () => {
    expect(failure(() => example.toZpl({ message: "LOG", level: 300 }))).toEqual({
      kind: "OutOfRange", messageName: "LOG", key: "content/level", message: "zproto_example: LOG: content/level: 300 is outside 0..255",
    });
    expect(failure(() => toZplForm(example.schema, { message: "NOPE" }))).toEqual({
      kind: "UnknownMessage", messageName: null, key: "message", message: 'zproto_example: message: unknown message "NOPE"',
    });
  });

  it("leaves text that ZPL cannot hold to the writer, which names the key", () => {
    const text = example.log({ host: "two\nlines" });
    expect(example.toZpl(text).get("zproto_example/content/host")).toBe("two\nlines");
    expect(() => example.printZpl(text)).toThrow(new ZplWriteError("zproto_example/content/host", "the value contains a line break"));
  });
});

describe("ZPL form of a pubsub model", () => {
  const schema = codecSchema(loadCodecModel("test/fixtures/models/weather.xml"));
  const codec = dynamicCodec(schema);
  const text = `weather
    message = "WEATHER_READING"
    topic = "station/ber"
    content
        celsius = "21"
        station = "Berlin"
`;

  it("prints the topic and reads it back", () => {
    const reading = { message: "READING", topic: "station/ber", celsius: 21, station: "Berlin" };
    expect(printZplForm(schema, reading)).toBe(text);
    expect(fromZplForm(codec, text)).toEqual(reading);
    expect(hex(encodeDynamic(schema, fromZplForm(codec, text)))).toEqual(hex(encodeDynamic(schema, reading)));
  });

  it("needs the topic", () => {
    expect(failure(() => fromZplForm(codec, text.replace('    topic = "station/ber"\n', "")))).toEqual({
      kind: "MissingTopic", messageName: "READING", key: "topic", message: "weather: READING: topic: a pubsub message needs a topic",
    });
    expect(failure(() => toZplForm(schema, { message: "READING", celsius: 1 }))).toEqual({
      kind: "MissingTopic", messageName: "READING", key: "topic", message: "weather: READING: topic: a pubsub message needs a topic",
    });
  });
});

describe("ZPL form with a routing id", () => {
  it("prints it in lowercase hex and reads it back, also through the interpreter", () => {
    const codec = dynamicCodec(example.schema);
    const form = example.toZpl(LOG, { routingId: bytes("00FF10") });
    expect(form.get("zproto_example/routing_id")).toBe("00ff10");
    expect(fromZplFormRouted(codec, form)).toEqual({ routingId: bytes("00ff10"), message: LOG });
    // A plain import ignores the routing id.
    expect(fromZplForm(codec, form)).toEqual(LOG);
  });
});

describe("redacted ZPL forms", () => {
  const yarly = fmqMsg.yarly({ mechanism: "PLAIN", response: Buffer.from("\0guest\0secret", "latin1") });

  it("show secret fields as <redacted> only when asked", () => {
    expect(fmqMsg.printZpl(yarly)).toBe(`fmq_msg
    message = "FMQ_MSG_YARLY"
    content
        mechanism = "PLAIN"
        response = "00677565737400736563726574"
`);
    expect(fmqMsg.printZpl(yarly, { redact: true })).toBe(`fmq_msg
    message = "FMQ_MSG_YARLY"
    content
        mechanism = "PLAIN"
        response = "<redacted>"
`);
    // An empty secret is redacted too: the form does not tell whether there was one.
    expect(fmqMsg.toZpl(fmqMsg.yarly(), { redact: true }).get("fmq_msg/content/response")).toBe("<redacted>");
  });

  it("do not import", () => {
    expect(failure(() => fmqMsg.fromZpl(fmqMsg.printZpl(yarly, { redact: true })))).toEqual({
      kind: "Redacted", messageName: "YARLY", key: "content/response",
      message: "fmq_msg: YARLY: content/response: the secret value was redacted when this form was printed; a redacted form cannot be imported",
    });
    expect(fmqMsg.fromZpl(fmqMsg.printZpl(yarly))).toEqual(yarly);
  });
});

describe("zproto print and zproto encode --zpl", () => {
  function zproto(args: string[], input: string): { stdout: string; stderr: string; status: number | null } {
    const run = spawnSync("node", ["dist/bin/zproto.js", ...args], { input, encoding: "utf8", maxBuffer: 64 << 20 });
    return { stdout: run.stdout, stderr: run.stderr, status: run.status };
  }
  const binaryFrames = hex(example.encode(SPEC_BINARY));
  const logFrames = hex(example.encode(LOG));
  const lines = [
    JSON.stringify({ frames: binaryFrames, routing_id: "00a1b2c3d4" }),
    JSON.stringify({ frames: ["aaa0"] }),
    "not JSON",
    JSON.stringify({ frames: logFrames }),
  ];
  const printed = `${SPEC_BINARY_TEXT}
# error: Truncated: zproto_example: id: frame ends before the message id

# error: SyntaxError: Unexpected token 'o', "not JSON" is not valid JSON

${LOG_TEXT}`;

  it("prints each message's ZPL form or an error line, blank lines between", () => {
    const run = zproto(["print", EXAMPLE_MODEL], lines.join("\n") + "\n");
    expect(run).toEqual({ stdout: printed, stderr: "", status: 0 });
  });

  it("redacts secret fields with --redact", () => {
    const yarly = JSON.stringify({ frames: hex(fmqMsg.encode(fmqMsg.yarly({ mechanism: "PLAIN", response: bytes("00") }))) });
    expect(zproto(["print", "models/filemq/fmq_msg.xml", "--redact"], yarly + "\n")).toEqual({
      stdout: 'fmq_msg\n    message = "FMQ_MSG_YARLY"\n    content\n        mechanism = "PLAIN"\n        response = "<redacted>"\n',
      stderr: "", status: 0,
    });
  });

  it("encodes what print printed back to the same frames, skipping its error lines", () => {
    const run = zproto(["encode", EXAMPLE_MODEL, "--zpl", "-"], printed);
    expect(run).toEqual({
      stdout: `${JSON.stringify({ routing_id: "00a1b2c3d4", frames: binaryFrames })}\n${JSON.stringify({ frames: logFrames })}\n`,
      stderr: "", status: 0,
    });
  });

  it("answers a bad form with an error line and goes on", () => {
    const run = zproto(["encode", EXAMPLE_MODEL, "--zpl", "-"], logWith("level", 'level = "256"') + LOG_TEXT);
    expect(run).toEqual({
      stdout: `${JSON.stringify({ error: "OutOfRange: zproto_example: LOG: content/level: 256 is outside 0..255" })}\n${JSON.stringify({ frames: logFrames })}\n`,
      stderr: "", status: 0,
    });
  });

  it("rejects a file that is not ZPL, with its position", () => {
    expect(zproto(["encode", EXAMPLE_MODEL, "--zpl", "-"], "zproto_example\n  message\n")).toEqual({
      stdout: "", stderr: "stdin:2:3: indentation must be a multiple of 4 spaces, found 2\n", status: 1,
    });
  });

  it("wants --jsonl or --zpl for encode, not both", () => {
    const run = zproto(["encode", EXAMPLE_MODEL, "--zpl", "-", "--jsonl"], "");
    expect([run.status, run.stderr.split("\n")[0]]).toEqual([2, "zproto encode: give --jsonl or --zpl FILE, not both"]);
  });
});

describe("ZPL form trees built in code", () => {
  it("read like parsed ones", () => {
    const form = new ZplNode("zproto_example", "", [
      new ZplNode("message", "ZPROTO_EXAMPLE_TYPES"),
      new ZplNode("content", "", [new ZplNode("client_forename", "Ada"), new ZplNode("supplier_email", "grace@example.com")]),
    ]);
    expect(example.fromZpl(form)).toEqual(example.types({ clientForename: "Ada", supplierEmail: "grace@example.com" }));
  });
});
