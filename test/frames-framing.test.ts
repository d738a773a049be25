/**
 * Frame-per-field framing (spec/wire.md §7a) on the MDP/0.1 models: the frame tables of spec/majordomo.md §2
 * are the test cases, for the generated codecs and the schema interpreter alike.
 */
import { describe, expect, it } from "vitest";
import * as client from "../generated/majordomo/mdp01_client_msg.js";
import * as worker from "../generated/majordomo/mdp01_worker_msg.js";
import { EncodeError, MalformedError, type MalformedKind } from "../runtime/wire/errors.js";
import { decodeDynamic, encodeDynamic } from "../runtime/wire/interpret.js";

const f = (text: string): Buffer => Buffer.from(text, "latin1");
const frames = (...parts: (string | Buffer)[]): Buffer[] => parts.map((part) => (typeof part === "string" ? f(part) : part));
const cid = Buffer.from("006b8b4568", "hex");
const wid = Buffer.from("006b8b4567", "hex");

function rejection(decode: () => unknown): MalformedError {
  try {
    decode();
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedError);
    return error as MalformedError;
  }
  throw new Error("decoding was expected to fail");
}

describe("MDP/0.1 client protocol (command-less framing)", () => {
  const request = frames("", "MDPC01", "echo", "hi");

  it("encodes a request as empty delimiter, MDPC01, service, body", () => {
    expect(client.encode({ message: "REQUEST", service: "echo", body: [f("hi")] })).toEqual(request);
    expect(encodeDynamic(client.schema, { message: "REQUEST", service: "echo", body: [f("hi")] })).toEqual(request);
  });

  it("decodes requests and multi-frame replies", () => {
    expect(client.decode(request)).toEqual({ message: "REQUEST", service: "echo", body: [f("hi")] });
    const reply = frames("", "MDPC01", "echo", "part1", "", "part3");
    expect(client.decode(reply)).toEqual({ message: "REQUEST", service: "echo", body: [f("part1"), f(""), f("part3")] });
    expect(decodeDynamic(client.schema, reply)).toEqual(client.decode(reply));
  });

  it("sits behind a routing id on the broker's ROUTER", () => {
    const routed = client.decodeRouted([cid, ...request]);
    expect(routed.routingId).toEqual(cid);
    expect(routed.message.service).toBe("echo");
    expect(client.encodeRouted(cid, routed.message)).toEqual([cid, ...request]);
  });

  const cases: [string, Buffer[], MalformedKind, string | null][] = [
    ["no frames", [], "MissingFrame", "delimiter"],
    ["a request without body (both Guide brokers crash on it)", frames("", "MDPC01", "echo"), "MissingFrame", "body"],
    ["a missing delimiter (REQ-style frames on a DEALER)", frames("MDPC01", "echo", "hi"), "BadSignature", "delimiter"],
    ["a worker header", frames("", "MDPW01", "echo", "hi"), "BadSignature", "protocol"],
    ["a service that is not UTF-8", frames("", "MDPC01", Buffer.from([0xff, 0xfe]), "hi"), "InvalidText", "service"],
    ["a service over 255 octets", frames("", "MDPC01", "s".repeat(256), "hi"), "Overrun", "service"],
  ];
  it.each(cases)("rejects %s", (_, input, kind, field) => {
    const error = rejection(() => client.decode(input));
    expect(error.kind).toBe(kind);
    expect(error.field).toBe(field);
    expect(rejection(() => decodeDynamic(client.schema, input)).kind).toBe(kind);
  });

  it("names the request in errors about its header frames too, since it is the only message", () => {
    const foreign = frames("", "MDPC02", "echo", "hi");
    for (const error of [rejection(() => client.decode(foreign)), rejection(() => decodeDynamic(client.schema, foreign))]) {
      expect(error).toMatchObject({ kind: "BadSignature", messageName: "REQUEST", id: 1, field: "protocol", frame: 1 });
      expect(error.message).toBe('mdp01_client_msg: REQUEST.protocol: frame is "MDPC02", expected "MDPC01"');
    }
  });

  it("refuses to encode a request without a body frame", () => {
    expect(() => client.encode({ message: "REQUEST", service: "echo", body: [] })).toThrow(EncodeError);
    try {
      client.encode({ message: "REQUEST", service: "echo", body: [] });
    } catch (error) {
      expect((error as EncodeError).kind).toBe("TooFew");
    }
  });
});

describe("MDP/0.1 worker protocol (one-octet command frame)", () => {
  const table: [string, worker.Mdp01WorkerMsgDraft, Buffer[]][] = [
    ["READY", { message: "READY", service: "echo" }, frames("", "MDPW01", "\x01", "echo")],
    ["WORKER REQUEST", { message: "WORKER_REQUEST", client: cid, body: [f("hi")] }, frames("", "MDPW01", "\x02", cid, "", "hi")],
    ["REPLY", { message: "REPLY", client: cid, body: [f("a"), f("b")] }, frames("", "MDPW01", "\x03", cid, "", "a", "b")],
    ["HEARTBEAT", { message: "HEARTBEAT" }, frames("", "MDPW01", "\x04")],
    ["DISCONNECT", { message: "DISCONNECT" }, frames("", "MDPW01", "\x05")],
  ];

  it.each(table)("%s has the frames of spec/majordomo.md §2.2", (_, message, expected) => {
    expect(worker.encode(message)).toEqual(expected);
    expect(encodeDynamic(worker.schema, message)).toEqual(expected);
    const decoded = worker.decode(expected);
    expect(decoded.message).toBe(message.message);
    expect(worker.encode(decoded)).toEqual(expected);
    expect(decodeDynamic(worker.schema, expected)).toEqual(decoded);
  });

  it("reads the Guide's broker trace", () => {
    expect(worker.decodeRouted([wid, ...frames("", "MDPW01", "\x01", "echo")])).toEqual({
      routingId: wid,
      message: { message: "READY", service: "echo" },
    });
    expect(worker.decode(frames("", "MDPW01", "\x03", cid, "", "hi"))).toEqual({ message: "REPLY", client: cid, body: [f("hi")] });
  });

  const cases: [string, Buffer[], MalformedKind, string | null][] = [
    ["an unknown command", frames("", "MDPW01", "\x06"), "UnknownId", "command"],
    ["a two-octet command", frames("", "MDPW01", "\x01\x01", "echo"), "TrailingBytes", "command"],
    ["an empty command frame", frames("", "MDPW01", ""), "Truncated", "command"],
    ["a missing command frame", frames("", "MDPW01"), "MissingFrame", "command"],
    ["READY with an extra frame", frames("", "MDPW01", "\x01", "echo", "x"), "UnexpectedFrame", null],
    ["HEARTBEAT with an extra frame", frames("", "MDPW01", "\x04", ""), "UnexpectedFrame", null],
    ["READY without service", frames("", "MDPW01", "\x01"), "MissingFrame", "service"],
    ["WORKER REQUEST without body", frames("", "MDPW01", "\x02", cid, ""), "MissingFrame", "body"],
    ["WORKER REQUEST whose separator is not empty", frames("", "MDPW01", "\x02", cid, "x", "hi"), "BadConstant", "separator"],
    ["a non-empty delimiter", frames("x", "MDPW01", "\x04"), "BadSignature", "delimiter"],
    ["MDPW02 (RFC 18 or the 0.2 tag)", frames("", "MDPW02", "\x04"), "BadSignature", "protocol"],
  ];
  it.each(cases)("rejects %s", (_, input, kind, field) => {
    const error = rejection(() => worker.decode(input));
    expect(error.kind).toBe(kind);
    expect(error.field).toBe(field);
    expect(error.model).toBe("mdp01_worker_msg");
    expect(rejection(() => decodeDynamic(worker.schema, input)).kind).toBe(kind);
  });

  it("names message and field in the error text", () => {
    expect(rejection(() => worker.decode(frames("", "MDPW01", "\x02", cid, "x", "hi"))).message).toBe(
      'mdp01_worker_msg: WORKER REQUEST.separator: frame is "x", expected ""',
    );
  });
});
