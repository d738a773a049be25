/**
 * The texts of decoding and encoding errors count right: `1 octet`, `2 octets`, in the generated codecs and
 * the interpreter alike (both word their errors through the same runtime functions).
 */
import { describe, expect, it } from "vitest";
import * as example from "../generated/zproto_example/zproto_example.js";
import { decodeDynamic, encodeDynamic } from "../runtime/wire/interpret.js";
import type { CodecSchema } from "../runtime/wire/schema.js";

const hex = (...frames: string[]): Buffer[] => frames.map((frame) => Buffer.from(frame, "hex"));

/** The error message decoding `frames` fails with, through the generated codec and the interpreter (which must agree). */
function decodeError(frames: Buffer[]): string {
  const messages = [() => example.decode(frames), () => decodeDynamic(example.schema, frames)].map((decode) => {
    try {
      decode();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("decoded");
  });
  expect(messages[1]).toBe(messages[0]);
  return messages[0];
}

/** A TYPES message: signature, id, the header's sequence, eight empty strings. */
const TYPES = "aaa004007b" + "00".repeat(8);

describe("decoding errors", () => {
  it("count octets in the singular and the plural", () => {
    expect(decodeError(hex("aa"))).toBe("zproto_example: signature: frame of 1 octet has no signature");
    expect(decodeError(hex(""))).toBe("zproto_example: signature: frame of 0 octets has no signature");
    expect(decodeError(hex(TYPES + "ff"))).toBe("zproto_example: TYPES: 1 trailing octet after the last field at offset 13");
    expect(decodeError(hex(TYPES + "ffff"))).toBe("zproto_example: TYPES: 2 trailing octets after the last field at offset 13");
    // STRUCTURES: aliases holds one item that says 5 octets where one is left.
    expect(decodeError(hex("aaa002007b" + "00000001" + "00000005" + "61"))).toMatch(/overruns frame \(1 octet left\) at offset 9$/);
    expect(decodeError(hex("aaa002007b" + "00000001" + "00000005" + "6162"))).toMatch(/overruns frame \(2 octets left\) at offset 9$/);
  });

  it("count frames in the singular and the plural", () => {
    const binaryBody = "aaa003007b" + "62333863" + "00000000" + "00".repeat(16);
    expect(decodeError(hex(binaryBody))).toBe("zproto_example: BINARY.address: frame 1 is missing (message has 1 frame)");
    expect(decodeError(hex(TYPES, ""))).toBe("zproto_example: TYPES: 1 unexpected frame after the message's 1");
    expect(decodeError(hex(TYPES, "", ""))).toBe("zproto_example: TYPES: 2 unexpected frames after the message's 1");
  });

  it("count octets of a frame in frame-per-field framing", () => {
    const schema: CodecSchema = {
      model: "tiny", signature: 0, framing: "frames", command: "none", headerFields: 0,
      messages: [{ name: "TICK", key: "TICK", id: 1, fields: [{ name: "seq", key: "seq", type: "number", size: 2 }] }],
    };
    expect(() => decodeDynamic(schema, hex("01"))).toThrow(/^tiny: TICK\.seq: number-2 frame has 1 octet$/);
    expect(() => decodeDynamic(schema, hex("010203"))).toThrow(/^tiny: TICK\.seq: number-2 frame has 3 octets$/);
  });
});

describe("encoding errors", () => {
  it("count octets in the singular and the plural", () => {
    const schema: CodecSchema = {
      model: "tiny", signature: 0, framing: "binary", command: "frame", headerFields: 0,
      messages: [{ name: "FLAG", key: "FLAG", id: 1, fields: [{ name: "flag", key: "flag", type: "octets", size: 1 }] }],
    };
    expect(() => encodeDynamic(schema, { message: "FLAG", flag: Buffer.alloc(2) })).toThrow("tiny: FLAG.flag: expected exactly 1 octet, got 2");
    expect(() => encodeDynamic(schema, { message: "FLAG", flag: "x" })).toThrow('tiny: FLAG.flag: expected 1 octet, got "x"');
    expect(() => example.encode({ message: "BINARY", flags: Buffer.alloc(1) })).toThrow("zproto_example: BINARY.flags: expected exactly 4 octets, got 1");
  });
});
