/**
 * Hostile-peer measurements (docs/limits.md): what one attacking peer costs a server that runs in a process
 * of its own. Two attacks:
 *
 * - **frames**: one message of N empty frames (2 octets each on the wire). libzmq assembles the whole message
 *   and zeromq.js makes a Buffer of every frame before any code of ours sees it; measured against a bare
 *   zeromq.js ROUTER (the floor) and the generated hello server.
 * - **flood**: N HELLOs from a peer that never reads its WORLDs, against the hello server with its default
 *   per-peer bound and with `sendHighWaterMark: 0` (no bound: the engine before the bound existed).
 *
 * For each: the longest event-loop stall of the server, how long another client waited for its answer when it
 * asked right after the attack, the server's peak RSS (VmHWM) and its RSS once the attacker has gone (after a
 * garbage collection). Each scenario gets a fresh server process; figures are single runs (the attacks take
 * seconds and gigabytes), so compare them as orders of magnitude. `HOSTILE_FRAMES` and `HOSTILE_FLOOD`
 * (comma-separated counts) override the sizes. `HOSTILE_BASELINE` may name the `dist` directory of an earlier
 * build: its hello server is then measured in the same run, beside this one.
 *
 * @packageDocumentation
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Dealer } from "zeromq";
import { encode } from "../generated/hello/hello_msg.js";
import type { ServerStats } from "./hostile-server.js";
import { machineInfo } from "./machine.js";
import { table } from "./report.js";
import type { Benchmark, Json } from "./types.js";

const SERVER = fileURLToPath(new URL("./hostile-server.js", import.meta.url));
const FRAMES = (process.env.HOSTILE_FRAMES ?? "1000000,5000000").split(",").filter(Boolean).map(Number);
const FLOOD = (process.env.HOSTILE_FLOOD ?? "1000000").split(",").filter(Boolean).map(Number);
/** The name the bystander greets with; the server does not count its HELLOs as the attacker's. */
export const BYSTANDER = "bystander";
/** How long the server is left alone after the attacker left, before its memory is read. */
const SETTLE_MS = 3000;

/** A server process under attack. */
interface Subject {
  readonly name: string;
  readonly kind: "router" | "hello";
  readonly options?: Json;
  /** Another build's `dist` directory to take the hello server from (see hostile-server.ts). */
  readonly runtime?: string;
}

/** One measurement. */
interface Outcome {
  readonly attack: string;
  readonly count: number;
  readonly server: string;
  readonly attackMs: number;
  readonly maxStallMs: number;
  readonly otherClientWaitedMs: number;
  readonly rssBeforeMiB: number;
  readonly peakRssMiB: number;
  readonly rssAfterMiB: number;
  readonly heapAfterMiB: number;
  /** Messages the server served: HELLOs greeted (the flood's, and the bystander's), or messages echoed. */
  readonly served: number;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running server process. */
class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly endpoint: string,
  ) {}

  static start(subject: Subject): Promise<ServerProcess> {
    const env = subject.runtime !== undefined ? { ...process.env, HOSTILE_RUNTIME: subject.runtime } : process.env;
    const child = fork(SERVER, [subject.kind, JSON.stringify(subject.options ?? {})], { env, execArgv: ["--expose-gc"], stdio: ["ignore", "pipe", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /READY (\S+)/.exec(output);
        if (match) resolve(new ServerProcess(child, match[1]));
      });
      child.once("exit", (code) => reject(new Error(`server exited with ${code} before it was ready`)));
    });
  }

  stats(gc: boolean): Promise<ServerStats> {
    return new Promise((resolve) => {
      this.child.once("message", (stats: ServerStats) => resolve(stats));
      this.child.send({ type: "stats", gc });
    });
  }

  /** The peak resident set size of the process so far (VmHWM), in MiB. */
  async peakRssMiB(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, "utf8");
    return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

/**
 * Another client greeting the server every 50 ms until `done` settles; resolves with the longest it waited for
 * an answer, in ms: the outage the attack caused.
 */
async function longestWait(endpoint: string, done: Promise<void>): Promise<number> {
  const peer = new Dealer({ linger: 0 });
  peer.connect(endpoint);
  let finished = false;
  void done.finally(() => (finished = true));
  let longest = 0;
  try {
    do {
      const started = performance.now();
      await peer.send(encode({ message: "HELLO", name: BYSTANDER }));
      await peer.receive();
      longest = Math.max(longest, performance.now() - started);
      await delay(50);
    } while (!finished);
  } finally {
    peer.close();
  }
  return Math.round(longest);
}

/** An attack under way: the attacker's socket, and what resolves once the server has taken all of it. */
interface Attack {
  readonly attacker: Dealer;
  readonly done: Promise<void>;
}

/** Resolves once the server has served nothing more for a second: it has read all it will. */
async function settled(server: ServerProcess): Promise<void> {
  let last = -1;
  for (;;) {
    const { served } = await server.stats(false);
    if (served === last) return;
    last = served;
    await delay(1000);
  }
}

/** The attacks, each given the server; they resolve once the attack is on the wire. */
const ATTACKS = {
  /**
   * One message of `count` empty frames, then a HELLO on the same connection: its answer comes once the
   * server has received (and dropped) the whole message before it.
   */
  async frames(server: ServerProcess, count: number): Promise<Attack> {
    const attacker = new Dealer({ linger: 0, sendHighWaterMark: 0 });
    attacker.connect(server.endpoint);
    const empty = Buffer.alloc(0);
    await attacker.send(new Array<Buffer>(count).fill(empty));
    await attacker.send(encode({ message: "HELLO", name: "attacker" }));
    return { attacker, done: attacker.receive().then(() => undefined) };
  },
  /** `count` HELLOs of a 200-octet name, reading nothing back, as fast as its own queue takes them. */
  async flood(server: ServerProcess, count: number): Promise<Attack> {
    const attacker = new Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 10, receiveBufferSize: 4096 });
    attacker.connect(server.endpoint);
    const hello = encode({ message: "HELLO", name: "f".repeat(200) });
    for (let i = 0; i < count; i++) await attacker.send(hello);
    return { attacker, done: settled(server) };
  },
};

async function measure(attack: keyof typeof ATTACKS, count: number, subject: Subject): Promise<Outcome> {
  const server = await ServerProcess.start(subject);
  try {
    const before = await server.stats(true);
    const started = performance.now();
    const { attacker, done } = await ATTACKS[attack](server, count);
    // Another client asks while the server takes the attack in.
    const [otherClientWaitedMs] = await Promise.all([longestWait(server.endpoint, done), done]);
    const attackMs = Math.round(performance.now() - started);
    const during = await server.stats(false);
    const peakRssMiB = await server.peakRssMiB();
    attacker.close();
    await delay(SETTLE_MS);
    const after = await server.stats(true);
    return {
      attack, count, server: subject.name, attackMs, maxStallMs: during.maxStallMs, otherClientWaitedMs,
      rssBeforeMiB: before.rssMiB, peakRssMiB, rssAfterMiB: after.rssMiB, heapAfterMiB: after.heapUsedMiB, served: during.served,
    };
  } finally {
    server.stop();
  }
}

const BARE: Subject = { name: "bare zeromq.js ROUTER", kind: "router" };
const HELLO: Subject = { name: "hello server", kind: "hello" };
const UNBOUNDED: Subject = { name: "hello server, sendHighWaterMark 0", kind: "hello", options: { sendHighWaterMark: 0 } };
const BASELINE: readonly Subject[] = process.env.HOSTILE_BASELINE !== undefined
  ? [{ name: "hello server of the baseline build", kind: "hello", runtime: process.env.HOSTILE_BASELINE }]
  : [];

export const hostileBenchmark: Benchmark = {
  name: "hostile",
  description: "one peer's attack on a server process: a message of millions of frames; a flood it never reads",
  async run() {
    const outcomes: Outcome[] = [];
    for (const count of FRAMES) for (const subject of [BARE, ...BASELINE, HELLO]) outcomes.push(await measure("frames", count, subject));
    for (const count of FLOOD) for (const subject of [...BASELINE, UNBOUNDED, HELLO]) outcomes.push(await measure("flood", count, subject));
    console.log(table(
      ["attack", "server", "attack taken in", "max stall", "longest answer", "RSS before", "peak RSS", "RSS after", "heap after", "served"],
      outcomes.map((outcome) => [
        `${outcome.attack} ${outcome.count.toLocaleString("en")}`, outcome.server, `${outcome.attackMs} ms`, `${outcome.maxStallMs} ms`,
        `${outcome.otherClientWaitedMs} ms`, `${outcome.rssBeforeMiB} MiB`, `${outcome.peakRssMiB} MiB`, `${outcome.rssAfterMiB} MiB`,
        `${outcome.heapAfterMiB} MiB`, outcome.served.toLocaleString("en"),
      ]),
    ));
    return { machine: machineInfo(), settleMs: SETTLE_MS, baseline: process.env.HOSTILE_BASELINE ?? null, outcomes: outcomes as unknown as Json };
  },
};
