/**
 * Encoders called from JavaScript with what is not a message (issue: `encode(null)` threw a TypeError): every
 * generated and interpreted encoder, and a union of codecs, refuses it with an EncodeError, before producing
 * anything.
 */
import { describe, expect, it } from "vitest";
import { codec as fmq } from "../generated/filemq/fmq_msg.js";
import { codec as hello } from "../generated/hello/hello_msg.js";
import { codec as mdp } from "../generated/majordomo/mdp_worker_msg.js";
import { codec as example } from "../generated/zproto_example/zproto_example.js";
import type { AnyMessage, Codec, FrameCodec } from "../runtime/wire/codec.js";
import { EncodeError } from "../runtime/wire/errors.js";
import { dynamicCodec } from "../runtime/wire/interpret.js";
import { unionCodec, type AnyCodec } from "../runtime/wire/union.js";

const generated: Record<string, Codec<AnyMessage, never>> = { hello, fmq, mdp, example } as unknown as Record<string, Codec<AnyMessage, never>>;
const codecs: (readonly [string, FrameCodec<AnyMessage, never>])[] = Object.entries(generated).flatMap(([name, codec]) => [
  [`generated ${name}`, codec] as const,
  [`interpreted ${name}`, dynamicCodec(codec.schema) as unknown as Codec<AnyMessage, never>] as const,
]);
codecs.push(["union of hello and fmq", unionCodec("both", [hello, fmq] as unknown as AnyCodec[]) as unknown as FrameCodec<AnyMessage, never>]);

describe.each(codecs)("%s encode", (_name, codec) => {
  it.each([
    ["null", null, /expected a message object such as \{ message: "NAME", \.\.\. \}, got null$/],
    ["undefined", undefined, /got undefined$/],
    ["a number", 5, /got 5$/],
    ["a message name alone", "HELLO", /got "HELLO"$/],
    ["an array", [], /got an array$/],
  ])("refuses %s with an EncodeError (BadType)", (_what, value, text) => {
    expect(() => codec.encode(value as never)).toThrow(EncodeError);
    expect(() => codec.encode(value as never)).toThrow(text);
    try {
      codec.encode(value as never);
    } catch (error) {
      expect(error).toMatchObject({ kind: "BadType", messageName: null, field: null });
    }
  });

  it("refuses an object without a known message with an EncodeError (UnknownMessage)", () => {
    for (const value of [{}, { message: null }, { message: 5 }, { message: "NO_SUCH_MESSAGE" }]) {
      expect(() => codec.encode(value as never)).toThrow(EncodeError);
    }
  });
});
