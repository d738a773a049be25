/**
 * The Majordomo APIs on real sockets: Worker, Client and AsyncClient against our broker, and against a raw
 * ROUTER standing in for a broker where a test needs exact control of what the peer sees.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AsyncClient } from "../../protocols/majordomo/async-client.js";
import { Client, RequestTimeout } from "../../protocols/majordomo/client.js";
import { Worker, type WorkerHandler, type WorkerOptions } from "../../protocols/majordomo/worker.js";
import { EngineClosed, SendQueueFull, TimeoutError } from "../../runtime/engine/errors.js";
import { eventually, sleep, testLogger } from "../support/engines.js";
import { FAST, HEARTBEAT_MS, LIVENESS, LIVENESS_WINDOW_MS, RawRouter, Teardown, frames, kind, mdp, startBroker } from "./support.js";

const teardown = new Teardown();
afterEach(() => teardown.run());

const FAST_WORKER: WorkerOptions = { heartbeat: HEARTBEAT_MS, liveness: LIVENESS, reconnect: 100, logger: testLogger };

const echo: WorkerHandler = (body) => body;
const text = (body: readonly Uint8Array[]): string[] => body.map((frame) => Buffer.from(frame).toString());

async function worker(endpoint: string, service: string, handler: WorkerHandler, options: WorkerOptions = FAST_WORKER): Promise<Worker> {
  const started = await Worker.start(endpoint, service, handler, options);
  teardown.add(() => started.close({ timeout: 2000 }));
  return started;
}

async function client(endpoint: string, options: { timeout?: number; retries?: number } = {}): Promise<Client> {
  const connected = await Client.connect(endpoint, { logger: testLogger, ...options });
  teardown.add(() => connected.close({ timeout: 2000 }));
  return connected;
}

describe("Worker and Client", () => {
  it("make an echo round trip through the broker, with text and multi-frame bodies", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    await worker(endpoint, "echo", echo);
    const requester = await client(endpoint);
    expect(text(await requester.request("echo", "hello"))).toEqual(["hello"]);
    expect(text(await requester.request("echo", ["a", Buffer.from("b"), ""]))).toEqual(["a", "b", ""]);
    expect(text(await requester.request("echo", []))).toEqual([""]);
  });

  it("serialise concurrent requests of one client: one outstanding at a time", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    let running = 0;
    let most = 0;
    await worker(endpoint, "count", async (body) => {
      most = Math.max(most, ++running);
      await sleep(20);
      running--;
      return body;
    });
    await worker(endpoint, "count", echo);
    const requester = await client(endpoint);
    const replies = await Promise.all(["1", "2", "3", "4"].map((n) => requester.request("count", n)));
    expect(replies.map(text)).toEqual([["1"], ["2"], ["3"], ["4"]]);
    expect(most).toBe(1);
  });

  it("keep heartbeating while a handler runs longer than the liveness window", async () => {
    // Without heartbeats the worker would be purged after busy_timeout, and then after a liveness window.
    const { endpoint, broker } = await startBroker(teardown, { ...FAST, "broker/busy_timeout": LIVENESS_WINDOW_MS });
    await worker(endpoint, "slow", async (body) => {
      await sleep(LIVENESS_WINDOW_MS * 2.5);
      return body;
    });
    const requester = await client(endpoint, { timeout: 5000, retries: 0 });
    expect(text(await requester.request("slow", "done"))).toEqual(["done"]);
    expect(broker.services()[0]).toMatchObject({ workers: 1, idle: 1 });
  });

  it("stay alive past the broker's liveness window while idle, by heartbeats", async () => {
    const { endpoint, broker } = await startBroker(teardown, FAST);
    const offering = await worker(endpoint, "echo", echo);
    await sleep(LIVENESS_WINDOW_MS * 2.5);
    expect(offering.state).toBe("ready");
    expect(broker.services()[0]).toMatchObject({ workers: 1, idle: 1 });
  });

  it("a handler that throws answers nothing, and the worker goes on", async () => {
    const { endpoint, log } = await startBroker(teardown, FAST);
    let calls = 0;
    await worker(endpoint, "flaky", (body) => {
      calls++;
      if (text(body)[0] === "fail") throw new Error("bad input");
      return body;
    });
    const requester = await client(endpoint, { timeout: 500, retries: 0 });
    const failure = await requester.request("flaky", "fail").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestTimeout);
    expect(failure).toMatchObject({ reason: "no-reply", attempts: 1 });
    // Handed on once (broker/redeliver = 1: here back to the same worker, registered again), then dropped.
    expect(calls).toBe(2);
    expect(log.messages("warn").some((line) => line.includes("request dropped"))).toBe(true);
    expect(text(await requester.request("flaky", "fine"))).toEqual(["fine"]);
  });

  it("close() lets a running handler answer, then says DISCONNECT", async () => {
    const received: string[] = [];
    // Default liveness (7.5 s): the worker is gone at once only because it said DISCONNECT.
    const { endpoint, broker } = await startBroker(teardown, {}, { traceMessages: (direction, message) => direction === "received" && received.push(message.message) });
    const busy = await worker(endpoint, "slow", async (body) => {
      await sleep(300);
      return body;
    });
    const requester = await client(endpoint, { timeout: 5000, retries: 0 });
    const reply = requester.request("slow", "last");
    await eventually(() => busy.state === "working", 5000, "the handler to start");
    await busy.close();
    expect(text(await reply)).toEqual(["last"]);
    await eventually(() => broker.services()[0]?.workers === 0, 5000, "the worker to be gone");
    expect(received.slice(-2)).toEqual(["REPLY", "DISCONNECT"]);
  });

  it("register again after the broker restarts on the same endpoint", async () => {
    const first = await startBroker(teardown, FAST);
    await worker(first.endpoint, "echo", echo);
    const requester = await client(first.endpoint, { timeout: 500, retries: 8 });
    expect(text(await requester.request("echo", "before"))).toEqual(["before"]);
    await first.broker.close();
    const second = teardown.broker((await import("../../protocols/majordomo/broker.js")).createBroker({ logger: testLogger, config: FAST }));
    await second.bind(first.endpoint);
    expect(text(await requester.request("echo", "after"))).toEqual(["after"]);
  });

  it("register again on a new socket when the broker falls silent", async () => {
    const router = await RawRouter.start(teardown);
    const waiting = await worker(router.endpoint, "echo", echo);
    const ready = await router.next();
    expect(ready.slice(1)).toEqual(mdp.ready("echo"));
    await eventually(() => waiting.state === "disconnected", 5000, "the worker to give up on the silent broker");
    const again = await router.next();
    expect(again.slice(1)).toEqual(mdp.ready("echo"));
    expect(again[0].equals(ready[0])).toBe(false);
  });
});

describe("Client failures", () => {
  it("times out with reason no-worker after every attempt, each on a new socket", async () => {
    const { endpoint } = await startBroker(teardown, { ...FAST, "broker/request_expiry": 100 });
    const requester = await client(endpoint, { timeout: 200, retries: 2 });
    const started = Date.now();
    const failure = await requester.request("nobody", "hi").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TimeoutError);
    expect(failure).toMatchObject({ name: "RequestTimeout", reason: "no-worker", attempts: 3, service: "nobody" });
    expect((failure as Error).message).toBe('no worker offers service "nobody" (the broker says 404; 3 attempts of 200 ms)');
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it("times out with reason no-broker when nothing answers", async () => {
    const router = await RawRouter.start(teardown);
    const requester = await client(router.endpoint, { timeout: 100, retries: 1 });
    await expect(requester.request("echo", "hi")).rejects.toMatchObject({ reason: "no-broker", attempts: 2 });
    // Two attempts from two sockets, then the MMI question.
    const seen = [await router.next(), await router.next(), await router.next()];
    expect(seen.map((message) => message[3].toString())).toEqual(["echo", "echo", "mmi.service"]);
    expect(new Set(seen.map((message) => message[0].toString("hex"))).size).toBe(3);
  });

  it("drops replies that name another service, and late replies to earlier attempts", async () => {
    const router = await RawRouter.start(teardown);
    const requester = await client(router.endpoint, { timeout: 300, retries: 1 });
    const reply = requester.request("echo", "hi");
    const first = await router.next();
    await router.send([first[0], ...frames("", "MDPC01", "other", "stray")]);
    const second = await router.next();
    expect(second[0].equals(first[0])).toBe(false);
    // Too late for the first attempt: its socket is gone.
    await router.send([first[0], ...frames("", "MDPC01", "echo", "late")]);
    await router.send([second[0], ...frames("", "MDPC01", "echo", "right")]);
    expect(text(await reply)).toEqual(["right"]);
  });

  it("rejects with the signal's reason when aborted, and serves the next request", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    let release: (() => void) | undefined;
    await worker(endpoint, "gate", async (body) => {
      if (text(body)[0] === "hold") await new Promise<void>((resolve) => (release = resolve));
      return body;
    });
    const requester = await client(endpoint, { timeout: 5000, retries: 0 });
    const controller = new AbortController();
    const held = requester.request("gate", "hold", { signal: controller.signal });
    await eventually(() => release !== undefined, 5000, "the handler to hold");
    controller.abort(new Error("changed my mind"));
    await expect(held).rejects.toThrow("changed my mind");
    release?.();
    // The held reply comes too late for anyone: the next request gets its own.
    expect(text(await requester.request("gate", "next"))).toEqual(["next"]);
  });

  it("refuses bad arguments with a clear error", async () => {
    const router = await RawRouter.start(teardown);
    const requester = await client(router.endpoint);
    await expect(requester.request("", "x")).rejects.toThrow('service name "" must be 1-255 octets of printable text');
    // Names the broker would drop: refused at once, not after every attempt has timed out.
    await expect(requester.request("bell\x07", "x")).rejects.toThrow(RangeError);
    await expect(requester.request("x".repeat(256), "x")).rejects.toThrow(RangeError);
    await expect(requester.request("echo", "x", { timeout: 0 })).rejects.toThrow(RangeError);
    await expect(requester.request("echo", "x", { retries: -1 })).rejects.toThrow("retries must be a whole number");
    await expect(Worker.start(router.endpoint, "mmi.echo", echo)).rejects.toThrow("mmi.* services are the broker's own");
  });
});

describe("AsyncClient", () => {
  it("keeps many requests in flight and gets every reply, in completion order", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    for (let i = 0; i < 4; i++) {
      await worker(endpoint, "echo", async (body) => {
        await sleep(Number(text(body)[0]) % 7);
        return body;
      });
    }
    const requester = await AsyncClient.connect(endpoint, { logger: testLogger });
    teardown.add(() => requester.close({ timeout: 2000 }));
    const sent = Array.from({ length: 50 }, (_, i) => String(i));
    for (const n of sent) requester.send("echo", n);
    expect(requester.outstanding).toBe(50);
    const received: string[] = [];
    for (let i = 0; i < 50; i++) {
      const reply = await requester.recv({ timeout: 5000 });
      expect(reply.service).toBe("echo");
      received.push(text(reply.body)[0]);
    }
    expect(received.sort((a, b) => Number(a) - Number(b))).toEqual(sent);
    expect(requester.outstanding).toBe(0);
  });

  it("refuses service names the broker would drop, and sends after close", async () => {
    const router = await RawRouter.start(teardown);
    const requester = await AsyncClient.connect(router.endpoint, { logger: testLogger });
    teardown.add(() => requester.close({ timeout: 2000 }));
    for (const name of ["", "bell\x07", "x".repeat(256)]) expect(() => requester.send(name, "x")).toThrow(RangeError);
    await requester.close();
    expect(() => requester.send("echo", "x")).toThrow(EngineClosed);
    expect(requester.outstanding).toBe(0);
  });

  // Regression: a synchronous burst of 20,000 sends dropped 10,000 requests with a log line, and counted
  // them all in `outstanding`.
  it("refuses a request its full send queue cannot take, so that the caller knows and outstanding stays true", async () => {
    const router = await RawRouter.start(teardown);
    const requester = await AsyncClient.connect(router.endpoint, { logger: testLogger });
    teardown.add(() => requester.close({ timeout: 2000 }));
    let accepted = 0;
    let refused: unknown;
    for (let i = 0; i < 20_000 && refused === undefined; i++) {
      try {
        requester.send("echo", String(i));
        accepted++;
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(SendQueueFull);
    // The queue's 10,000, and the one being handed to ZeroMQ.
    expect(accepted).toBeGreaterThanOrEqual(10_000);
    expect(accepted).toBeLessThanOrEqual(10_001);
    expect(requester.outstanding).toBe(accepted);
    await eventually(() => router.inbox.length === accepted, 10_000, `${accepted} requests (${router.inbox.length} so far)`);
    expect(router.inbox.map((request) => request.at(-1)?.toString())).toEqual(Array.from({ length: accepted }, (_, i) => String(i)));
    // Once the queue drained, sending works again.
    requester.send("echo", "later");
    expect(requester.outstanding).toBe(accepted + 1);
    expect(kind((await eventually(() => router.inbox.length === accepted + 1, 5000, "the later request"), router.inbox[accepted]).slice(1))).toBe("CLIENT MESSAGE");
  });

  it("drops replies for services with nothing outstanding", async () => {
    const router = await RawRouter.start(teardown);
    const requester = await AsyncClient.connect(router.endpoint, { logger: testLogger });
    teardown.add(() => requester.close({ timeout: 2000 }));
    requester.send("echo", "1");
    const request = await router.next();
    expect(kind(request.slice(1))).toBe("CLIENT MESSAGE");
    await router.send([request[0], ...frames("", "MDPC01", "other", "stray")]);
    await router.send([request[0], ...frames("", "MDPC01", "echo", "1")]);
    const reply = await requester.recv({ timeout: 5000 });
    expect(text(reply.body)).toEqual(["1"]);
    await expect(requester.recv({ timeout: 200 })).rejects.toThrow(TimeoutError);
  });
});
