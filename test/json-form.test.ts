/**
 * The JSON form's edges (`spec/wire.md` §11): where `null` ("never set") is allowed, what a message with
 * fields left out renders as, and the error texts of strict decoding (§9.2) that the form carries.
 */
import { describe, expect, it } from "vitest";
import * as fmqMsg from "../generated/filemq/fmq_msg.js";
import * as fmqMsgV2 from "../generated/filemq/fmq_msg_v2.js";
import * as example from "../generated/zproto_example/zproto_example.js";
import { MalformedError } from "../runtime/wire/errors.js";
import { decodeDynamic } from "../runtime/wire/interpret.js";
import { JsonFormError, fromJsonForm, toJsonForm } from "../runtime/wire/json.js";

describe("null in the JSON form", () => {
  it("is refused for numbers, octets and strings, which are always set", () => {
    for (const [message, field] of [["LOG", "sequence"], ["LOG", "time"], ["LOG", "host"], ["BINARY", "flags"]]) {
      const attempt = (): unknown => fromJsonForm(example.schema, { message, fields: { [field]: null } });
      expect(attempt, field).toThrow(JsonFormError);
      expect(attempt, field).toThrow(`zproto_example: ${message}.${field}: cannot be null`);
    }
  });

  it("means never set for the types that have it: longstr, lists, maps, chunk, uuid, frame, msg", () => {
    const binary = fromJsonForm(example.schema, { message: "BINARY", fields: { public_key: null, identifier: null, address: null, content: null } });
    expect(example.encode(binary as example.ZprotoExampleDraft)).toEqual(example.encode({ message: "BINARY" }));
    const structures = fromJsonForm(example.schema, { message: "STRUCTURES", fields: { aliases: null, headers: null } });
    expect(structures).toEqual({ message: "STRUCTURES" });
    expect(fromJsonForm(example.schema, { message: "LOG", fields: { data: null } })).toEqual({ message: "LOG" });
  });

  it("is allowed for strings in the Guide-era FILEMQ/1 codec, whose strings are pointers", () => {
    const yarly = fromJsonForm(fmqMsg.schema, { message: "YARLY", fields: { mechanism: null, response: null } });
    expect(fmqMsg.encode(yarly as fmqMsg.FmqMsgDraft)).toEqual([Buffer.from("aaa30300", "hex"), Buffer.alloc(0)]);
    expect(() => fromJsonForm(fmqMsgV2.schema, { message: "RTFM", fields: { reason: null } })).toThrow(JsonFormError);
  });
});

describe("toJsonForm of a message with fields left out", () => {
  it("gives the unset value where null is not allowed, null where it is, and 8-octet numbers as decimal text", () => {
    expect(toJsonForm(example.schema, { message: "LOG", time: 5 })).toEqual({
      model: "zproto_example", message: "LOG", id: 1,
      fields: { sequence: 0, level: 0, event: 0, node: 0, peer: 0, time: "5", host: "", data: null },
    });
    expect(toJsonForm(example.schema, { message: "BINARY" }).fields).toEqual({
      sequence: 0, flags: "00000000", public_key: null, identifier: null, address: null, content: null,
    });
  });

  it("reads back as the same message", () => {
    const json = toJsonForm(example.schema, { message: "LOG", time: 5 });
    expect(example.encode(fromJsonForm(example.schema, json) as example.ZprotoExampleDraft)).toEqual(example.encode({ message: "LOG", time: 5n }));
  });
});

describe("strict decoding error texts", () => {
  it("place an overrun at the field's length prefix, as spec/wire.md §9.2 shows", () => {
    const icanhaz = [Buffer.concat([Buffer.from("aaa3057fffffff", "hex"), Buffer.alloc(138)])];
    for (const decode of [() => fmqMsgV2.decode(icanhaz), () => decodeDynamic(fmqMsgV2.schema, icanhaz)]) {
      let error: unknown;
      try {
        decode();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(MalformedError);
      expect(error).toMatchObject({ kind: "Overrun", field: "path", frame: 0, offset: 3 });
      expect((error as Error).message).toBe("fmq_msg_v2: ICANHAZ.path: longstr length 2147483647 overruns frame (138 octets left) at offset 3");
    }
  });
});
