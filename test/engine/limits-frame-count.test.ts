/**
 * Messages of more frames than the protocol has (issue: one message of millions of empty frames stalled the
 * server for seconds). libzmq assembles a whole multipart message before anyone sees it, and zeromq.js turns
 * every frame into a Buffer, so that cost stays (docs/limits.md gives the figures); what the engine adds is
 * refused by counting: a message longer than any message of the codec never reaches the decoder.
 */
import { afterEach, describe, expect, it } from "vitest";
import { codec as fmqCodec } from "../../generated/filemq/fmq_msg.js";
import { codec as helloCodec } from "../../generated/hello/hello_msg.js";
import { codec as mdpCodec } from "../../generated/majordomo/mdp_client_msg.js";
import { maxFrameCount } from "../../runtime/wire/frame-count.js";
import { MalformedError } from "../../runtime/wire/errors.js";
import { MemoryLogger, eventually } from "../support/engines.js";
import { Resources, makePeer, startServer, textOf, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

describe("frame counts of codecs", () => {
  it("is the largest message's frame count, or open when a msg field takes the rest", () => {
    expect(maxFrameCount(helloCodec.schema)).toBe(1);
    // FileMQ's CHEEZBURGER carries its chunk in a second frame.
    expect(maxFrameCount(fmqCodec.schema)).toBe(2);
    expect(maxFrameCount(mdpCodec.schema)).toBeUndefined();
  });
});

describe("a message of 100,000 empty frames", () => {
  it("is refused by its count, as malformed, and the server serves on", async () => {
    const logger = new MemoryLogger();
    const errors: MalformedError[] = [];
    const impl: ServerImpl<object> = {
      createClient: () => ({}),
      greet(ctx) {
        ctx.reply.text = `hi ${String(ctx.request.name)}`;
      },
      describeError(ctx) {
        if (ctx.error) errors.push(ctx.error);
        ctx.reply.text = ctx.error?.kind ?? "";
      },
    };
    const { endpoint } = await startServer(resources, "malformed_server.xml", impl, { logger });
    const peer = makePeer(resources, endpoint);
    await peer.sendFrames(Array.from({ length: 100_000 }, () => Buffer.alloc(0)));
    await eventually(() => errors.length === 1, 10_000, "the malformed event");
    expect(errors[0]).toMatchObject({ kind: "UnexpectedFrame", frame: 1 });
    expect(errors[0].message).toBe("engine_msg: message of 100000 frames refused undecoded: no message of this protocol has more than 1");
    expect(textOf(await peer.next())).toBe("UnexpectedFrame");
    expect(textOf(await peer.request({ message: "HELLO", name: "Ada" }))).toBe("hi Ada");
  });
});
