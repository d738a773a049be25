/**
 * Interop with an independent ZeroMQ stack: Majordomo peers in Python on Debian's python3-zmq
 * (test/fixtures/python/, written from the MDP/0.1 frame tables). A Python client and worker against our
 * broker, and our client and worker against a small Python broker: echo round trips, MMI, heartbeats that
 * keep an idle worker alive past the liveness window, and a worker restarted mid-stream.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../../protocols/majordomo/client.js";
import { Worker } from "../../protocols/majordomo/worker.js";
import { sleep, testLogger } from "../support/engines.js";
import { majordomo, python, pythonZmqMissing, type Running } from "./processes.js";
import { FAST, HEARTBEAT_MS, LIVENESS, LIVENESS_WINDOW_MS, Teardown, startBroker } from "./support.js";

/** The same timings as options of the Python peers and of the CLI worker. */
const TIMING_ARGS = ["--heartbeat", String(HEARTBEAT_MS), "--liveness", String(LIVENESS)];

const FIXTURES = "test/fixtures/python";
const teardown = new Teardown();
afterEach(() => teardown.run());

beforeAll(() => {
  const missing = pythonZmqMissing();
  if (missing !== undefined) throw new Error(`the Python interop tests need Debian's python3-zmq: ${missing}`);
});


function pythonWorker(endpoint: string, service: string, extra: string[] = []): Running {
  return python(teardown, `${FIXTURES}/mdworker.py`, [endpoint, service, ...TIMING_ARGS, "--reconnect", "100", ...extra]);
}

/** Runs the Python client to its end; returns its replies (one JSON line each) and what it logged. */
async function pythonClient(endpoint: string, args: string[]): Promise<{ code: number | null | undefined; replies: { service: string; body: string[] }[]; log: string[] }> {
  const client = python(teardown, `${FIXTURES}/mdclient.py`, [endpoint, ...args]);
  const code = await client.done(60_000);
  const lines = client.stdout.trim().split("\n").filter((line) => line !== "");
  return {
    code,
    replies: lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { service: string; body: string[] }),
    log: lines.filter((line) => !line.startsWith("{")),
  };
}

describe("Python client and worker, our broker", () => {
  it("make echo round trips, from a DEALER client and from a REQ client", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    const worker = pythonWorker(endpoint, "echo", ["--tag", "py:"]);
    await worker.waitFor((process) => process.stdout.includes("READY echo"));
    expect(await pythonClient(endpoint, ["echo", "hello", "world"])).toMatchObject({ code: 0, replies: [{ service: "echo", body: ["py:hello", "world"] }] });
    expect(await pythonClient(endpoint, ["echo", "via REQ", "--req"])).toMatchObject({ code: 0, replies: [{ service: "echo", body: ["py:via REQ"] }] });
    expect(worker.stdout).not.toContain("INVALID");
  });

  it("get MMI answers", async () => {
    const { endpoint } = await startBroker(teardown, FAST);
    const worker = pythonWorker(endpoint, "echo");
    await worker.waitFor((process) => process.stdout.includes("HEARTBEAT"));
    const ask = async (service: string, name: string): Promise<string[]> => (await pythonClient(endpoint, [service, name])).replies[0]?.body ?? [];
    expect(await ask("mmi.service", "echo")).toEqual(["200"]);
    expect(await ask("mmi.service", "nothing")).toEqual(["404"]);
    expect(await ask("mmi.other", "echo")).toEqual(["501"]);
  });

  it("keep an idle worker alive past the liveness window with heartbeats", async () => {
    const { endpoint, broker } = await startBroker(teardown, FAST);
    const worker = pythonWorker(endpoint, "echo");
    await worker.waitFor((process) => process.stdout.includes("READY echo"));
    await sleep(LIVENESS_WINDOW_MS * 2.5);
    expect(worker.stdout.match(/^HEARTBEAT$/gm)?.length ?? 0).toBeGreaterThanOrEqual(5);
    expect(worker.stdout).not.toMatch(/SILENT|DISCONNECT/);
    expect(broker.services()).toEqual([{ name: "echo", queued: 0, workers: 1, idle: 1 }]);
    expect((await pythonClient(endpoint, ["echo", "still there"])).replies[0]?.body).toEqual(["still there"]);
    expect(worker.stdout).not.toContain("INVALID");
  });

  it("lose nothing when a worker crashes holding a request and another starts: the broker redelivers", async () => {
    const { endpoint } = await startBroker(teardown, { ...FAST, "broker/busy_timeout": LIVENESS_WINDOW_MS });
    const first = pythonWorker(endpoint, "echo", ["--crash-on", "5", "--tag", "first:"]);
    await first.waitFor((process) => process.stdout.includes("READY echo"));
    const client = python(teardown, `${FIXTURES}/mdclient.py`, [endpoint, "echo", "msg", "--repeat", "20", "--timeout", "10000", "--retries", "0"]);
    await first.waitFor((process) => process.exitCode !== undefined, 20_000, "the crash");
    expect(first.stdout).toContain("REQUEST 5 msg-4\nCRASH");
    const second = pythonWorker(endpoint, "echo", ["--tag", "second:"]);
    expect(await client.done(60_000)).toBe(0);
    const bodies = client.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { body: string[] }).body[0]);
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `${i < 4 ? "first" : "second"}:msg-${i}`));
    expect(second.stdout).toContain("REQUEST 1 msg-4");
  });
});

describe("our client and worker, Python broker", () => {
  async function pythonBroker(): Promise<{ broker: Running; endpoint: string }> {
    const broker = python(teardown, `${FIXTURES}/mdbroker.py`, TIMING_ARGS);
    await broker.waitFor((process) => /BOUND \S+\n/.test(process.stdout));
    return { broker, endpoint: /BOUND (\S+)\n/.exec(broker.stdout)?.[1] ?? "" };
  }

  async function ourWorker(endpoint: string, service: string, prefix: string): Promise<Worker> {
    const worker = await Worker.start(endpoint, service, (body) => [`${prefix}${Buffer.from(body[0]).toString()}`, ...body.slice(1)], {
      heartbeat: HEARTBEAT_MS, liveness: LIVENESS, reconnect: 100, logger: testLogger,
    });
    teardown.add(() => worker.close({ timeout: 2000 }));
    return worker;
  }

  async function ourClient(endpoint: string): Promise<Client> {
    const client = await Client.connect(endpoint, { logger: testLogger, timeout: 1000, retries: 5 });
    teardown.add(() => client.close({ timeout: 2000 }));
    return client;
  }

  const text = (frames: readonly Uint8Array[]): string[] => frames.map((frame) => Buffer.from(frame).toString());

  it("make echo round trips and get MMI answers", async () => {
    const { broker, endpoint } = await pythonBroker();
    await ourWorker(endpoint, "echo", "ts:");
    await broker.waitFor((process) => process.stdout.includes("READY echo"));
    const client = await ourClient(endpoint);
    expect(text(await client.request("echo", ["hello", "world"]))).toEqual(["ts:hello", "world"]);
    expect(text(await client.request("mmi.service", "echo"))).toEqual(["200"]);
    expect(text(await client.request("mmi.service", "nothing"))).toEqual(["404"]);
    expect(text(await client.request("mmi.other", "echo"))).toEqual(["501"]);
    expect(broker.stdout).not.toContain("INVALID");
  });

  it("keep our idle worker alive past the broker's liveness window with heartbeats", async () => {
    const { broker, endpoint } = await pythonBroker();
    const worker = await ourWorker(endpoint, "echo", "");
    await broker.waitFor((process) => process.stdout.includes("READY echo"));
    await sleep(LIVENESS_WINDOW_MS * 2.5);
    expect(broker.stdout).not.toContain("PURGED");
    expect(broker.stdout.match(/^READY echo$/gm)).toHaveLength(1);
    expect(worker.state).toBe("ready");
    expect(text(await (await ourClient(endpoint)).request("echo", "still there"))).toEqual(["still there"]);
    expect(broker.stdout).not.toContain("INVALID");
  });

  it("lose nothing when our worker is killed mid-request and restarted: the client retries on a new socket", async () => {
    const { broker, endpoint } = await pythonBroker();
    const start = (): Running => majordomo(teardown, ["worker", endpoint, "echo", ...TIMING_ARGS, "--reconnect", "100", "--", "sh", "-c", "sleep 0.1; cat"]);
    let worker = start();
    await broker.waitFor((process) => process.stdout.includes("READY echo"));
    const client = await ourClient(endpoint);
    const replies: string[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = client.request("echo", `msg-${i}`);
      if (i === 6) {
        // The worker holds request 6 (its command sleeps): kill it without a word, start another.
        await sleep(50);
        await worker.stop("SIGKILL");
        worker = start();
      }
      replies.push(text(await reply)[0]);
    }
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `msg-${i}`));
    expect(broker.stdout.match(/^READY echo$/gm)?.length).toBeGreaterThanOrEqual(2);
  });
});
