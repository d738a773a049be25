/**
 * The Majordomo broker on real sockets, driven by raw DEALER peers that send the exact frames of RFC 7:
 * routing, queues, MMI, heartbeats and liveness, configuration, and every failure of the Guide's brokers
 * (docs/majordomo.md, "Where the Guide's brokers fail and ours holds"), which ours must survive without
 * disturbing other peers.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { createBroker } from "../../protocols/majordomo/broker.js";
import { DEFAULT_BROKER_SETTINGS } from "../../protocols/majordomo/settings.js";
import { eventually, sleep, testLogger } from "../support/engines.js";
import { settled } from "../engine/support.js";
import { FAST, LIVENESS_WINDOW_MS, RawPeer, Teardown, ask, frames, keepAlive, kind, mdp, openConnections, rawWorker, serveOne, startBroker } from "./support.js";

const teardown = new Teardown();
afterEach(() => teardown.run());


describe("routing", () => {
  it("carries a request to a worker and its reply back, with the frames of RFC 7", async () => {
    const { endpoint } = await startBroker(teardown);
    const worker = await rawWorker(teardown, endpoint, "echo");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "hello", "", "world"));
    const request = await worker.next();
    expect(request.slice(0, 3)).toEqual(frames("", "MDPW01", "\x02"));
    expect(request[3].length).toBe(5); // libzmq's generated routing id of the client
    expect(request.slice(4)).toEqual(frames("", "hello", "", "world"));
    await worker.send(mdp.reply(request[3], "HELLO", "WORLD"));
    expect(await client.next()).toEqual(frames("", "MDPC01", "echo", "HELLO", "WORLD"));
  });

  it("queues requests until a worker comes, then serves them in arrival order", async () => {
    const { endpoint, broker } = await startBroker(teardown);
    const client = new RawPeer(teardown, endpoint);
    for (const n of ["1", "2", "3"]) await client.send(mdp.request("slow", n));
    await eventually(() => broker.services().some((service) => service.name === "slow" && service.queued === 3), 5000, "three queued requests");
    const worker = await rawWorker(teardown, endpoint, "slow");
    const served: string[][] = [];
    for (let i = 0; i < 3; i++) served.push(await serveOne(worker));
    expect(served).toEqual([["1"], ["2"], ["3"]]);
    const replies = [await client.next(), await client.next(), await client.next()].map((reply) => reply[3].toString());
    expect(replies).toEqual(["1", "2", "3"]);
  });

  it("serves a burst of requests past the per-peer limits (1,000 queued messages) in order, at the worker's pace", async () => {
    const { endpoint, broker, log } = await startBroker(teardown);
    const client = new RawPeer(teardown, endpoint);
    const count = 3000;
    for (let n = 0; n < count; n++) await client.send(mdp.request("slow", String(n)));
    await eventually(() => broker.services()[0]?.queued === count, 10_000, "the burst to be queued");
    // An echo worker that answers each request as it comes: the broker gives it one at a time.
    const worker = new Dealer({ linger: 0 });
    teardown.add(() => worker.close());
    worker.connect(endpoint);
    await worker.send(mdp.ready("slow"));
    void (async () => {
      for await (const [, , command, address, , ...body] of worker) if (command[0] === 2) await worker.send(mdp.reply(address, ...body));
    })().catch(() => undefined);
    await eventually(() => client.inbox.length === count, 20_000, "every reply");
    expect(client.inbox.map((reply) => reply[3].toString())).toEqual(Array.from({ length: count }, (_, n) => String(n)));
    expect(log.messages("warn")).toEqual([]);
  });

  it("gives each request to the worker idle longest", async () => {
    const { endpoint, broker } = await startBroker(teardown);
    const first = await rawWorker(teardown, endpoint, "echo");
    await eventually(() => broker.services()[0]?.idle === 1, 5000, "the first worker");
    const second = await rawWorker(teardown, endpoint, "echo");
    await eventually(() => broker.services()[0]?.idle === 2, 5000, "the second worker");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "a"));
    expect(await serveOne(first)).toEqual(["a"]);
    await client.next();
    // The first worker is idle again, but the second has waited longer.
    await client.send(mdp.request("echo", "b"));
    expect(await serveOne(second)).toEqual(["b"]);
    await client.next();
    expect(await first.nothingFor(100)).toEqual([]);
  });

  it("keeps services apart", async () => {
    const { endpoint } = await startBroker(teardown);
    const echo = await rawWorker(teardown, endpoint, "echo");
    const upper = await rawWorker(teardown, endpoint, "upper");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("upper", "x"));
    expect(await serveOne(upper, (body) => body.map((text) => text.toUpperCase()))).toEqual(["x"]);
    expect(await client.next()).toEqual(frames("", "MDPC01", "upper", "X"));
    expect(await echo.nothingFor(100)).toEqual([]);
  });
});

describe("MMI (RFC 8)", () => {
  it("answers mmi.service with 200 while a live worker serves the name, 404 otherwise, and 501 for other mmi.*", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    const client = new RawPeer(teardown, endpoint);
    expect(await ask(client, "mmi.service", "echo")).toEqual(["MDPC01", "mmi.service", "404"]);
    const worker = await rawWorker(teardown, endpoint, "echo");
    keepAlive(teardown, worker);
    await eventually(() => worker.count("HEARTBEAT") > 0, 5000, "the worker to be registered");
    expect(await ask(client, "mmi.service", "echo")).toEqual(["MDPC01", "mmi.service", "200"]);
    // Earlier body frames come back unchanged; the last is the question and becomes the answer.
    expect(await ask(client, "mmi.service", "keep", "echo")).toEqual(["MDPC01", "mmi.service", "keep", "200"]);
    expect(await ask(client, "mmi.workers", "echo")).toEqual(["MDPC01", "mmi.workers", "501"]);
    worker.close();
    // Gone: forgotten at the first HEARTBEAT that finds no connection (the server engine ends the session of a
    // peer that left), at the latest once silent for heartbeat × liveness; no longer served.
    const closed = Date.now();
    let answer = "200";
    while (answer === "200" && Date.now() - closed < 5000) answer = (await ask(client, "mmi.service", "echo"))[2];
    expect(answer).toBe("404");
  });

  it("refuses workers for mmi.* services (B7) and never creates such a service", async () => {
    const { endpoint, broker } = await startBroker(teardown);
    const worker = await rawWorker(teardown, endpoint, "mmi.service");
    expect(kind(await worker.next())).toBe("DISCONNECT");
    const client = new RawPeer(teardown, endpoint);
    expect(await ask(client, "mmi.service", "mmi.service")).toEqual(["MDPC01", "mmi.service", "404"]);
    expect(broker.services()).toEqual([]);
  });
});

describe("heartbeats and liveness", () => {
  it("heartbeats idle workers, keeps those that answer, and purges every silent one (B13-B15, M7)", async () => {
    const { endpoint, broker } = await startBroker(teardown, FAST);
    // The live worker is first in the idle line; the dead one behind it must be purged all the same.
    const live = await rawWorker(teardown, endpoint, "echo");
    keepAlive(teardown, live);
    await eventually(() => broker.services()[0]?.idle === 1, 5000, "the live worker");
    const silent = await rawWorker(teardown, endpoint, "echo");
    await eventually(() => broker.services()[0]?.idle === 2, 5000, "the silent worker");
    await eventually(() => silent.count("DISCONNECT") === 1, 5000, "the silent worker to be disconnected");
    expect(silent.count("HEARTBEAT")).toBeGreaterThanOrEqual(1);
    expect(broker.services()[0]).toMatchObject({ workers: 1, idle: 1 });
    // Alive past another liveness window, and it gets the work.
    await sleep(LIVENESS_WINDOW_MS * 1.5);
    expect(live.count("DISCONNECT")).toBe(0);
    expect(live.count("HEARTBEAT")).toBeGreaterThanOrEqual(5);
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "ping"));
    expect(await serveOne(live)).toEqual(["ping"]);
    expect(kind(await client.next())).toBe("CLIENT MESSAGE");
  });

  it("redelivers a request held by a worker that dies silently, once busy_timeout has passed (B12, B13)", async () => {
    const { endpoint, log } = await startBroker(teardown, { ...FAST, "broker/busy_timeout": 300 });
    const doomed = await rawWorker(teardown, endpoint, "echo");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "job"));
    expect(kind(await doomed.next())).toBe("WORKER REQUEST");
    doomed.close();
    const rescuer = await rawWorker(teardown, endpoint, "echo");
    keepAlive(teardown, rescuer);
    expect(await serveOne(rescuer)).toEqual(["job"]);
    expect((await client.next()).slice(2)).toEqual(frames("echo", "job"));
    expect(log.messages("info").some((line) => line.includes("goes to another worker"))).toBe(true);
  });

  it("gives a busy worker that heartbeats the short liveness window, not busy_timeout", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    const beating = await rawWorker(teardown, endpoint, "echo");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "job"));
    expect(kind(await beating.next())).toBe("WORKER REQUEST");
    // Two HEARTBEATs while it holds the request: one alone could have crossed the request on the wire.
    await beating.send(mdp.heartbeat());
    await beating.send(mdp.heartbeat());
    beating.close();
    // busy_timeout is 15 minutes; a worker that heartbeats while busy is dead after a liveness window of silence.
    const rescuer = await rawWorker(teardown, endpoint, "echo");
    keepAlive(teardown, rescuer);
    expect(await serveOne(rescuer)).toEqual(["job"]);
    expect((await client.next()).slice(3)).toEqual(frames("job"));
  });

  it("keeps a Guide worker whose HEARTBEAT crossed its request busy for busy_timeout, not the liveness window", async () => {
    // The Guide's workers heartbeat while they wait and never while they work: a HEARTBEAT sent just before
    // the request reached the worker arrives while the broker counts it busy, and says nothing about the work.
    // A short window (300 ms) is safe here: a pause of the machine could only delay a purge, not cause one.
    const { endpoint, log } = await startBroker(teardown, { "broker/heartbeat": 100, "broker/liveness": 3 });
    const guide = await rawWorker(teardown, endpoint, "echo");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "job"));
    const request = await guide.next();
    expect(kind(request)).toBe("WORKER REQUEST");
    await guide.send(mdp.heartbeat());
    // Computing, silent for three liveness windows.
    expect(await guide.nothingFor(900)).toEqual([]);
    await guide.send(mdp.reply(request[3], "done"));
    expect((await client.next()).slice(3)).toEqual(frames("done"));
    expect(guide.count("DISCONNECT")).toBe(0);
    expect(log.messages("info").some((line) => line.includes("silent too long"))).toBe(false);
  });

  it("sends HEARTBEAT to busy workers too with heartbeat_busy = 1", async () => {
    const { endpoint } = await startBroker(teardown, { ...FAST, "broker/heartbeat_busy": 1 });
    const worker = await rawWorker(teardown, endpoint, "echo");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "job"));
    await worker.next();
    const before = worker.count("HEARTBEAT");
    await eventually(() => worker.count("HEARTBEAT") >= before + 2, 5000, "heartbeats while busy");
  });
});

describe("where the Guide's brokers fail, ours holds", () => {
  /** An echo round trip through a fresh worker and client: the broker still serves everyone else. */
  async function stillServes(endpoint: string, service = "other"): Promise<void> {
    const worker = await rawWorker(teardown, endpoint, service);
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request(service, "still here"));
    await serveOne(worker);
    expect((await client.next()).slice(2)).toEqual(frames(service, "still here"));
  }

  it("drops a request without a body (B2, M1)", async () => {
    const { endpoint, log } = await startBroker(teardown);
    const worker = await rawWorker(teardown, endpoint, "echo");
    const client = new RawPeer(teardown, endpoint);
    await client.send(frames("", "MDPC01", "echo"));
    await eventually(() => log.messages("warn").some((line) => line.includes("body")), 5000, "the drop to be logged");
    expect(await worker.nothingFor(100)).toEqual([]);
    await client.send(mdp.request("echo", "fine"));
    expect(await serveOne(worker)).toEqual(["fine"]);
  });

  it("disconnects a worker that says READY twice and forgets it everywhere (B8, M2)", async () => {
    const { endpoint, broker } = await startBroker(teardown, FAST);
    const worker = await rawWorker(teardown, endpoint, "echo");
    await worker.send(mdp.ready("echo"));
    expect(kind(await worker.next())).toBe("DISCONNECT");
    await eventually(() => broker.services()[0]?.workers === 0, 5000, "the worker to be deleted");
    // Past the purge that crashes the Python broker (one liveness window later).
    await sleep(LIVENESS_WINDOW_MS * 1.2);
    const client = new RawPeer(teardown, endpoint);
    expect(await ask(client, "mmi.service", "echo")).toEqual(["MDPC01", "mmi.service", "404"]);
    await stillServes(endpoint);
  });

  it("redelivers once the request of a busy worker that says DISCONNECT, then drops it with a warning (B11, B12, M3, M6)", async () => {
    const { endpoint, log } = await startBroker(teardown);
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "job"));
    const first = await rawWorker(teardown, endpoint, "echo");
    expect(kind(await first.next())).toBe("WORKER REQUEST");
    await first.send(mdp.disconnect());
    const second = await rawWorker(teardown, endpoint, "echo");
    const again = await second.next();
    expect(again.slice(5)).toEqual(frames("job"));
    await second.send(mdp.disconnect());
    await eventually(() => log.messages("warn").some((line) => line.includes("request dropped")), 5000, "the drop to be logged");
    const warning = log.lines.find((line) => line.message.includes("request dropped"));
    expect(warning?.fields).toMatchObject({ service: "echo" });
    expect(await first.nothingFor(100)).toEqual([]);
    await stillServes(endpoint);
  });

  it("does not redeliver with redeliver = 0 (at-most-once services)", async () => {
    const { endpoint, log } = await startBroker(teardown, { "broker/redeliver": 0 });
    const client = new RawPeer(teardown, endpoint);
    const first = await rawWorker(teardown, endpoint, "echo");
    await client.send(mdp.request("echo", "job"));
    await first.next();
    await first.send(mdp.disconnect());
    const second = await rawWorker(teardown, endpoint, "echo");
    await eventually(() => log.messages("warn").some((line) => line.includes("request dropped")), 5000, "the drop to be logged");
    expect(await second.nothingFor(200)).toEqual([]);
  });

  // Regression: a WORKER REQUEST that found its worker already gone counted as a delivery, so with
  // redeliver = 0 the request was dropped although no worker ever had it.
  it("re-queues, without counting a delivery, a request whose worker was gone before it reached it (B12)", async () => {
    // No heartbeat in the test's time: the WORKER REQUEST is the first message that finds the worker gone.
    const { endpoint, broker, log } = await startBroker(teardown, { "broker/heartbeat": 60_000, "broker/redeliver": 0 });
    const port = Number(endpoint.split(":").at(-1));
    const before = openConnections(port);
    const gone = await rawWorker(teardown, endpoint, "echo");
    await eventually(() => broker.services()[0]?.idle === 1, 5000, "the worker to be registered");
    const [worker] = [...openConnections(port)].filter((remote) => !before.has(remote));
    expect(worker).toBeGreaterThan(0);
    gone.close();
    // libzmq closed its end: the broker's socket hears of it before anything a new peer sends.
    await eventually(() => !openConnections(port).has(worker), 5000, "the broker to close the worker's connection");
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "job"));
    await eventually(() => broker.services()[0]?.workers === 0, 5000, "the worker to be forgotten");
    expect(broker.services()[0]).toMatchObject({ queued: 1 });
    expect(log.messages("info")).toContain("worker gone before its request reached it: the request goes back to its queue");
    const rescuer = await rawWorker(teardown, endpoint, "echo");
    expect(await serveOne(rescuer)).toEqual(["job"]);
    expect((await client.next()).slice(2)).toEqual(frames("echo", "job"));
    expect(log.messages("warn").filter((line) => line.includes("request dropped"))).toEqual([]);
  });

  it("re-queues, without counting a delivery, a request that found its worker's queue full (B12)", async () => {
    // Over inproc a worker's queue is the broker's high-water mark plus the worker's: two messages here.
    const { endpoint, broker, log } = await startBroker(teardown, { "broker/heartbeat": 60_000, "broker/redeliver": 0 }, { sendHighWaterMark: 1 });
    const inproc = `inproc://broker-not-reading-${process.pid}`;
    await broker.bind(inproc);
    // A worker that never reads (a RawPeer would).
    const unread = new Dealer({ linger: 0, receiveHighWaterMark: 1 });
    teardown.add(() => unread.close());
    unread.connect(inproc);
    await unread.send(mdp.ready("echo"));
    await eventually(() => broker.services()[0]?.idle === 1, 5000, "the worker to be registered");
    // The worker answers without reading, until a request finds its queue full.
    const client = new RawPeer(teardown, endpoint, { routingId: "client" });
    for (let n = 1; broker.services()[0]?.workers === 1; n++) {
      if (n > 10) throw new Error("the worker's queue never filled");
      await client.send(mdp.request("echo", `job ${n}`));
      await eventually(() => broker.services()[0]?.idle === 0, 5000, `job ${n} to be dispatched`);
      await settled();
      if (broker.services()[0]?.workers === 0) break;
      await unread.send(mdp.reply(Buffer.from("client"), `done ${n}`));
      expect((await client.next()).slice(3)).toEqual(frames(`done ${n}`));
    }
    expect(broker.services()[0]).toMatchObject({ queued: 1, workers: 0 });
    expect(log.messages("info")).toContain("worker gone before its request reached it: the request goes back to its queue");
    const rescuer = await rawWorker(teardown, endpoint, "echo");
    expect(await serveOne(rescuer)).toEqual([expect.stringMatching(/^job \d+$/)]);
    expect(log.messages("warn").filter((line) => line.includes("request dropped"))).toEqual([]);
  });

  it("survives malformed and truncated frame sequences from every kind of peer (B1)", async () => {
    const { endpoint, broker } = await startBroker(teardown);
    // Frames that are no MDP/0.1 message at all get no answer, whoever sends them.
    const stranger = new RawPeer(teardown, endpoint);
    for (const garbage of [
      frames("garbage"), frames(""), frames("", ""), frames("", "MDPW01"), frames("", "MDPW01", "\x09"), frames("", "MDPW01", "\x01"),
      frames("", "MDPW01", "\x01", "a", "b"), frames("", "MDPW01", "\x03", "x"), frames("", "MDPW01", "\x02", "x", "y", "z"),
      frames("", "MDPC01"), frames("", "MDPC01", Buffer.from([0xff, 0xfe]), "x"), frames("", "MDPC01", "\x07bell", "x"), frames("", "MDPC01", "", "x"),
      frames("MDPC01", "echo", "x"), frames("", "MDPC02", "echo", "x"), frames("", "MDPW01", "\x04", "extra"),
    ]) await stranger.send(garbage);
    // A registered worker that sends garbage is disconnected and forgotten.
    const worker = await rawWorker(teardown, endpoint, "echo");
    await eventually(() => broker.services().some((service) => service.workers === 1), 5000, "the worker");
    await worker.send(frames("", "MDPW01", "\x03"));
    expect(kind(await worker.next())).toBe("DISCONNECT");
    await eventually(() => broker.services().every((service) => service.workers === 0), 5000, "the worker to be deleted");
    // Workers that skip READY are told to go away (RFC 7: an unexpected command).
    const early = new RawPeer(teardown, endpoint);
    await early.send(mdp.heartbeat());
    expect(kind(await early.next())).toBe("DISCONNECT");
    const late = new RawPeer(teardown, endpoint);
    await late.send(mdp.reply(Buffer.from("nobody"), "late"));
    expect(kind(await late.next())).toBe("DISCONNECT");
    const impostor = new RawPeer(teardown, endpoint);
    await impostor.send(mdp.workerRequest(Buffer.from("x"), "y"));
    expect(kind(await impostor.next())).toBe("DISCONNECT");
    await stillServes(endpoint);
    expect(stranger.inbox).toEqual([]);
    // The requests for an empty or unprintable service name were dropped, not queued.
    expect(broker.services().map((service) => service.name).sort()).toEqual(["echo", "other"]);
  });

  it("rate-limits what it logs about bad messages, so one peer cannot flood the log (B1)", async () => {
    const { endpoint, log } = await startBroker(teardown);
    const client = new RawPeer(teardown, endpoint);
    const started = Date.now();
    await client.send(mdp.request("svc", "first"));
    for (let i = 0; i < 200; i++) {
      await client.send(frames("", "MDPC01", "svc")); // no body: malformed
      await client.send(mdp.heartbeat()); // a worker command from a client
      await client.send(mdp.request("\x07", "x")); // a service name that is not printable
    }
    // Peers that start with a bad message: each one is a new session, which must not reset the limit.
    const strangers = Array.from({ length: 5 }, () => new RawPeer(teardown, endpoint));
    for (let i = 0; i < 40; i++) for (const stranger of strangers) await stranger.send(mdp.reply(Buffer.from("x"), "y"));
    await eventually(() => strangers.every((stranger) => stranger.count("DISCONNECT") === 40), 10_000, "every DISCONNECT");
    const warnings = log.lines.filter((line) => line.level === "warn").length;
    // Three kinds of bad message (malformed, unexpected, bad name), each at most 10 lines a second.
    expect(warnings).toBeLessThanOrEqual(3 * 10 * (Math.ceil((Date.now() - started) / 1000) + 1));
    await stillServes(endpoint);
    // What was held back is counted in the next line of its kind.
    await sleep(1100);
    await client.send(frames("", "MDPC01", "svc"));
    await eventually(() => log.lines.some((line) => Number(line.fields?.suppressed ?? 0) > 0), 5000, "a line counting what was suppressed");
  });

  it("disconnects a worker that replies for a client it does not serve, and redelivers the request (B10)", async () => {
    const { endpoint } = await startBroker(teardown);
    const client = new RawPeer(teardown, endpoint);
    const liar = await rawWorker(teardown, endpoint, "echo");
    await client.send(mdp.request("echo", "job"));
    await liar.next();
    await liar.send(mdp.reply(Buffer.from("someone"), "forged"));
    expect(kind(await liar.next())).toBe("DISCONNECT");
    const honest = await rawWorker(teardown, endpoint, "echo");
    expect(await serveOne(honest)).toEqual(["job"]);
    expect((await client.next()).slice(3)).toEqual(frames("job"));
  });

  it("carries on when a client disappears before its reply", async () => {
    const { endpoint } = await startBroker(teardown);
    const worker = await rawWorker(teardown, endpoint, "echo");
    const gone = new RawPeer(teardown, endpoint);
    await gone.send(mdp.request("echo", "for nobody"));
    const request = await worker.next();
    gone.close();
    await worker.send(mdp.reply(request[3], "unheard"));
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("echo", "next"));
    expect(await serveOne(worker)).toEqual(["next"]);
    expect((await client.next()).slice(3)).toEqual(frames("next"));
    expect(worker.count("DISCONNECT")).toBe(0);
  });

  it("expires requests for a service without workers (B5, M5)", async () => {
    const { endpoint, log, broker } = await startBroker(teardown, { ...FAST, "broker/request_expiry": 200 });
    const client = new RawPeer(teardown, endpoint);
    await client.send(mdp.request("nobody", "old"));
    await eventually(() => log.messages("warn").some((line) => line.includes("request_expiry")), 5000, "the expiry to be logged");
    expect(broker.services().find((service) => service.name === "nobody")?.queued).toBe(0);
    const worker = await rawWorker(teardown, endpoint, "nobody");
    expect(await worker.nothingFor(200)).toEqual([]);
    await client.send(mdp.request("nobody", "new"));
    expect(await serveOne(worker)).toEqual(["new"]);
  });

  it("bounds each service's queue (B18)", async () => {
    const { endpoint, broker, log } = await startBroker(teardown, { "broker/max_queue": 2 });
    const client = new RawPeer(teardown, endpoint);
    for (const n of ["1", "2", "3"]) await client.send(mdp.request("busy", n));
    await eventually(() => log.messages("warn").some((line) => line.includes("max_queue")), 5000, "the drop to be logged");
    expect(broker.services()[0]?.queued).toBe(2);
    const worker = await rawWorker(teardown, endpoint, "busy");
    expect([await serveOne(worker), await serveOne(worker)]).toEqual([["1"], ["2"]]);
    expect(await worker.nothingFor(100)).toEqual([]);
  });

  it("forgets services without workers or requests after service_expiry (B17)", async () => {
    const { endpoint, broker } = await startBroker(teardown, { ...FAST, "broker/service_expiry": 200 });
    const worker = await rawWorker(teardown, endpoint, "brief");
    await eventually(() => broker.services().length === 1, 5000, "the service");
    await worker.send(mdp.disconnect());
    await eventually(() => broker.services().length === 0, 5000, "the service to expire");
  });
});

describe("configuration (section broker)", () => {
  it("has the spec's defaults", async () => {
    const { broker } = await startBroker(teardown);
    expect(broker.settings).toEqual(DEFAULT_BROKER_SETTINGS);
    expect(DEFAULT_BROKER_SETTINGS).toMatchObject({ heartbeat: 2500, liveness: 3, requestExpiry: 10_000, busyTimeout: 900_000, redeliver: 1, serviceExpiry: 60_000, maxQueue: 10_000, heartbeatBusy: false });
  });

  it("reads a ZPL file, binds broker/bind/endpoint and refuses bad values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mdp-broker-"));
    teardown.add(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "broker.zpl");
    writeFileSync(file, "broker\n    heartbeat = 200\n    liveness = 5\n    redeliver = 0\n    bind\n        endpoint = tcp://127.0.0.1:*\n");
    const broker = teardown.broker(createBroker({ config: file, logger: testLogger }));
    await broker.start();
    expect(broker.settings).toMatchObject({ heartbeat: 200, liveness: 5, redeliver: 0 });
    expect(broker.port).toBeGreaterThan(0);
    expect(() => broker.configure("broker/liveness", "0")).toThrow("configuration broker/liveness must be a whole number from 1");
    expect(() => broker.configure("broker/heartbeat", "fast")).toThrow(/broker\/heartbeat/);
    expect(broker.settings.liveness).toBe(5);
    broker.configure("broker/max_queue", "7");
    expect(broker.settings.maxQueue).toBe(7);
  });
});
