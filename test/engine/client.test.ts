/**
 * The client engine on real sockets (`spec/models.md` §4): method calls and their replies, timeouts, FIFO
 * serialisation, close and terminate, heartbeat and expiry timers, recv()/messages(), reconnect, and a
 * full send queue. The server is a raw ROUTER so that tests decide exactly what the client gets, and when.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ActionFailed, ClientTerminated, EngineClosed, MethodFailed, SendQueueFull, TimeoutError } from "../../runtime/engine/errors.js";
import { MemoryLogger, eventually, testLogger } from "../support/engines.js";
import {
  Resources, TestClient, delay, freeEndpoint, makeClient, makeServer, outcome, settled, startRawServer, textOf,
  type ClientCtx, type ClientImpl, type RawServer,
} from "./support.js";

const resources = new Resources();
afterEach(() => resources.closeAll());

interface State {
  terminatedCalls: number;
}

function impl(): ClientImpl<State> {
  return {
    createClient: () => ({ terminatedCalls: 0 }),
    terminated(ctx) {
      ctx.client.terminatedCalls++;
    },
    connectToServer(ctx) {
      ctx.connect(ctx.args.endpoint ?? "");
      ctx.setHeartbeat(ctx.args.heartbeat ?? 0);
      ctx.setExpiry(ctx.args.expiry ?? 0);
    },
    signalSuccess: (ctx) => ctx.reply("SUCCESS", { text: ctx.event }),
    prepareEcho(ctx) {
      ctx.outgoing.text = ctx.args.text;
    },
    deliverNote: (ctx) => ctx.deliver("NOTE", { text: textOf(ctx.request) }),
    answerNote(ctx) {
      const text = textOf(ctx.request);
      if (text.startsWith("fail:")) ctx.reply("FAILURE", { reason: text.slice("fail:".length) });
      else ctx.reply("SUCCESS", { text });
    },
    async slowReply(ctx: ClientCtx<State>) {
      const text = ctx.args.text ?? "";
      await delay(ctx.args.delay ?? 0);
      ctx.reply("SUCCESS", { text });
    },
    reconnect: (ctx) => ctx.reconnect(),
    deliverTimer: (ctx) => ctx.deliver("NOTE", { text: ctx.event }),
    logUnexpected: (ctx) => ctx.log("warn", `unexpected ${ctx.event} in ${ctx.state}`),
  };
}

interface Setup {
  readonly server: RawServer;
  readonly client: TestClient<State>;
  /** The client's routing id, as the server saw it on HELLO. */
  readonly routingId: Buffer;
}

/** A raw server and a connected test client (HELLO already received by the server). */
async function connected(args: { heartbeat?: number; expiry?: number } = {}, file = "test_client.xml", logger = testLogger): Promise<Setup> {
  const server = await startRawServer(resources);
  const client = makeClient(resources, file, impl(), { logger });
  await client.start({ endpoint: server.endpoint, heartbeat: args.heartbeat ?? 0, expiry: args.expiry ?? 0 });
  const hello = await server.nextOf("HELLO");
  return { server, client, routingId: hello.routingId };
}

/** Answers the next GO with a NOTE carrying `answer(text)`. */
async function answerGo(setup: Setup, answer: (text: string) => string): Promise<string> {
  const go = await setup.server.nextOf("GO");
  await setup.server.send(go.routingId, { message: "NOTE", text: answer(textOf(go.message)) });
  return textOf(go.message);
}

describe("method calls", () => {
  it("resolve on an accepted reply, with the returned field or undefined", async () => {
    const setup = await connected();
    const { server, client } = setup;
    expect(client.state).toBe("connected");
    const ping = client.invoke("probe");
    const received = await server.nextOf("PING");
    expect(received.routingId).toEqual(setup.routingId);
    await server.send(received.routingId, { message: "PONG" });
    expect(await ping).toBeUndefined();
    const echo = client.invoke("echo", { text: "hi" });
    expect(await answerGo(setup, (text) => `${text} back`)).toBe("hi");
    expect(await echo).toBe("hi back");
    // The NOTE also went to the application.
    expect(await client.recv({ timeout: 1000 })).toEqual({ message: "NOTE", text: "hi back" });
  });

  it("without accepted replies resolve at once", async () => {
    const { server, client } = await connected();
    expect(await client.invoke("fire")).toBeUndefined();
    expect((await server.nextOf("PING")).message).toEqual({ message: "PING" });
  });

  it("reject with MethodFailed on a failure reply", async () => {
    const setup = await connected();
    const echo = outcome(setup.client.invoke("echo", { text: "x" }));
    await answerGo(setup, () => "fail:no such thing");
    const { error } = await echo;
    expect(error).toBeInstanceOf(MethodFailed);
    expect(error).toMatchObject({ operation: "echo", reply: "FAILURE", fields: { reason: "no such thing" } });
    // The client goes on.
    const again = setup.client.invoke("echo", { text: "y" });
    await answerGo(setup, (text) => text);
    expect(await again).toBe("y");
  });

  it("reject with TimeoutError on timeout, and a late reply does not resolve the next call", async () => {
    const setup = await connected();
    const { server, client } = setup;
    const started = Date.now();
    const { error } = await outcome(client.invoke("echo", { text: "first" }, { timeout: 100 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ operation: "echo", timeoutMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    const go = await server.nextOf("GO");
    expect(textOf(go.message)).toBe("first");
    // The answer arrives after the timeout: the NOTE is handled (and delivered) with no call waiting.
    await server.send(go.routingId, { message: "NOTE", text: "late first" });
    expect(textOf(await client.recv({ timeout: 1000 }))).toBe("late first");
    const second = client.invoke("echo", { text: "second" });
    await answerGo(setup, (text) => `${text}!`);
    expect(await second).toBe("second!");
  });

  // Regression: replies were not tied to the call whose event produced them, so the reply of an event still
  // running after its call timed out resolved the next call. Spec §4.6: a late reply "never resolves a later call".
  it("a reply from an event still running after its call timed out does not resolve the next call", async () => {
    const setup = await connected();
    const { error } = await outcome(setup.client.invoke("slow", { delay: 300, text: "first" }, { timeout: 100 }));
    expect(error).toBeInstanceOf(TimeoutError);
    const second = setup.client.invoke("echo", { text: "second" }, { timeout: 2000 });
    await answerGo(setup, (text) => `${text}!`);
    expect(await second).toBe("second!");
  });

  // Regression: ctx.args was set when a call was dispatched, not when its event ran, so an event queued behind
  // a slow one ran with the next call's arguments (GO "B" twice, never GO "A").
  it("a method event runs with the arguments of its own call", async () => {
    const setup = await connected();
    const { server, client } = setup;
    await outcome(client.invoke("slow", { delay: 300, text: "slow" }, { timeout: 100 }));
    await outcome(client.invoke("echo", { text: "A" }, { timeout: 50 }));
    const b = outcome(client.invoke("echo", { text: "B" }, { timeout: 2000 }));
    const first = await server.nextOf("GO");
    expect(textOf(first.message)).toBe("A");
    await server.send(first.routingId, { message: "NOTE", text: "a" });
    await answerGo(setup, (text) => text);
    await b;
  });

  it("are dispatched one at a time, in call order", async () => {
    const setup = await connected();
    const { server, client } = setup;
    const calls = ["a", "b", "c"].map((text) => client.invoke("echo", { text }));
    const results: unknown[] = [];
    void Promise.all(calls).then((values) => results.push(...values));
    for (const text of ["a", "b", "c"]) {
      const go = await server.nextOf("GO");
      expect(textOf(go.message)).toBe(text);
      // The next call is not sent while this one waits.
      await delay(60);
      expect(server.count("GO")).toBe(text.charCodeAt(0) - "a".charCodeAt(0) + 1);
      await server.send(go.routingId, { message: "NOTE", text: `${text}!` });
    }
    expect(await Promise.all(calls)).toEqual(["a!", "b!", "c!"]);
    expect(results).toEqual(["a!", "b!", "c!"]);
  });

  it("count the timeout from the call: a call that waits its turn too long times out without being sent", async () => {
    const setup = await connected();
    const { server, client } = setup;
    const first = client.invoke("echo", { text: "first" }, { timeout: 2000 });
    const second = outcome(client.invoke("echo", { text: "second" }, { timeout: 150 }));
    const go = await server.nextOf("GO");
    await delay(300);
    await server.send(go.routingId, { message: "NOTE", text: "first!" });
    expect(await first).toBe("first!");
    expect((await second).error).toBeInstanceOf(TimeoutError);
    await delay(100);
    expect(server.count("GO")).toBe(1);
  });

  it("take their default timeout from client/timeout", async () => {
    const server = await startRawServer(resources);
    const client = makeClient(resources, "test_client.xml", impl(), { logger: testLogger, config: { "client/timeout": 120 } });
    await client.start({ endpoint: server.endpoint });
    const started = Date.now();
    const { error } = await outcome(client.invoke("probe"));
    expect(error).toMatchObject({ name: "TimeoutError", timeoutMs: 120 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("refuse a client/timeout longer than a timer can wait", async () => {
    const server = await startRawServer(resources);
    const client = makeClient(resources, "test_client.xml", impl(), { logger: testLogger, config: { "client/timeout": 3_000_000_000 } });
    await expect(client.start({ endpoint: server.endpoint })).rejects.toThrow(/client\/timeout must be a whole number of ms from 1 to 2147483647/);
  });

  it("refuse timeouts that are not finite and positive", async () => {
    const { client } = await connected();
    // 2^31 ms and more cannot be waited by a Node timer: it would fire after 1 ms.
    for (const timeout of [0, -5, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 31]) {
      await expect(client.invoke("probe", {}, { timeout })).rejects.toThrow(RangeError);
    }
    expect(() => new TestClient("test_client.xml", impl(), { timeout: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => new TestClient("test_client.xml", impl(), { timeout: 0 })).toThrow(RangeError);
  });

  // Regression: recv() threw synchronously for a bad timeout, where every other call returns a rejected promise.
  it("recv refuses a bad timeout with a rejected promise, not a synchronous throw", async () => {
    const { client } = await connected();
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = client.recv({ timeout: 0 });
    }).not.toThrow();
    await expect(result).rejects.toThrow(RangeError);
  });

  it("recv gives up when its signal aborts, and the next message goes to a reader still waiting", async () => {
    const setup = await connected();
    const { server, client } = setup;
    const controller = new AbortController();
    const abandoned = outcome(client.recv({ timeout: 5000, signal: controller.signal }));
    controller.abort(new Error("not interested"));
    expect((await abandoned).error).toMatchObject({ message: "not interested" });
    const alreadyAborted = outcome(client.recv({ signal: controller.signal }));
    expect((await alreadyAborted).error).toMatchObject({ message: "not interested" });
    await server.send(setup.routingId, { message: "NOTE", text: "for the living" });
    expect(textOf(await client.recv({ timeout: 1000 }))).toBe("for the living");
  });
});

describe("close and terminate", () => {
  it("close() keeps to its timeout when queued messages cannot go out (no server)", async () => {
    const logger = new MemoryLogger();
    const client = makeClient(resources, "test_client.xml", impl(), { logger });
    await client.start({ endpoint: await freeEndpoint() });
    // More than the DEALER's high-water mark (1000) of messages to nowhere: the queue cannot drain.
    for (let i = 0; i < 3000; i++) await client.invoke("fire");
    const started = Date.now();
    await client.close({ timeout: 300 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(client.terminated).toBe(true);
    expect(logger.messages("warn").some((message) => /^close: \d+ queued messages not sent before the timeout; dropped$/.test(message))).toBe(true);
  });

  // Regression: the message being handed to ZeroMQ was not counted, so close() could say "0 queued messages
  // not sent"; and ZeroMQ took messages for a server that was not there, which close() dropped uncounted.
  it("close() counts every message that did not go out, the one being handed to ZeroMQ included", async () => {
    const logger = new MemoryLogger();
    const client = makeClient(resources, "bare_client.xml", impl(), { logger });
    await client.start({ endpoint: await freeEndpoint() });
    // HELLO and 1000 PINGs to nowhere: as many as ZeroMQ's high-water mark, plus one.
    for (let i = 0; i < 1000; i++) await client.invoke("fire");
    await client.close({ timeout: 300 });
    expect(logger.messages("warn").filter((message) => message.startsWith("close:"))).toEqual(["close: 1001 queued messages not sent before the timeout; dropped"]);
  });

  it("close({ unsent: \"drop\" }) drops what cannot go out with a debug record instead of a warning", async () => {
    const logger = new MemoryLogger();
    const client = makeClient(resources, "bare_client.xml", impl(), { logger });
    await client.start({ endpoint: await freeEndpoint() });
    for (let i = 0; i < 10; i++) await client.invoke("fire");
    await client.close({ timeout: 200, unsent: "drop" });
    expect(logger.messages("warn")).toEqual([]);
    expect(logger.messages("debug").filter((message) => message.startsWith("close:"))).toEqual(["close: 11 queued messages not sent before the timeout; dropped"]);
  });

  it("close({ sendTimeout }) gives queued messages only that long to go out, however long the timeout", async () => {
    const logger = new MemoryLogger();
    const client = makeClient(resources, "bare_client.xml", impl(), { logger });
    await client.start({ endpoint: await freeEndpoint() });
    for (let i = 0; i < 10; i++) await client.invoke("fire");
    const started = Date.now();
    await client.close({ timeout: 20_000, sendTimeout: 100 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(logger.messages("warn").filter((message) => message.startsWith("close:"))).toEqual(["close: 11 queued messages not sent before the timeout; dropped"]);
    await expect(makeClient(resources, "bare_client.xml", impl()).close({ sendTimeout: 0 })).rejects.toThrow(RangeError);
  });

  // Regression: the socket closed with linger 0 as soon as ZeroMQ had taken the last message, and ZeroMQ
  // discarded what it had not written yet, all of it while the connection was still being made: what a
  // client sent right after it was created, and closed, was lost.
  it("close() lets what was sent just before it reach the server, and warns of nothing", async () => {
    const logger = new MemoryLogger();
    const server = await startRawServer(resources);
    // Ten clients one after the other: losing them was a race, which one client alone did not always lose.
    for (let round = 1; round <= 10; round++) {
      const client = makeClient(resources, "bare_client.xml", impl(), { logger });
      await client.start({ endpoint: server.endpoint });
      for (let i = 0; i < 50; i++) client.sendAtOnce({ message: "GO", text: `${round}.${i} ${"x".repeat(240)}` });
      await client.close({ timeout: 5000 });
      await eventually(() => server.count("GO") === round * 50, 5000, `${round * 50} GOs (${server.count("GO")} so far)`);
    }
    expect(server.count("HELLO")).toBe(10);
    expect(logger.messages("warn").filter((message) => message.startsWith("close:"))).toEqual([]);
  });

  // Regression: a <send> method once close() was called was queued while close() drained the queue, and
  // dropped with a debug record after it: the caller could not know that the message was not sent.
  it("a message sent without an event once close() was called throws EngineClosed, during close and after", async () => {
    const server = await startRawServer(resources);
    const client = makeClient(resources, "bare_client.xml", impl(), { logger: testLogger });
    await client.start({ endpoint: server.endpoint });
    client.sendAtOnce({ message: "GO", text: "before" });
    const closing = client.close({ timeout: 5000 });
    expect(() => client.sendAtOnce({ message: "GO", text: "during" })).toThrow(EngineClosed);
    await closing;
    expect(() => client.sendAtOnce({ message: "GO", text: "after" })).toThrow(EngineClosed);
    await eventually(() => server.count("GO") === 1, 5000, "the GO sent before close");
    await delay(100);
    expect(server.count("GO")).toBe(1);
  });

  it("close() runs the destructor, which reaches the server, and settles everything", async () => {
    const { server, client } = await connected();
    const reader = outcome(client.recv({ timeout: 5000 }));
    await client.close({ timeout: 1000 });
    expect((await server.nextOf("STOP", 1000)).message).toEqual({ message: "STOP" });
    expect(client.terminated).toBe(true);
    expect(client.impl.terminatedCalls).toBe(1);
    expect((await reader).error).toBeInstanceOf(EngineClosed);
    await expect(client.invoke("probe")).rejects.toBeInstanceOf(EngineClosed);
    await expect(client.recv({ timeout: 100 })).rejects.toBeInstanceOf(EngineClosed);
    await client.close();
    expect(client.impl.terminatedCalls).toBe(1);
  });

  it("close() without a destructor rejects the pending call with EngineClosed at once", async () => {
    const { client } = await connected({}, "bare_client.xml");
    const started = Date.now();
    const pending = outcome(client.invoke("echo", { text: "never answered" }, { timeout: 3000 }));
    await delay(50);
    await client.close();
    expect((await pending).error).toBeInstanceOf(EngineClosed);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(client.impl.terminatedCalls).toBe(1);
  });

  // Regression: close() queued the destructor behind pending calls and waited for their timeouts; pending
  // calls must end at once with EngineClosed.
  it("close() with a destructor rejects the pending call with EngineClosed at once", { timeout: 10_000 }, async () => {
    const { client } = await connected();
    const started = Date.now();
    const pending = outcome(client.invoke("echo", { text: "never answered" }, { timeout: 1500 }));
    await delay(50);
    await client.close({ timeout: 500 });
    expect((await pending).error).toBeInstanceOf(EngineClosed);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("terminate: the call that led to it resolves, later calls reject with ClientTerminated, timers stop", async () => {
    const { server, client } = await connected({ heartbeat: 30 });
    await server.nextOf("PING");
    expect(await client.invoke("quit")).toBeUndefined();
    expect(client.terminated).toBe(true);
    expect(client.impl.terminatedCalls).toBe(1);
    await expect(client.invoke("probe")).rejects.toBeInstanceOf(ClientTerminated);
    await expect(client.recv({ timeout: 100 })).rejects.toBeInstanceOf(EngineClosed);
    const pings = server.count("PING");
    await delay(150);
    expect(server.count("PING")).toBe(pings);
    await client.close();
    expect(client.impl.terminatedCalls).toBe(1);
  });

  it("terminate from a server message rejects the pending call with ClientTerminated", async () => {
    const setup = await connected();
    const pending = outcome(setup.client.invoke("echo", { text: "x" }, { timeout: 3000 }));
    const go = await setup.server.nextOf("GO");
    const started = Date.now();
    await setup.server.send(go.routingId, { message: "STOP" });
    expect((await pending).error).toBeInstanceOf(ClientTerminated);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(setup.client.terminated).toBe(true);
  });
});

describe("timers", () => {
  it("heartbeat fires every period whatever the traffic", async () => {
    const { server, routingId } = await connected({ heartbeat: 50 });
    const since = server.count("PING");
    const started = Date.now();
    // The server talks more often than the period; if that restarted the heartbeat, none would come.
    while (server.count("PING") - since < 5) {
      expect(Date.now() - started, "five heartbeats while the server chatters").toBeLessThan(10_000);
      await server.send(routingId, { message: "NOTE", text: "chatter" });
      await delay(20);
    }
    // Timers never fire early (a loaded machine only makes them late); the first beat counted may have been
    // on its way when the clock started, so five of them span at least four periods less that one.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 50);
  });

  it("expired repeats every period while the server is silent and is restarted by every message", async () => {
    // A period well above the stalls a loaded 2-core machine shows, so chatter 30 ms apart always beats it.
    const { server, client, routingId } = await connected({ expiry: 300 });
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await client.recv({ timeout: 1000 })).toEqual({ message: "NOTE", text: "expired" });
      times.push(Date.now());
    }
    // One period apart (the first one counts from the constructor, before this test's clock started).
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(285);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(285);
    // A chatty server keeps it from firing.
    const chatStart = Date.now();
    while (Date.now() - chatStart < 900) {
      await server.send(routingId, { message: "NOTE", text: "alive" });
      await delay(30);
    }
    const delivered: string[] = [];
    for (;;) {
      const { value } = await outcome(client.recv({ timeout: 10 }));
      if (value === undefined) break;
      delivered.push(textOf(value));
    }
    expect(delivered.filter((text) => text === "expired").length).toBeLessThanOrEqual(1);
    expect(delivered.filter((text) => text === "alive").length).toBeGreaterThan(10);
    expect(await client.recv({ timeout: 1000 })).toEqual({ message: "NOTE", text: "expired" });
  });
  it("silentPeriods counts the expiry periods in a row without a message, and a message resets it", async () => {
    const server = await startRawServer(resources);
    const client = makeClient(resources, "test_client.xml", {
      ...impl(),
      deliverTimer: (ctx) => ctx.deliver("NOTE", { text: `${ctx.event} ${ctx.silentPeriods}` }),
    }, { logger: testLogger });
    await client.start({ endpoint: server.endpoint, heartbeat: 0, expiry: 150 });
    const hello = await server.nextOf("HELLO");
    expect(await client.recv({ timeout: 2000 })).toEqual({ message: "NOTE", text: "expired 1" });
    expect(await client.recv({ timeout: 2000 })).toEqual({ message: "NOTE", text: "expired 2" });
    await server.send(hello.routingId, { message: "NOTE", text: "alive" });
    // More periods may pass before the message arrives on a loaded machine: the count goes on until it does.
    let periods = 2;
    let next = textOf(await client.recv({ timeout: 2000 }));
    while (next !== "alive") {
      expect(next).toBe(`expired ${++periods}`);
      next = textOf(await client.recv({ timeout: 2000 }));
    }
    expect(await client.recv({ timeout: 2000 })).toEqual({ message: "NOTE", text: "expired 1" });
  });
});

describe("sendEvent", () => {
  it("runs an internal event raised from outside any action, and nothing once the client closed", async () => {
    const logger = new MemoryLogger();
    const { server, client } = await connected({}, "test_client.xml", logger);
    const unexpected = (): string[] => logger.messages("warn").filter((message) => message.startsWith("unexpected"));
    client.sendEvent("fire");
    expect((await server.nextOf("PING")).message).toEqual({ message: "PING" });
    // `*` runs logUnexpected: the way to see whether an event ran at all.
    client.sendEvent("odd");
    await eventually(() => unexpected().length === 1, 5000, "the odd event to run");
    await client.close();
    client.sendEvent("late");
    await settled();
    expect(unexpected()).toEqual(["unexpected odd in connected"]);
  });
});

describe("delivery to the application", () => {
  it("recv() returns delivered messages in order and times out with TimeoutError", async () => {
    const { server, client, routingId } = await connected();
    await expect(client.recv({ timeout: 80 })).rejects.toBeInstanceOf(TimeoutError);
    for (const text of ["one", "two", "three"]) await server.send(routingId, { message: "NOTE", text });
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) texts.push(textOf(await client.recv({ timeout: 1000 })));
    expect(texts).toEqual(["one", "two", "three"]);
  });

  it("messages() yields delivered messages and ends when the client closes", async () => {
    const { server, client, routingId } = await connected({}, "bare_client.xml");
    const seen: string[] = [];
    const reading = (async () => {
      for await (const message of client.messages()) seen.push(textOf(message));
    })();
    for (const text of ["one", "two", "three"]) await server.send(routingId, { message: "NOTE", text });
    await eventually(() => seen.length === 3, 2000, "three messages");
    await client.close();
    await reading;
    expect(seen).toEqual(["one", "two", "three"]);
  });
});

describe("connection", () => {
  it("ctx.reconnect() opens a new DEALER: the server sees a new peer, and the old one is gone", async () => {
    const { server, client, routingId } = await connected();
    expect(await client.invoke("reconnect")).toBeUndefined();
    const hello = await server.nextOf("HELLO");
    expect(hello.routingId.equals(routingId)).toBe(false);
    // Answers to the old routing id go nowhere; the new one works.
    const ping = outcome(client.invoke("probe", {}, { timeout: 1000 }));
    const received = await server.nextOf("PING");
    expect(received.routingId).toEqual(hello.routingId);
    await server.send(routingId, { message: "PONG" });
    await delay(100);
    await server.send(received.routingId, { message: "PONG" });
    expect(await ping).toEqual({ value: undefined });
  });

  it("drops malformed messages from the server (logged) and keeps working", async () => {
    const logger = new MemoryLogger();
    const { server, client, routingId } = await connected({}, "test_client.xml", logger);
    await server.socket.send([routingId, Buffer.from([0xaa, 0xa9, 0x05])]);
    await server.socket.send([routingId, Buffer.from([0xaa, 0xa1, 0x04])]);
    await server.socket.send([routingId, Buffer.from("garbage"), Buffer.from("more")]);
    const ping = client.invoke("probe", {}, { timeout: 1000 });
    await server.send((await server.nextOf("PING")).routingId, { message: "PONG" });
    expect(await ping).toBeUndefined();
    expect(logger.messages("warn").some((message) => message.startsWith("dropped a malformed message"))).toBe(true);
    expect(client.terminated).toBe(false);
  });
});

describe("a full send queue", () => {
  // Regression: 0 refused every message, and NaN bounded nothing.
  it("is bounded by a sendQueueLimit that is a whole number of messages, at least one", () => {
    for (const sendQueueLimit of [0, -1, 2.5, Number.NaN]) {
      expect(() => new TestClient("bare_client.xml", impl(), { logger: testLogger, sendQueueLimit })).toThrow(/sendQueueLimit must be an integer from 1 to/);
      expect(() => makeServer(resources, "plain_server.xml", { createClient: () => ({}) }, { logger: testLogger, sendQueueLimit })).toThrow(/sendQueueLimit must be an integer from 1 to/);
    }
  });

  it("refuses the message that finds it full: the sender learns it, as an action failure or a throw", async () => {
    const failures: ActionFailed[] = [];
    const client = makeClient(resources, "bare_client.xml", impl(), { logger: testLogger, sendQueueLimit: 5, onActionFailed: (failure) => failures.push(failure) });
    // No server: nothing goes out. HELLO is being handed to ZeroMQ, five PINGs wait behind it.
    await client.start({ endpoint: await freeEndpoint() });
    for (let i = 0; i < 5; i++) await client.invoke("fire");
    expect(failures).toEqual([]);
    // A call waiting for a reply ends at once, with the action failure.
    const probe = await outcome(client.invoke("probe", {}, { timeout: 5000 }));
    expect(probe.error).toBeInstanceOf(ActionFailed);
    expect((probe.error as ActionFailed).cause).toBeInstanceOf(SendQueueFull);
    expect(failures.map((failure) => failure.action)).toEqual(["send PING"]);
    expect((failures[0].cause as SendQueueFull).message).toBe("PING not sent: the send queue holds 5 messages waiting for the server (sendQueueLimit)");
    // A message sent without an event (a <send> method) throws to its caller.
    expect(() => client.sendAtOnce({ message: "GO", text: "one too many" })).toThrow(SendQueueFull);
  });
});
