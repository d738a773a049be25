/**
 * Majordomo benchmark: requests per second through our MDP/0.1 broker, side by side in one run with a raw
 * zeromq.js ROUTER relay forwarding the same traffic (bench/majordomo-broker.ts), in three shapes: one
 * client and one worker in lock-step, 8 clients and 8 workers in lock-step, and one client keeping a
 * window of requests in flight to 4 workers. Each broker runs in a child process of its own (fresh for every
 * run) and the peers, raw DEALERs that answer at once, in this process. Runs alternate between the two
 * brokers; figures are medians; broker RSS is read at the end of each run.
 *
 * @packageDocumentation
 */
import { fork, type ChildProcess } from "node:child_process";
import { Dealer } from "zeromq";
import { machineInfo } from "./machine.js";
import { formatRate, formatRatio, table } from "./report.js";
import type { Benchmark, Json } from "./types.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const WINDOW = 64;
const SERVICE = Buffer.from("echo");
const BODY = Buffer.from("0123456789abcdef");
const EMPTY = Buffer.alloc(0);
const CLIENT = Buffer.from("MDPC01");
const WORKER = Buffer.from("MDPW01");

/** One shape of traffic. */
interface Scenario {
  readonly name: string;
  readonly clients: number;
  readonly workers: number;
  /** Requests each client keeps in flight (1 = lock-step). */
  readonly window: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: "1 client x 1 worker, lock-step", clients: 1, workers: 1, window: 1 },
  { name: "8 clients x 8 workers, lock-step", clients: 8, workers: 8, window: 1 },
  { name: `1 async client (${WINDOW} in flight) x 4 workers`, clients: 1, workers: 4, window: WINDOW },
];

const SUBJECTS = ["ours", "raw"] as const;
type Subject = (typeof SUBJECTS)[number];
const LABELS: Record<Subject, string> = { ours: "our broker", raw: "raw zeromq.js relay" };

/** A broker child process. */
class BrokerProcess {
  private constructor(private readonly child: ChildProcess, readonly endpoint: string) {}

  static start(subject: Subject): Promise<BrokerProcess> {
    const child = fork(new URL("./majordomo-broker.js", import.meta.url), [subject], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      child.once("message", (message: { endpoint?: string }) => resolve(new BrokerProcess(child, message.endpoint ?? "")));
      child.once("exit", (code) => reject(new Error(`the ${subject} broker exited with ${code}`)));
    });
  }

  /** Its resident memory and the CPU time (user + system, µs) it used so far. */
  stats(): Promise<{ rss: number; cpuMicros: number }> {
    return new Promise((resolve) => {
      this.child.once("message", (message: { rss: number; cpuMicros: number }) => resolve(message));
      this.child.send("stats");
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.send("stop");
    });
  }
}

/** A raw worker: READY, then answers every request at once with its body. */
function worker(endpoint: string): Dealer {
  const socket = new Dealer({ linger: 0 });
  socket.connect(endpoint);
  void (async () => {
    await socket.send([EMPTY, WORKER, Buffer.of(1), SERVICE]);
    try {
      for await (const [, , command, client, , ...body] of socket) {
        if (command[0] === 2) await socket.send([EMPTY, WORKER, Buffer.of(3), client, EMPTY, ...body]);
      }
    } catch {
      // closed
    }
  })();
  return socket;
}

/** A raw client keeping `window` requests in flight until `deadline`; resolves with the replies it got. */
async function client(endpoint: string, window: number, deadline: () => number, start: Promise<void>): Promise<number> {
  const socket = new Dealer({ linger: 0 });
  socket.connect(endpoint);
  await start;
  const request = [EMPTY, CLIENT, SERVICE, BODY];
  for (let i = 0; i < window; i++) await socket.send(request);
  let replies = 0;
  try {
    while (Date.now() < deadline()) {
      await socket.receive();
      replies++;
      await socket.send(request);
    }
  } finally {
    socket.close();
  }
  return replies;
}

/** What one run measured. */
interface RunResult {
  readonly rate: number;
  /** The broker's RSS after the run. */
  readonly rss: number;
  /** The broker's CPU time per request (µs): unlike the rate, it hardly depends on what else the machine runs. */
  readonly cpuPerRequest: number;
}

/** One run of a scenario against a fresh broker. */
async function measure(subject: Subject, scenario: Scenario): Promise<RunResult> {
  const broker = await BrokerProcess.start(subject);
  const workers = Array.from({ length: scenario.workers }, () => worker(broker.endpoint));
  try {
    // Let the workers register before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    let release!: () => void;
    const start = new Promise<void>((resolve) => (release = resolve));
    let end = Number.POSITIVE_INFINITY;
    const clients = Array.from({ length: scenario.clients }, () => client(broker.endpoint, scenario.window, () => end, start));
    const before = await broker.stats();
    const began = performance.now();
    end = Date.now() + DURATION_MS;
    release();
    const replies = (await Promise.all(clients)).reduce((sum, count) => sum + count, 0);
    const seconds = (performance.now() - began) / 1000;
    const after = await broker.stats();
    if (replies === 0) throw new Error(`${LABELS[subject]} answered nothing in ${scenario.name}`);
    return { rate: replies / seconds, rss: after.rss, cpuPerRequest: (after.cpuMicros - before.cpuMicros) / replies };
  } finally {
    for (const socket of workers) socket.close();
    await broker.stop();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export const majordomoBenchmark: Benchmark = {
  name: "majordomo",
  description: "MDP/0.1 requests per second through our broker vs a raw zeromq.js ROUTER relay (lock-step 1x1 and 8x8, pipelined async client x 4 workers)",
  async run(): Promise<Json> {
    console.log(`majordomo: ${this.description}`);
    const results: Json[] = [];
    const ratios: Record<string, number> = {};
    for (const scenario of SCENARIOS) {
      const rates: Record<Subject, number[]> = { ours: [], raw: [] };
      const rss: Record<Subject, number[]> = { ours: [], raw: [] };
      const cpu: Record<Subject, number[]> = { ours: [], raw: [] };
      for (let run = 0; run < RUNS; run++) {
        // Alternate the order so that neither side always runs on a warmer machine.
        for (const subject of run % 2 === 0 ? SUBJECTS : [...SUBJECTS].reverse()) {
          const result = await measure(subject, scenario);
          rates[subject].push(result.rate);
          rss[subject].push(result.rss);
          cpu[subject].push(result.cpuPerRequest);
        }
        console.log(`  ${scenario.name}, run ${run + 1}/${RUNS}: ours ${formatRate(rates.ours[run])}/s, raw ${formatRate(rates.raw[run])}/s`);
      }
      const ours = median(rates.ours);
      const raw = median(rates.raw);
      ratios[scenario.name] = ours / raw;
      results.push({
        scenario: scenario.name, clients: scenario.clients, workers: scenario.workers, window: scenario.window,
        runs: rates, medians: { ours, raw }, ratio: ours / raw,
        brokerCpuMicrosPerRequest: { ours: median(cpu.ours), raw: median(cpu.raw) },
        brokerRssMiB: { ours: median(rss.ours) / 2 ** 20, raw: median(rss.raw) / 2 ** 20 },
      });
    }
    console.log(table(["scenario", "ours req/s", "raw req/s", "ratio", "CPU µs/req ours", "raw", "RSS MiB ours", "raw"], results.map((result) => {
      const row = result as {
        scenario: string; medians: { ours: number; raw: number }; ratio: number;
        brokerCpuMicrosPerRequest: { ours: number; raw: number }; brokerRssMiB: { ours: number; raw: number };
      };
      return [
        row.scenario, formatRate(row.medians.ours), formatRate(row.medians.raw), formatRatio(row.ratio),
        row.brokerCpuMicrosPerRequest.ours.toFixed(0), row.brokerCpuMicrosPerRequest.raw.toFixed(0),
        row.brokerRssMiB.ours.toFixed(1), row.brokerRssMiB.raw.toFixed(1),
      ];
    })));
    const eight = ratios[SCENARIOS[1].name];
    return {
      benchmark: "majordomo",
      timestamp: new Date().toISOString(),
      machine: machineInfo(),
      settings: { runs: RUNS, durationMs: DURATION_MS, body: `${BODY.length} octets, one frame`, statistic: "median requests/s over runs; ratio of medians" },
      scenarios: results,
      target: { scenario: SCENARIOS[1].name, ratio: 0.5, measured: eight, met: eight >= 0.5 },
    };
  },
};
