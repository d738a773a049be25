/**
 * What peers send that is not a valid message (`spec/models.md` §3.4 dispatch table, `spec/wire.md` §9.2):
 * a `malformed` event with the decode error where the model handles it, a logged drop where it does not,
 * silence for foreign signatures, and a server that keeps serving everybody else whatever arrives.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MalformedError } from "../../runtime/wire/errors.js";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import { Resources, makePeer, startServer, textOf, type Ctx, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

interface Session {
  events: string[];
}

const SIGNATURE = [0xaa, 0xa9];
const body = (...octets: number[]): Buffer => Buffer.from([...SIGNATURE, ...octets]);

/** Malformed messages of engine_msg, with the kind of error each must give. */
const MALFORMED: { name: string; frames: Buffer[]; kind: string }[] = [
  { name: "HELLO without its name's length", frames: [body(0x01)], kind: "Truncated" },
  { name: "HELLO whose name overruns the frame", frames: [body(0x01, 0x05, 0x61, 0x62)], kind: "Overrun" },
  { name: "PING with a trailing octet", frames: [body(0x03, 0x00)], kind: "TrailingBytes" },
  { name: "an unknown message id", frames: [body(0xfe)], kind: "UnknownId" },
  { name: "PING with an extra frame", frames: [body(0x03), Buffer.from("extra")], kind: "UnexpectedFrame" },
  { name: "HELLO whose name is not UTF-8", frames: [body(0x01, 0x02, 0xff, 0xfe)], kind: "InvalidText" },
  { name: "a lone signature", frames: [body()], kind: "Truncated" },
  { name: "an empty frame", frames: [Buffer.alloc(0)], kind: "Truncated" },
];

function impl(contexts: Ctx<Session>[] = []): ServerImpl<Session> {
  return {
    createClient(ctx) {
      contexts.push(ctx);
      return { events: [] };
    },
    greet(ctx) {
      ctx.client.events.push(ctx.event);
      ctx.reply.text = `hi ${String(ctx.request.name)}`;
    },
    describeError(ctx) {
      ctx.client.events.push(ctx.event);
      ctx.reply.text = `${ctx.error instanceof MalformedError ? "MalformedError" : typeof ctx.error}:${ctx.error?.kind}`;
    },
  };
}

describe("a model that handles malformed", () => {
  it.each(MALFORMED)("gets a malformed event with the MalformedError for $name", async ({ frames, kind }) => {
    const contexts: Ctx<Session>[] = [];
    const { endpoint } = await startServer(resources, "malformed_server.xml", impl(contexts), { logger: testLogger });
    const peer = makePeer(resources, endpoint);
    await peer.sendFrames(frames);
    expect(await peer.next()).toEqual({ message: "NOTE", text: `MalformedError:${kind}` });
    // The session goes on, and a later event does not see the old error.
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    expect(contexts).toHaveLength(1);
    expect(contexts[0].client.events).toEqual(["malformed", "hello"]);
    expect(contexts[0].error).toBeUndefined();
  });

  it("drops a message with a foreign signature silently: no event, no context", async () => {
    const contexts: Ctx<Session>[] = [];
    const { server, endpoint } = await startServer(resources, "malformed_server.xml", impl(contexts), { logger: testLogger });
    const peer = makePeer(resources, endpoint);
    await peer.sendFrames([Buffer.from([0xaa, 0xa1, 0x03])]);
    await peer.sendFrames([Buffer.from([0xa9, 0xaa, 0x03])]);
    await peer.sendFrames([Buffer.from("GET / HTTP/1.0\r\n\r\n")]);
    // Messages of one peer are handled in order, so once the answer to PING is here the others were seen.
    expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
    expect(peer.unread).toBe(0);
    expect(contexts).toHaveLength(1);
    expect(contexts[0].client.events).toEqual([]);
    expect(server.clientCount).toBe(1);
  });

  it("never creates a context for a foreign peer that only sends foreign messages", async () => {
    const { server, endpoint } = await startServer(resources, "malformed_server.xml", impl(), { logger: testLogger });
    const stranger = makePeer(resources, endpoint);
    const friend = makePeer(resources, endpoint);
    for (let i = 0; i < 20; i++) await stranger.sendFrames([Buffer.from([0xaa, 0xa0 + (i % 9), i])]);
    expect(await friend.request({ message: "PING" })).toEqual({ message: "PONG" });
    // The stranger's messages may still be in flight; a last PING from it orders them before.
    await stranger.sendFrames([Buffer.from([0x12, 0x34])]);
    expect(await friend.request({ message: "PING" })).toEqual({ message: "PONG" });
    expect(stranger.unread).toBe(0);
    expect(server.clientCount).toBe(1);
  });
});

describe("a model without malformed", () => {
  it("logs and drops a malformed message, keeping the state", async () => {
    const logger = new MemoryLogger();
    const contexts: Ctx<Session>[] = [];
    const { endpoint } = await startServer(resources, "plain_server.xml", impl(contexts), { logger });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    await peer.sendFrames([body(0x03, 0x00)]);
    expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
    expect(peer.unread).toBe(0);
    expect(contexts[0].state).toBe("ready");
    const warnings = logger.lines.filter((line) => line.level === "warn" && line.message.startsWith("dropped a malformed message"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].fields).toMatchObject({ client: contexts[0].id });
  });

  it("rate-limits the log when a peer floods garbage", async () => {
    const logger = new MemoryLogger();
    const { endpoint } = await startServer(resources, "plain_server.xml", impl(), { logger });
    const peer = makePeer(resources, endpoint);
    for (let i = 0; i < 200; i++) await peer.sendFrames([body(0x01)]);
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    const warnings = logger.lines.filter((line) => line.message.startsWith("dropped a malformed message"));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length).toBeLessThanOrEqual(20);
  });
});

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function garbage(next: () => number): Buffer[] {
  const frames: Buffer[] = [];
  const count = 1 + Math.floor(next() * 4);
  for (let f = 0; f < count; f++) {
    const length = Math.floor(next() * (next() < 0.05 ? 70_000 : 40));
    const frame = Buffer.alloc(length);
    for (let i = 0; i < length; i++) frame[i] = Math.floor(next() * 256);
    // Half the time the garbage carries our signature and a real id, so it reaches the field decoders.
    if (f === 0 && length >= 3 && next() < 0.5) {
      frame[0] = 0xaa;
      frame[1] = 0xa9;
      frame[2] = 1 + Math.floor(next() * 12);
    }
    frames.push(frame);
  }
  return frames;
}

describe("garbage", () => {
  for (const model of ["malformed_server.xml", "plain_server.xml"]) {
    it(`from one peer never disturbs another peer's session nor stops the server (${model})`, async () => {
      const { server, endpoint } = await startServer(resources, model, impl(), { logger: testLogger });
      const good = makePeer(resources, endpoint);
      const bad = makePeer(resources, endpoint);
      expect(await good.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
      const next = random(model.length);
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 25; i++) await bad.sendFrames(garbage(next));
        expect(await good.request({ message: "PING" })).toEqual({ message: "PONG" });
      }
      // The bad peer only ever got well-formed answers of the model (random bytes sometimes form a valid message).
      expect(bad.garbage).toEqual([]);
      expect(bad.inbox.every((message) => ["NOTE", "WORLD", "PONG"].includes(message.message))).toBe(true);
      const late = makePeer(resources, endpoint);
      expect(await late.request({ message: "HELLO", name: "Bob" })).toEqual({ message: "WORLD", text: "hi Bob" });
      expect(server.clientCount).toBeGreaterThanOrEqual(2);
    });
  }
});

describe("failures on the server's side", () => {
  it("a createClient that throws ignores that message (logged) and serves the peer's next one and everyone else", async () => {
    const logger = new MemoryLogger();
    let calls = 0;
    const { server, endpoint } = await startServer(resources, "plain_server.xml", {
      ...impl(),
      createClient() {
        calls++;
        if (calls === 1) throw new Error("no room");
        return { events: [] };
      },
    }, { logger });
    const first = makePeer(resources, endpoint);
    await first.send({ message: "HELLO", name: "first" });
    // Only then does the second peer connect, so the failing createClient is the first peer's.
    await eventually(() => logger.messages("error").length === 1, 2000, "createClient to fail");
    const second = makePeer(resources, endpoint);
    expect(await second.request({ message: "HELLO", name: "second" })).toEqual({ message: "WORLD", text: "hi second" });
    expect(await first.request({ message: "HELLO", name: "first" })).toEqual({ message: "WORLD", text: "hi first" });
    expect(first.unread).toBe(0);
    expect(logger.messages("error")).toEqual(["createClient failed; peer ignored: no room"]);
    expect(server.clientCount).toBe(2);
  });

  it("a reply that cannot be encoded ends the event (logged) without a transition, and the session goes on", async () => {
    const logger = new MemoryLogger();
    const contexts: Ctx<Session>[] = [];
    const { endpoint } = await startServer(resources, "plain_server.xml", {
      ...impl(contexts),
      greet(ctx) {
        // A string field holds at most 255 octets.
        ctx.reply.text = ctx.request.name === "long" ? "x".repeat(300) : `hi ${String(ctx.request.name)}`;
      },
    }, { logger });
    const peer = makePeer(resources, endpoint);
    await peer.send({ message: "HELLO", name: "long" });
    expect(await peer.request({ message: "HELLO", name: "Ada" })).toEqual({ message: "WORLD", text: "hi Ada" });
    expect(peer.unread).toBe(0);
    const errors = logger.lines.filter((line) => line.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/^action send WORLD failed: /);
    expect(errors[0].fields).toMatchObject({ state: "start", event: "hello" });
    expect(contexts[0].state).toBe("ready");
    // The reply that failed was reset: nothing of it leaks into the next one.
    expect(await peer.request({ message: "HELLO OK" })).toEqual({ message: "NOTE", text: "" });
  });
});
