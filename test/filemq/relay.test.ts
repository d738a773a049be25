/**
 * Scale-out across hosts: a publisher feeds two relays, each feeding two subscribers, every one of them a
 * `filemq` process in its own network namespace, joined by veth links (the test creates and removes them).
 * Where the machine allows no namespaces the test says so and runs the same topology on 127.0.0.1
 * (FILEMQ_TEST_LOOPBACK=1 forces that variant). All six
 * mirrors end identical, changes propagate down the tree, and no inbox ever shows a partial file: a file
 * appears downstream only once it is complete upstream.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FilemqProcess } from "./cli-process.js";
import { Registry, sameTree, treeDigests, visibleSizes, writeTree } from "./support.js";
import { freeEndpoint } from "../engine/support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

/** The hosts of the topology and who connects to whom. */
const HOSTS = ["pub", "r1", "r2", "s1", "s2", "s3", "s4"] as const;
type Host = (typeof HOSTS)[number];
const LINKS: readonly [Host, Host][] = [["pub", "r1"], ["pub", "r2"], ["r1", "s1"], ["r1", "s2"], ["r2", "s3"], ["r2", "s4"]];
const PORT = 5670;

/** Network namespaces joined by veth pairs, one /30 per link; removed by {@link Network.remove}. */
class Network {
  readonly namespaces = new Map<Host, string>();
  /** Upstream endpoint of each host that connects to one. */
  readonly upstream = new Map<Host, string>();

  constructor(private readonly tag: string) {}

  create(): void {
    for (const host of HOSTS) {
      const name = `fmq-${this.tag}-${host}`;
      ip("netns", "add", name);
      this.namespaces.set(host, name);
      ip("-n", name, "link", "set", "lo", "up");
    }
    LINKS.forEach(([up, down], index) => {
      const [a, b] = [`fq${this.tag}${index}a`, `fq${this.tag}${index}b`];
      const [upNs, downNs] = [this.namespaces.get(up)!, this.namespaces.get(down)!];
      ip("link", "add", a, "type", "veth", "peer", "name", b);
      ip("link", "set", a, "netns", upNs);
      ip("link", "set", b, "netns", downNs);
      ip("-n", upNs, "addr", "add", `10.231.${index + 1}.1/30`, "dev", a);
      ip("-n", downNs, "addr", "add", `10.231.${index + 1}.2/30`, "dev", b);
      ip("-n", upNs, "link", "set", a, "up");
      ip("-n", downNs, "link", "set", b, "up");
      this.upstream.set(down, `tcp://10.231.${index + 1}.1:${PORT}`);
    });
  }

  remove(): void {
    for (const name of this.namespaces.values()) {
      try {
        ip("netns", "del", name);
      } catch {
        // Already gone.
      }
    }
    this.namespaces.clear();
  }
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

let network: Network | undefined;
let unavailable = "";

beforeAll(() => {
  const candidate = new Network(String(process.pid % 10_000));
  try {
    // FILEMQ_TEST_LOOPBACK=1 runs the loopback variant on a machine that has namespaces, to check it.
    if (process.env.FILEMQ_TEST_LOOPBACK === "1") throw new Error("FILEMQ_TEST_LOOPBACK=1");
    candidate.create();
    network = candidate;
  } catch (error) {
    candidate.remove();
    unavailable = error instanceof Error ? (error as Error & { stderr?: Buffer }).stderr?.toString().trim() || error.message : String(error);
    console.warn(`network namespaces are not available here (${unavailable}); running the relay topology on 127.0.0.1 instead`);
  }
});
afterAll(() => network?.remove());

describe("relays across hosts", () => {
  it("publisher -> 2 relays -> 4 subscribers, each in its own network namespace: all identical, nothing partial", { timeout: 120_000 }, async () => {
    const source = await registry.directory("pub");
    const inboxes = new Map<Host, string>();
    for (const host of HOSTS.slice(1)) inboxes.set(host, await registry.directory(host));
    const files: Record<string, Uint8Array | string> = { "readme.txt": "relayed\n", "big/initial.bin": randomBytes(12_000_000), "deep/a/b/c.txt": "c\n" };
    await writeTree(source, files);
    // Every complete version of each file: what a reader may see under its name.
    const sizes = new Map(Object.entries(files).map(([name, contents]) => [name, new Set([contents.length])]));

    // Endpoints: inside the namespaces every host listens on its own addresses; on loopback, on its own port.
    const listen = new Map<Host, string>();
    const connect = new Map<Host, string>();
    if (network !== undefined) {
      for (const host of ["pub", "r1", "r2"] as const) listen.set(host, `tcp://*:${PORT}`);
      for (const host of HOSTS.slice(1)) connect.set(host, network.upstream.get(host)!);
    } else {
      for (const host of ["pub", "r1", "r2"] as const) listen.set(host, await freeEndpoint());
      for (const [up, down] of LINKS) connect.set(down, listen.get(up)!);
    }
    const start = (host: Host, args: string[]): FilemqProcess => {
      const netns = network?.namespaces.get(host);
      return registry.add(new FilemqProcess(args, netns === undefined ? {} : { netns }), (process) => process.stop());
    };
    const processes = [
      start("pub", ["publish", source, "--bind", listen.get("pub")!, "--json"]),
      ...(["r1", "r2"] as const).map((host) => start(host, ["relay", connect.get(host)!, "--inbox", inboxes.get(host)!, "--bind", listen.get(host)!, "--json"])),
      ...(["s1", "s2", "s3", "s4"] as const).map((host) => start(host, ["subscribe", connect.get(host)!, "--inbox", inboxes.get(host)!, "--json"])),
    ];

    // Watch every inbox: whatever is visible under a published name must be the whole file.
    const partials: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const [host, inbox] of inboxes) {
          for (const [name, size] of await visibleSizes(inbox)) {
            const complete = sizes.get(name);
            if (complete !== undefined && !complete.has(size)) partials.push(`${host}: ${name} ${size} octets`);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const allMirror = async (): Promise<void> => {
      const want = await treeDigests(source);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const mirrors = await Promise.all([...inboxes.values()].map((inbox) => treeDigests(inbox)));
        if (mirrors.every((mirror) => sameTree(mirror, want))) return;
        if (Date.now() > deadline) throw new Error(`mirrors differ: ${mirrors.map((mirror) => mirror.size).join(", ")} files of ${want.size}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      await allMirror();
      // A new big file, renamed into place at the source, a change and a delete travel down the tree.
      const late = randomBytes(30_000_000);
      sizes.set("big/late.bin", new Set([late.length]));
      await writeFile(join(source, "big/.late.tmp"), late);
      await rename(join(source, "big/.late.tmp"), join(source, "big/late.bin"));
      await appendFile(join(source, "readme.txt"), "and changed\n");
      sizes.get("readme.txt")?.add("relayed\nand changed\n".length);
      await rm(join(source, "deep"), { recursive: true });
      await allMirror();
    } finally {
      watching = false;
      await watcher;
    }
    expect(partials).toEqual([]);
    for (const process of processes) process.signal("SIGTERM");
    for (const process of processes) expect((await process.exited).code).toBe(0);
    for (const [host, inbox] of inboxes) {
      expect((await readdir(inbox)).filter((name) => name.startsWith(".fmq-")), host).toEqual([]);
    }
    if (network !== undefined) expect(processes.every((process) => process.child.spawnargs.includes("netns"))).toBe(true);
  });
});
