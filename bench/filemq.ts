/**
 * FileMQ benchmark: mirroring three trees (one 1 GiB file, 10,000 files of 4 KiB, 50 files of 4 MiB) from a
 * `filemq publish` process to a `filemq subscribe` process over tcp on 127.0.0.1, each as a throughput
 * ratio to `cp -r` of the same tree on the same disk in the same run, with both processes' peak RSS.
 *
 * Method: per tree, runs alternate cp -r and FileMQ (default settings, then --no-fsync); medians of the
 * runs. A FileMQ run is timed from the subscriber's session opening (its `connected` event) to the last
 * file delivered (renamed into place), so process start-up is not counted; cp -r is timed as a whole.
 * Peak RSS is the kernel's high-water mark (VmHWM) of each process. Every FileMQ mirror is checked against
 * the source before its time counts.
 *
 * @packageDocumentation
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./harness.js";
import { machineInfo } from "./machine.js";
import { formatRatio, table } from "./report.js";
import type { Benchmark, Json } from "./types.js";

const FILEMQ = fileURLToPath(new URL("../bin/filemq.js", import.meta.url));
const RUNS = 3;
const MIB = 1024 * 1024;

/** A tree to mirror. */
interface Tree {
  readonly name: string;
  readonly files: number;
  readonly octets: number;
  make(root: string): Promise<void>;
}

const TREES: readonly Tree[] = [
  {
    name: "1 GiB file",
    files: 1,
    octets: 1024 * MIB,
    async make(root) {
      // 64 random blocks of 16 MiB, each made distinct, written straight to disk (never all in memory).
      const block = randomBytes(16 * MIB);
      const handle = await open(join(root, "one.bin"), "w");
      for (let i = 0; i < 64; i++) {
        block.writeUInt32BE(i, 0);
        await handle.write(block);
      }
      await handle.close();
    },
  },
  {
    name: "10,000 x 4 KiB",
    files: 10_000,
    octets: 10_000 * 4096,
    async make(root) {
      for (let d = 0; d < 100; d++) {
        await mkdir(join(root, `d${d}`));
        for (let f = 0; f < 100; f++) await writeFile(join(root, `d${d}`, `f${f}.bin`), randomBytes(4096));
      }
    },
  },
  {
    name: "50 x 4 MiB",
    files: 50,
    octets: 50 * 4 * MIB,
    async make(root) {
      for (let f = 0; f < 50; f++) await writeFile(join(root, `f${f}.bin`), randomBytes(4 * MIB));
    },
  },
];

/** A `filemq` child whose JSON events are collected. */
class Filemq {
  readonly child: ChildProcess;
  readonly events: { event: string; time: number; [key: string]: unknown }[] = [];
  private rest = "";
  private readonly waiting: (() => void)[] = [];

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [FILEMQ, ...args, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (text: string) => {
      const lines = (this.rest + text).split("\n");
      this.rest = lines.pop() ?? "";
      for (const line of lines) {
        const record = JSON.parse(line) as { event: string; time: string };
        this.events.push({ ...record, time: Date.parse(record.time) });
      }
      for (const wake of this.waiting.splice(0)) wake();
    });
  }

  /** Waits for an event; fails if the process ends first or after `timeoutMs`. */
  async until(event: string, timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.events.some((record) => record.event === event)) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`filemq ${this.child.spawnargs.slice(2, 3).join(" ")}: no ${event} event`);
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** The endpoint a publisher says it serves on (its first `note` event). */
  endpoint(): string {
    const endpoint = this.events.find((record) => record.event === "note")?.endpoint;
    if (typeof endpoint !== "string") throw new Error("filemq publish: no endpoint in its first note event");
    return endpoint;
  }

  /** The kernel's record of this process's peak resident set, in MiB. */
  peakRssMiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** One FileMQ mirror: the time it took, the subscriber's peak RSS. */
async function mirror(endpoint: string, inbox: string, fsync: boolean): Promise<{ ms: number; subscriberRssMiB: number }> {
  const subscriber = new Filemq(["subscribe", endpoint, "--inbox", inbox, ...(fsync ? [] : ["--no-fsync"])]);
  try {
    await subscriber.until("caught-up");
    const connected = subscriber.events.find((record) => record.event === "connected")?.time ?? Number.NaN;
    const delivered = subscriber.events.filter((record) => record.event === "delivered").map((record) => record.time);
    return { ms: Math.max(...delivered) - connected, subscriberRssMiB: subscriber.peakRssMiB() };
  } finally {
    await subscriber.stop();
  }
}

function cpRecursive(source: string, target: string): number {
  const started = process.hrtime.bigint();
  const result = spawnSync("cp", ["-r", source, target]);
  if (result.status !== 0) throw new Error(`cp -r failed: ${result.stderr.toString()}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** SHA-256 of every file, by relative path: the gate every mirror must pass. */
async function digests(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (directory: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(directory, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else {
        const hash = createHash("sha256");
        for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
        found.set(prefix + entry.name, hash.digest("hex"));
      }
    }
  };
  await walk(root, "");
  return found;
}

async function sameTree(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([digests(a), digests(b)]);
  return left.size === right.size && [...left].every(([path, digest]) => right.get(path) === digest);
}

const mbPerSecond = (octets: number, ms: number): number => octets / 1e6 / (ms / 1000);

async function measureTree(tree: Tree, workspace: string): Promise<Json> {
  const source = join(workspace, "source");
  await mkdir(source);
  await tree.make(source);
  // Older than the publisher's stability age, so the whole tree is there from the start.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  // A port the system picks: a fixed one may be held by another program (or an outgoing connection) on a shared machine.
  const publisher = new Filemq(["publish", source, "--bind", "tcp://127.0.0.1:*"]);
  const cp: number[] = [];
  const synced: number[] = [];
  const unsynced: number[] = [];
  let subscriberRssMiB = 0;
  try {
    await publisher.until("note");
    const endpoint = publisher.endpoint();
    for (let run = 0; run < RUNS; run++) {
      const copy = join(workspace, `cp-${run}`);
      cp.push(cpRecursive(source, copy));
      await rm(copy, { recursive: true, force: true });
      for (const fsync of [true, false]) {
        const inbox = join(workspace, `inbox-${run}-${fsync}`);
        const result = await mirror(endpoint, inbox, fsync);
        if (run === 0 && !(await sameTree(source, inbox))) throw new Error(`${tree.name}: the mirror differs from the source`);
        (fsync ? synced : unsynced).push(result.ms);
        subscriberRssMiB = Math.max(subscriberRssMiB, result.subscriberRssMiB);
        await rm(inbox, { recursive: true, force: true });
      }
      process.stdout.write(`  ${tree.name} run ${run + 1}: cp -r ${cp[run].toFixed(0)} ms, filemq ${synced[run].toFixed(0)} ms (${unsynced[run].toFixed(0)} ms without fsync)\n`);
    }
    const publisherRssMiB = publisher.peakRssMiB();
    const medians = { cp: median(cp), filemq: median(synced), filemqNoFsync: median(unsynced) };
    return {
      tree: tree.name,
      files: tree.files,
      octets: tree.octets,
      runs: RUNS,
      cpMs: cp,
      filemqMs: synced,
      filemqNoFsyncMs: unsynced,
      medianMs: medians,
      throughputMBps: { cp: mbPerSecond(tree.octets, medians.cp), filemq: mbPerSecond(tree.octets, medians.filemq), filemqNoFsync: mbPerSecond(tree.octets, medians.filemqNoFsync) },
      ratioToCp: medians.cp / medians.filemq,
      ratioToCpNoFsync: medians.cp / medians.filemqNoFsync,
      subscriberPeakRssMiB: Math.round(subscriberRssMiB),
      publisherPeakRssMiB: Math.round(publisherRssMiB),
    };
  } finally {
    await publisher.stop();
  }
}

export const filemqBenchmark: Benchmark = {
  name: "filemq",
  description: "FileMQ mirror throughput over tcp on 127.0.0.1 as a ratio to cp -r, with peak RSS",
  async run() {
    const results: Json[] = [];
    for (const tree of TREES) {
      const workspace = await mkdtemp(join(tmpdir(), "filemq-bench-"));
      try {
        process.stdout.write(`${tree.name}:\n`);
        results.push(await measureTree(tree, workspace));
      } finally {
        await rm(workspace, { recursive: true, force: true });
      }
    }
    const rows = results.map((result) => {
      const r = result as { tree: string; ratioToCp: number; ratioToCpNoFsync: number; throughputMBps: { cp: number; filemq: number }; subscriberPeakRssMiB: number; publisherPeakRssMiB: number };
      return [r.tree, `${r.throughputMBps.cp.toFixed(0)} MB/s`, `${r.throughputMBps.filemq.toFixed(0)} MB/s`, formatRatio(r.ratioToCp), formatRatio(r.ratioToCpNoFsync),
        `${r.subscriberPeakRssMiB} MiB`, `${r.publisherPeakRssMiB} MiB`];
    });
    process.stdout.write(`\n${table(["tree", "cp -r", "filemq", "ratio", "ratio, no fsync", "subscriber RSS", "publisher RSS"], rows)}\n`);
    return {
      benchmark: "filemq",
      description: this.description,
      method: "median of 3 runs per tree, cp -r and filemq alternating; filemq timed from session open to the last file renamed into place; peak RSS = VmHWM",
      machine: machineInfo(),
      targets: { ratio1GiB: 0.25, aim1GiB: 0.5, subscriberRssMiB: 150 },
      trees: results,
    };
  },
};
