/**
 * The union codec (runtime/wire/union.ts): one codec over several protocols that share a socket. Tested on
 * the MDP/0.1 client and worker protocols (frame-per-field, told apart by their header frames) and on two
 * binary protocols (told apart by their signatures), and against the plain rule it implements: try each
 * protocol, a BadSignature means "not this one".
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as bench from "../generated/bench/bench_msg.js";
import * as hello from "../generated/hello/hello_msg.js";
import * as mdpClient from "../generated/majordomo/mdp_client_msg.js";
import * as mdpWorker from "../generated/majordomo/mdp_worker_msg.js";
import * as client from "../generated/majordomo/mdp01_client_msg.js";
import * as worker from "../generated/majordomo/mdp01_worker_msg.js";
import { EncodeError, MalformedError } from "../runtime/wire/errors.js";
import { dynamicCodec } from "../runtime/wire/interpret.js";
import type { CodecSchema } from "../runtime/wire/schema.js";
import { unionCodec, unionProblems, type AnyCodec } from "../runtime/wire/union.js";

const f = (text: string): Buffer => Buffer.from(text, "latin1");
const frames = (...parts: (string | Buffer)[]): Buffer[] => parts.map((part) => (typeof part === "string" ? f(part) : part));
const cid = Buffer.from("006b8b4568", "hex");

function rejection(run: () => unknown): MalformedError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedError);
    return error as MalformedError;
  }
  throw new Error("decoding was expected to fail");
}

describe("a union of the MDP/0.1 client and worker protocols", () => {
  const mdp = unionCodec("broker", [client.codec, worker.codec]);

  it("decodes each protocol's messages by their header frames", () => {
    expect(mdp.decode(frames("", "MDPC01", "echo", "hi"))).toEqual({ message: "REQUEST", service: "echo", body: [f("hi")] });
    expect(mdp.decode(frames("", "MDPW01", "\x01", "echo"))).toEqual({ message: "READY", service: "echo" });
    expect(mdp.decode(frames("", "MDPW01", "\x03", cid, "", "a", "b"))).toEqual({ message: "REPLY", client: cid, body: [f("a"), f("b")] });
  });

  it("encodes by message name with the protocol that has the message", () => {
    expect(mdp.encode({ message: "REQUEST", service: "echo", body: [f("hi")] })).toEqual(frames("", "MDPC01", "echo", "hi"));
    expect(mdp.encode({ message: "WORKER_REQUEST", client: cid, body: [f("hi")] })).toEqual(frames("", "MDPW01", "\x02", cid, "", "hi"));
    expect(mdp.encode({ message: "HEARTBEAT" })).toEqual(frames("", "MDPW01", "\x04"));
    expect(mdp.codecOf("READY")).toBe(worker.codec);
    expect(mdp.codecOf("REQUEST")).toBe(client.codec);
  });

  it("refuses to encode a message no protocol has", () => {
    expect(() => mdp.encode({ message: "PING" } as never)).toThrow(EncodeError);
    try {
      mdp.encode({ message: "PING" } as never);
    } catch (error) {
      expect(error).toMatchObject({ kind: "UnknownMessage", model: "broker" });
    }
  });

  it("lets the protocol whose header the frames carry say what is wrong with them", () => {
    expect(rejection(() => mdp.decode(frames("", "MDPC01", "echo")))).toMatchObject({ kind: "MissingFrame", model: "mdp01_client_msg", field: "body" });
    expect(rejection(() => mdp.decode(frames("", "MDPW01")))).toMatchObject({ kind: "MissingFrame", model: "mdp01_worker_msg", field: "command" });
    expect(rejection(() => mdp.decode(frames("", "MDPW01", "\x09")))).toMatchObject({ kind: "UnknownId", model: "mdp01_worker_msg" });
  });

  it("says BadSignature, in its own name, for frames of neither protocol", () => {
    for (const input of [frames("", "MDPC02", "echo", "hi"), frames("x", "MDPW01", "\x04"), frames("garbage")]) {
      const error = rejection(() => mdp.decode(input));
      expect(error.kind).toBe("BadSignature");
      expect(error.model).toBe("broker");
      expect(error.message).toBe("broker: the frames are a message of none of mdp01_client_msg, mdp01_worker_msg");
    }
  });
});

describe("a union of binary protocols", () => {
  const both = unionCodec("both", [hello.codec, bench.codec]);

  it("tells them apart by signature", () => {
    const ping = hello.encode({ message: "PING" });
    expect(both.decode(ping)).toEqual({ message: "PING" });
    const sample = bench.encode(bench.sample({ sender: "s", topic: "t" }));
    expect(both.decode(sample)).toMatchObject({ message: "SAMPLE", sender: "s", topic: "t" });
    expect(both.encode({ message: "PING" })).toEqual(ping);
  });
});

describe("unionProblems", () => {
  const schema = (base: CodecSchema, changes: Partial<CodecSchema>): CodecSchema => ({ ...base, ...changes });

  it("accepts protocols that can share a socket", () => {
    expect(unionProblems([client.schema, worker.schema])).toEqual([]);
    expect(unionProblems([hello.schema, bench.schema])).toEqual([]);
  });

  it("refuses a message name two protocols share", () => {
    const renamed = schema(worker.schema, {
      messages: worker.schema.messages.map((message) => (message.key === "WORKER_REQUEST" ? { ...message, key: "REQUEST", name: "REQUEST" } : message)),
    });
    expect(unionProblems([client.schema, renamed])).toEqual([
      "message REQUEST is in both mdp01_client_msg and mdp01_worker_msg: rename one (where the name is not on the wire)",
    ]);
  });

  it("refuses a field name with two types", () => {
    const retyped = schema(worker.schema, {
      messages: worker.schema.messages.map((message) => ({
        ...message, fields: message.fields.map((field) => (field.key === "service" ? { ...field, type: "longstr" as const } : field)),
      })),
    });
    expect(unionProblems([client.schema, retyped])).toEqual(["field service is string in mdp01_client_msg and longstr in mdp01_worker_msg: one name needs one type"]);
  });

  it("refuses protocols that cannot be told apart", () => {
    expect(unionProblems([mdpClient.schema, mdpWorker.schema])).toEqual([
      "protocols mdp_client_msg (signature aa a4) and mdp_worker_msg (signature aa a4) cannot be told apart",
    ]);
    const prefix = schema(client.schema, { model: "prefix", headerFields: 1, messages: [{ ...client.schema.messages[0], key: "OTHER", name: "OTHER" }] });
    expect(unionProblems([client.schema, prefix])).toEqual([
      'protocols mdp01_client_msg (header "" "MDPC01") and prefix (header "") cannot be told apart',
    ]);
    const pubsub = schema(hello.schema, { model: "news", framing: "pubsub", messages: [] });
    expect(unionProblems([hello.schema, pubsub])).toEqual(["protocol news cannot share a socket with others: its pubsub messages carry no signature to tell it apart"]);
    expect(unionProblems([hello.schema, hello.schema])[0]).toBe("protocol hello_msg is named twice");
  });

  it("makes unionCodec throw", () => {
    expect(() => unionCodec("mdp02", [mdpClient.codec, mdpWorker.codec])).toThrow(/mdp02: protocols mdp_client_msg .* cannot be told apart/);
  });
});

describe("the union's quick signature check", () => {
  /** The rule the union implements, without its shortcut: each protocol in turn, BadSignature = next. */
  function plainRule(members: readonly AnyCodec[], input: readonly Uint8Array[]): unknown {
    for (const member of members) {
      try {
        return member.decode(input);
      } catch (error) {
        if (!(error instanceof MalformedError) || error.kind !== "BadSignature") return `${error instanceof MalformedError ? `${error.model} ${error.kind}` : String(error)}`;
      }
    }
    return "BadSignature";
  }

  function outcome(decode: () => unknown): unknown {
    try {
      return decode();
    } catch (error) {
      if (!(error instanceof MalformedError)) throw error;
      return error.kind === "BadSignature" && error.model === "union" ? "BadSignature" : `${error.model} ${error.kind}`;
    }
  }

  const pieces = ["", "MDPC01", "MDPW01", "MDPC0", "\x01", "\x02", "\x03", "\x04", "\x05", "echo", "\xaa\xa7\x03", "\xaa\xa1\x01", "\xaa"].map(f);
  const frame = fc.oneof(fc.constantFrom(...pieces), fc.uint8Array({ maxLength: 6 }).map((bytes) => Buffer.from(bytes)));
  const input = fc.array(frame, { maxLength: 7 });

  it.each([
    ["frame-per-field protocols", [client.codec, worker.codec]],
    ["binary protocols", [hello.codec, bench.codec]],
    ["interpreted codecs", [dynamicCodec(worker.schema), dynamicCodec(client.schema)]],
  ] as [string, AnyCodec[]][])("decodes %s exactly as trying each in turn would", (_, members) => {
    const union = unionCodec("union", members);
    fc.assert(fc.property(input, (candidate) => {
      expect(outcome(() => union.decode(candidate))).toEqual(plainRule(members, candidate));
    }), { numRuns: 3000 });
  });
});
