/**
 * Server timers on real sockets (`spec/models.md` §3.4, §3.8): `expired` once per silent period of
 * `server/timeout` ms, re-armed by the next message (malformed ones included); reaping of silent contexts when
 * the model has no `expired` handler; one-shot wakeups that a new wakeup replaces and any event cancels.
 * Timeouts are short; negative checks ("nothing more arrives") wait a few periods, positive ones poll.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import { Resources, delay, makePeer, startServer, textOf, type Ctx, type ServerImpl } from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

interface Session {
  name: string;
}

function timerImpl(contexts: Ctx<Session>[] = []): ServerImpl<Session> {
  return {
    createClient(ctx) {
      contexts.push(ctx);
      return { name: "" };
    },
    greet(ctx) {
      ctx.client.name = String(ctx.request.name);
      ctx.reply.text = `hi ${ctx.client.name}`;
    },
    armWakeup: (ctx) => ctx.wakeup(Number(ctx.request.delay), textOf(ctx.request)),
    armTwice(ctx) {
      ctx.wakeup(40, "alarm");
      ctx.wakeup(120, "other_alarm");
    },
    noteEvent(ctx) {
      ctx.reply.text = ctx.event;
    },
  };
}

/** A truncated HELLO: signature AA A9, id 1, and no length octet for its name. */
const TRUNCATED = [Buffer.from([0xaa, 0xa9, 0x01])];
/** A message of another protocol (signature AA A1): dropped without a word. */
const FOREIGN = [Buffer.from([0xaa, 0xa1, 0x01, 0x00])];

describe("expired", () => {
  it("fires once per silent period and is re-armed by the next message", async () => {
    const { endpoint } = await startServer(resources, "timer_server.xml", timerImpl(), { logger: testLogger, config: { "server/timeout": 150 } });
    const peer = makePeer(resources, endpoint);
    const said = Date.now();
    await peer.request({ message: "HELLO", name: "Ada" });
    expect(await peer.next(2000, "expired")).toEqual({ message: "NOTE", text: "expired" });
    expect(Date.now() - said).toBeGreaterThanOrEqual(140);
    // Silence goes on for three more periods: no second expired.
    await delay(450);
    expect(peer.unread).toBe(0);
    const pinged = Date.now();
    expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
    expect(await peer.next(2000, "expired again")).toEqual({ message: "NOTE", text: "expired" });
    expect(Date.now() - pinged).toBeGreaterThanOrEqual(140);
    await delay(400);
    expect(peer.unread).toBe(0);
  });

  // The peers below talk every 50 ms for twice the timeout: a stall of the whole process (the peer runs in
  // it too) would have to last most of a timeout to let one expire.
  it("is restarted by every message, so a chatty peer never expires", async () => {
    const { endpoint } = await startServer(resources, "timer_server.xml", timerImpl(), { logger: testLogger, config: { "server/timeout": 600 } });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    for (let i = 0; i < 24; i++) {
      expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
      await delay(50);
    }
    expect(peer.unread).toBe(0);
    expect(await peer.next(2000, "expired once silent")).toEqual({ message: "NOTE", text: "expired" });
  });

  it("is restarted by malformed messages too", async () => {
    const logger = new MemoryLogger();
    const { endpoint } = await startServer(resources, "timer_server.xml", timerImpl(), { logger, config: { "server/timeout": 600 } });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    for (let i = 0; i < 24; i++) {
      await peer.sendFrames(TRUNCATED);
      await delay(50);
    }
    expect(peer.unread).toBe(0);
    expect(logger.messages("warn").some((message) => message.startsWith("dropped a malformed message"))).toBe(true);
    expect(await peer.next(2000, "expired once silent")).toEqual({ message: "NOTE", text: "expired" });
  });

  it("is restarted by messages with a foreign signature too, though they are dropped unanswered", async () => {
    const { endpoint } = await startServer(resources, "timer_server.xml", timerImpl(), { logger: testLogger, config: { "server/timeout": 600 } });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    for (let i = 0; i < 24; i++) {
      await peer.sendFrames(FOREIGN);
      await delay(50);
    }
    expect(peer.unread).toBe(0);
    expect(await peer.next(2000, "expired once silent")).toEqual({ message: "NOTE", text: "expired" });
  });

  it("without an expired handler, reaps silent contexts (clientTerminated runs) but keeps talking ones", async () => {
    const terminated: number[] = [];
    const contexts: Ctx<Session>[] = [];
    const { server, endpoint } = await startServer(resources, "plain_server.xml", {
      ...timerImpl(contexts),
      clientTerminated: (ctx) => terminated.push(ctx.id),
    }, { logger: testLogger, config: { "server/timeout": 500 } });
    const silent = makePeer(resources, endpoint);
    const chatty = makePeer(resources, endpoint);
    await silent.request({ message: "HELLO", name: "silent" });
    await chatty.request({ message: "HELLO", name: "chatty" });
    expect(server.clientCount).toBe(2);
    const started = Date.now();
    // The chatty peer talks every 40 ms until the silent one has been reaped.
    while (terminated.length === 0) {
      expect(Date.now() - started, "the silent peer to be reaped").toBeLessThan(10_000);
      expect(await chatty.request({ message: "PING" })).toEqual({ message: "PONG" });
      await delay(40);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(server.clientCount).toBe(1);
    expect(terminated).toEqual([contexts[0].id]);
    expect(contexts[0].valid).toBe(false);
    expect(contexts[1].valid).toBe(true);
    // The reaped peer starts over: PING is not handled in the initial state, HELLO is.
    expect(await silent.request({ message: "HELLO", name: "silent" })).toEqual({ message: "WORLD", text: "hi silent" });
    expect(server.clientCount).toBe(2);
    expect(contexts).toHaveLength(3);
    await eventually(() => server.clientCount === 0, 2000, "both peers to be reaped");
    expect(terminated).toHaveLength(3);
  });
});

describe("wakeup", () => {
  it("fires once", async () => {
    const { endpoint } = await startServer(resources, "timer_server.xml", timerImpl(), { logger: testLogger });
    const peer = makePeer(resources, endpoint);
    const armed = Date.now();
    await peer.send({ message: "WORK", delay: 80, text: "alarm" });
    expect(await peer.next(2000, "the alarm")).toEqual({ message: "NOTE", text: "alarm" });
    expect(Date.now() - armed).toBeGreaterThanOrEqual(70);
    await delay(300);
    expect(peer.unread).toBe(0);
  });

  it("is replaced by a later wakeup", async () => {
    const { endpoint } = await startServer(resources, "timer_server.xml", timerImpl(), { logger: testLogger });
    const peer = makePeer(resources, endpoint);
    await peer.send({ message: "GO" });
    expect(await peer.next(2000, "the second alarm")).toEqual({ message: "NOTE", text: "other_alarm" });
    await delay(250);
    expect(peer.unread).toBe(0);
  });

  it("is cancelled by a message on that context", async () => {
    const { endpoint } = await startServer(resources, "timer_server.xml", timerImpl(), { logger: testLogger });
    const peer = makePeer(resources, endpoint);
    await peer.send({ message: "WORK", delay: 150, text: "alarm" });
    expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
    await delay(400);
    expect(peer.unread).toBe(0);
  });

  it("is cancelled by an internal event on that context, and not by events on other contexts", async () => {
    const contexts: Ctx<Session>[] = [];
    const { server, endpoint } = await startServer(resources, "timer_server.xml", timerImpl(contexts), { logger: testLogger });
    const first = makePeer(resources, endpoint);
    const second = makePeer(resources, endpoint);
    await first.request({ message: "HELLO", name: "first" });
    await second.request({ message: "HELLO", name: "second" });
    await first.send({ message: "WORK", delay: 200, text: "alarm" });
    await second.send({ message: "WORK", delay: 200, text: "alarm" });
    await delay(30);
    server.sendEvent(contexts[0], "nudge");
    expect(await first.next()).toEqual({ message: "NOTE", text: "nudge" });
    // The event on the first context left the second context's wakeup alone.
    expect(await second.next(2000, "the second peer's alarm")).toEqual({ message: "NOTE", text: "alarm" });
    await delay(300);
    expect(first.unread).toBe(0);
    expect(second.unread).toBe(0);
  });

  describe("while an async action holds the context", () => {
    /** WORK arms its wakeup, then keeps the context busy for 100 ms; GO re-arms after 60 ms. */
    const holding: ServerImpl<Session> = {
      ...timerImpl(),
      async armWakeup(ctx) {
        ctx.wakeup(Number(ctx.request.delay), textOf(ctx.request));
        await delay(100);
      },
      async armTwice(ctx) {
        ctx.wakeup(10, "alarm");
        await delay(60);
        ctx.wakeup(10, "other_alarm");
      },
    };

    it("a wakeup that fired meanwhile is still replaced by a later one", async () => {
      const { endpoint } = await startServer(resources, "timer_server.xml", holding, { logger: testLogger });
      const peer = makePeer(resources, endpoint);
      await peer.send({ message: "GO" });
      expect(await peer.next(2000, "the second alarm")).toEqual({ message: "NOTE", text: "other_alarm" });
      await delay(200);
      expect(peer.unread).toBe(0);
    });

    it("a wakeup that fired meanwhile is cancelled by a message that arrived before it fired", async () => {
      const { endpoint } = await startServer(resources, "timer_server.xml", holding, { logger: testLogger });
      const peer = makePeer(resources, endpoint);
      await peer.send({ message: "WORK", delay: 40, text: "alarm" });
      await delay(10);
      expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
      await delay(250);
      expect(peer.unread).toBe(0);
    });

    it("a wakeup with nothing after it still fires once the action is done", async () => {
      const { endpoint } = await startServer(resources, "timer_server.xml", holding, { logger: testLogger });
      const peer = makePeer(resources, endpoint);
      const armed = Date.now();
      await peer.send({ message: "WORK", delay: 40, text: "alarm" });
      expect(await peer.next(2000, "the alarm")).toEqual({ message: "NOTE", text: "alarm" });
      expect(Date.now() - armed).toBeGreaterThanOrEqual(95);
      await delay(200);
      expect(peer.unread).toBe(0);
    });
  });
});

describe("heartbeat (ServerOptions.clientTimers)", () => {
  const timers = { clientTimers: () => ({ heartbeat: 120, expiry: 500 }) };

  it("fires after each period of a client's silence, then expired ends the silent client", async () => {
    const { server, endpoint } = await startServer(resources, "heartbeat_server.xml", timerImpl(), { logger: testLogger, ...timers });
    const peer = makePeer(resources, endpoint);
    const said = Date.now();
    await peer.request({ message: "HELLO", name: "Ada" });
    const heard: { note: string; after: number }[] = [];
    for (;;) {
      const note = textOf(await peer.next(5000, "a heartbeat or expired"));
      heard.push({ note, after: Date.now() - said });
      if (note === "expired") break;
    }
    const heartbeats = heard.slice(0, -1);
    expect(heartbeats.every(({ note }) => note === "heartbeat")).toBe(true);
    // Timers never fire early, but a loaded machine can make them late: the k-th heartbeat comes k periods
    // or more after the last message, at least one comes before expired, and no more than fit before it.
    expect(heartbeats.length).toBeGreaterThanOrEqual(1);
    expect(heartbeats.length).toBeLessThanOrEqual(4);
    heartbeats.forEach(({ after }, index) => expect(after).toBeGreaterThanOrEqual((index + 1) * 120 - 5));
    expect(heard[heard.length - 1].after).toBeGreaterThanOrEqual(495);
    await eventually(() => server.clientCount === 0, 5000, "the expired client to be gone");
  });

  it("is restarted by every message, so a client that talks more often than the period never hears it", async () => {
    const { endpoint } = await startServer(resources, "heartbeat_server.xml", timerImpl(), { logger: testLogger, clientTimers: () => ({ heartbeat: 1000, expiry: 5000 }) });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    for (let i = 0; i < 10; i++) {
      expect(await peer.request({ message: "PING" })).toEqual({ message: "PONG" });
      await delay(50);
    }
    expect(peer.unread).toBe(0);
    expect(await peer.next(5000, "a heartbeat once silent")).toEqual({ message: "NOTE", text: "heartbeat" });
  });

  it("takes a new period from a new configuration at each client's next message; 0 stops it", async () => {
    const { server, endpoint } = await startServer(resources, "heartbeat_server.xml", timerImpl(), {
      logger: testLogger,
      config: { "server/heartbeat": 100 },
      clientTimers: (config) => ({ heartbeat: config.getInteger("server/heartbeat", 0) ?? 0, expiry: 1000 }),
    });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    expect(await peer.next(5000, "a heartbeat")).toEqual({ message: "NOTE", text: "heartbeat" });
    server.configure("server/heartbeat", "0");
    await peer.send({ message: "PING" });
    // Heartbeats already due may come before the PONG; none after it.
    let answer = await peer.next(5000, "PONG");
    while (answer.message === "NOTE") {
      expect(textOf(answer)).toBe("heartbeat");
      answer = await peer.next(5000, "PONG");
    }
    expect(answer).toEqual({ message: "PONG" });
    expect(await peer.next(5000, "expired")).toEqual({ message: "NOTE", text: "expired" });
  });

  it("is off by default: a model that handles heartbeat hears nothing without clientTimers", async () => {
    const { endpoint } = await startServer(resources, "heartbeat_server.xml", timerImpl(), { logger: testLogger, config: { "server/timeout": 600 } });
    const peer = makePeer(resources, endpoint);
    await peer.request({ message: "HELLO", name: "Ada" });
    expect(await peer.next(2000, "expired")).toEqual({ message: "NOTE", text: "expired" });
  });

  it("refuses a configuration whose timers are not whole positive ms", async () => {
    const { server } = await startServer(resources, "heartbeat_server.xml", timerImpl(), { logger: testLogger, clientTimers: (config) => ({ expiry: 3 * (config.getInteger("server/heartbeat", 1) ?? 1) }) });
    expect(() => server.configure("server/heartbeat", "0")).toThrow(/expiry period/);
  });
});
