/**
 * Engine benchmark: request/reply throughput (PING → PONG) through the generated hello server with its
 * hand-written actions, side by side in one run with a raw zeromq.js ROUTER echo serving the same traffic.
 * The load comes from pipelined DEALER clients in a worker thread; runs alternate between the two servers
 * and the figures are medians.
 *
 * @packageDocumentation
 */
import { Worker } from "node:worker_threads";
import { Router, context } from "zeromq";
import { encode } from "../generated/hello/hello_msg.js";
import { createHelloServer } from "../protocols/hello/server.js";
import { silentLogger } from "../runtime/engine/log.js";
import { measureIdle } from "./engine-idle.js";
import type { LoadRequest, LoadResult } from "./engine-load.js";
import { machineInfo } from "./machine.js";
import { formatRate, formatRatio, table } from "./report.js";
import type { Benchmark, Json } from "./types.js";

const RUNS = 5;
const CLIENTS = 8;
const WINDOW = 32;
const DURATION_MS = 1500;
const IDLE_CLIENTS = 10_000;

/** A server under test: start it, then stop it. */
interface Subject {
  readonly name: string;
  start(): Promise<{ endpoint: string; stop: () => Promise<void> }>;
}

const engine: Subject = {
  name: "generated hello server",
  async start() {
    const server = createHelloServer({ logger: silentLogger });
    const endpoint = await server.bind("tcp://127.0.0.1:*");
    return { endpoint, stop: () => server.close() };
  },
};

const rawEcho: Subject = {
  name: "raw zeromq.js ROUTER echo",
  async start() {
    const router = new Router({ linger: 0 });
    await router.bind("tcp://127.0.0.1:*");
    const loop = (async () => {
      try {
        for await (const frames of router) await router.send(frames);
      } catch {
        // closed
      }
    })();
    return {
      endpoint: router.lastEndpoint!,
      stop: async () => {
        router.close();
        await loop;
      },
    };
  },
};

function load(endpoint: string): Promise<LoadResult> {
  const request: LoadRequest = {
    endpoint, clients: CLIENTS, window: WINDOW, durationMs: DURATION_MS,
    hello: encode({ message: "HELLO", name: "bench" })[0], ping: encode({ message: "PING" })[0],
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./engine-load.js", import.meta.url), { workerData: request });
    let outcome: LoadResult | { error: string } = { error: "the load worker exited without a result" };
    worker.once("message", (result: LoadResult | { error: string }) => (outcome = result));
    worker.once("error", reject);
    // The worker closes its sockets and exits by itself: terminating it under libzmq's feet can abort.
    worker.once("exit", () => ("error" in outcome ? reject(new Error(outcome.error)) : resolve(outcome)));
  });
}

async function measure(subject: Subject): Promise<number> {
  const { endpoint, stop } = await subject.start();
  try {
    const result = await load(endpoint);
    if (result.replies === 0) throw new Error(`${subject.name} answered nothing`);
    return result.replies / result.seconds;
  } finally {
    await stop();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

export const engineBenchmark: Benchmark = {
  name: "engine",
  description: `PING/PONG round trips per second through the generated hello server vs a raw ROUTER echo (${CLIENTS} clients, ${WINDOW} in flight each)`,
  async run(): Promise<Json> {
    // libzmq fixes the socket limit (1023 by default) when a context opens its first socket; the idle part
    // needs ten thousand, so raise it before anything here opens one.
    context.maxSockets = Math.max(context.maxSockets, IDLE_CLIENTS + 64);
    console.log(`engine: ${this.description}`);
    const rates: Record<string, number[]> = { [engine.name]: [], [rawEcho.name]: [] };
    for (let run = 0; run < RUNS; run++) {
      // Alternate the order so that neither side always runs on a warmer machine.
      const order = run % 2 === 0 ? [engine, rawEcho] : [rawEcho, engine];
      for (const subject of order) rates[subject.name].push(await measure(subject));
      console.log(`  run ${run + 1}/${RUNS}: engine ${formatRate(rates[engine.name][run])}/s, raw ${formatRate(rates[rawEcho.name][run])}/s`);
    }
    const engineMedian = median(rates[engine.name]);
    const rawMedian = median(rates[rawEcho.name]);
    const ratio = engineMedian / rawMedian;
    console.log(table(["server", "median round trips/s"], [
      [engine.name, formatRate(engineMedian)],
      [rawEcho.name, formatRate(rawMedian)],
      ["ratio engine/raw", formatRatio(ratio)],
    ]));
    const idle = await measureIdle(IDLE_CLIENTS);
    console.log(`  ${idle.clients} idle clients: ${idle.heapBytesPerClient} heap bytes per client, ` +
      `${(idle.idleCpuShare * 100).toFixed(2)}% of a core over ${idle.idleSeconds.toFixed(1)} s idle`);
    return {
      benchmark: "engine",
      timestamp: new Date().toISOString(),
      machine: machineInfo(),
      settings: { clients: CLIENTS, window: WINDOW, durationMs: DURATION_MS, runs: RUNS, statistic: "median round trips/s over runs" },
      runs: rates,
      medians: { engine: engineMedian, raw: rawMedian },
      ratio,
      target: { ratio: 0.8, met: ratio >= 0.8 },
      idle: { ...idle },
    };
  },
};
