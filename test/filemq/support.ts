/**
 * Helpers for FileMQ tests on real sockets and real directories: temporary trees, their SHA-256 listing,
 * publishers and subscribers that the test's registry closes, and waiting for a mirror to match.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Logger } from "../../runtime/engine/index.js";
import { subscribe, type FileMqSubscriber, type SubscriberEvent, type SubscriberOptions } from "../../protocols/filemq/client.js";
import { startPublisher, type FileMqPublisher, type PublisherOptions } from "../../protocols/filemq/server.js";
import { eventually, testLogger } from "../support/engines.js";
import { readVectors, type VectorRecord } from "../support/vectors.js";

/** Things a test opened, closed in reverse order by {@link Registry.closeAll}. */
export class Registry {
  private readonly closers: (() => Promise<unknown>)[] = [];

  add<T>(thing: T, close: (thing: T) => Promise<unknown>): T {
    this.closers.push(() => close(thing));
    return thing;
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // Teardown goes on.
      }
    }
  }

  /** A temporary directory, removed at the end. */
  async directory(label: string): Promise<string> {
    const path = await mkdtemp(join(tmpdir(), `fmq-${label}-`));
    return this.add(path, (p) => rm(p, { recursive: true, force: true }));
  }
}

/** Settings that keep tests quick: short stability age and rescan period (in the config's units). */
export const FAST_CONFIG = { "security/anonymous": 1, "server/stable_age": 100, "server/monitor": 1, "server/heartbeat": 1 };

/** Starts a publisher of `location` under `/` on a free loopback port. */
export async function publisherOf(registry: Registry, location: string, options: Omit<PublisherOptions, "config"> & { config?: Record<string, string | number> } = {}): Promise<{ publisher: FileMqPublisher; endpoint: string }> {
  const publisher = await startPublisher({ logger: testLogger, mounts: [{ location, alias: "/" }], ...options, config: { ...FAST_CONFIG, ...options.config } });
  registry.add(publisher, (p) => p.close());
  // Files the test wrote just before are announced once stable: wait for that, so the tree is "existing".
  await new Promise((resolve) => setTimeout(resolve, publisher.settings.stableAgeMs + 20));
  await publisher.rescan();
  const endpoint = await publisher.bind("tcp://127.0.0.1:*");
  return { publisher, endpoint };
}

/** A subscriber recording its events. */
export async function subscriberOf(registry: Registry, endpoint: string, inbox: string, options: Partial<SubscriberOptions> = {}): Promise<{ subscriber: FileMqSubscriber; events: SubscriberEvent[] }> {
  const events: SubscriberEvent[] = [];
  const subscriber = await subscribe(endpoint, { logger: testLogger, backoff: { initial: 200, max: 1000 }, ...options, inbox, onEvent: (event) => {
    events.push(event);
    options.onEvent?.(event);
  } });
  registry.add(subscriber, (s) => s.close());
  return { subscriber, events };
}

/**
 * Writes files (relative path → contents), creating directories. Each file is written under a hidden name
 * and renamed into place, so a publisher never sees one half-written: with the short stability age of
 * these tests, a busy machine can pause this process between creating a file and writing it for longer
 * than that, and the publisher then rightly announces the empty file, and the written one after it.
 */
export async function writeTree(root: string, files: Readonly<Record<string, string | Uint8Array>>): Promise<void> {
  for (const [relative, contents] of Object.entries(files)) {
    const path = join(root, relative);
    const hidden = join(dirname(path), `.${basename(path)}.writing`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(hidden, contents);
    await rename(hidden, path);
  }
}

/** SHA-256 of every file under `root` that is not hidden, by `/`-separated relative path. */
export async function treeDigests(root: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const walk = async (directory: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = join(directory, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else {
        // The tree may change while it is read (a mirror being updated): a file gone meanwhile is absent.
        const digest = await sha256(path).catch(() => undefined);
        if (digest !== undefined) digests.set(prefix + entry.name, digest);
      }
    }
  };
  await walk(root, "");
  return new Map([...digests].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Waits until `inbox` holds exactly the files of `source` with the same contents. */
export async function mirrored(source: string, inbox: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let want = await treeDigests(source);
  let have = await treeDigests(inbox);
  while (!sameTree(want, have)) {
    if (Date.now() > deadline) throw new Error(`inbox ${inbox} does not mirror ${source}: ${describeDifference(want, have)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    want = await treeDigests(source);
    have = await treeDigests(inbox);
  }
}

export function sameTree(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([path, digest]) => b.get(path) === digest);
}

function describeDifference(want: ReadonlyMap<string, string>, have: ReadonlyMap<string, string>): string {
  const missing = [...want.keys()].filter((path) => !have.has(path));
  const extra = [...have.keys()].filter((path) => !want.has(path));
  const different = [...want.keys()].filter((path) => have.has(path) && have.get(path) !== want.get(path));
  return `missing ${missing.length} (${missing.slice(0, 3).join(", ")}), extra ${extra.length} (${extra.slice(0, 3).join(", ")}), different ${different.length} (${different.slice(0, 3).join(", ")})`;
}

/** Waits for an event matching `predicate` among `events` (already received or to come). */
export function eventSeen(events: readonly SubscriberEvent[], predicate: (event: SubscriberEvent) => boolean, timeoutMs = 10_000, what = "an event"): Promise<void> {
  return eventually(() => events.some(predicate), timeoutMs, what);
}

/** Every path under `root`, hidden ones included, sorted. */
export async function allPaths(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (directory: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      found.push(prefix + entry.name);
      if (entry.isDirectory()) await walk(join(directory, entry.name), `${prefix}${entry.name}/`);
    }
  };
  await walk(root, "");
  return found.sort();
}

/** Sizes of the files visible under their published names (hidden files excluded); files gone meanwhile are absent. */
export async function visibleSizes(root: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const walk = async (directory: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
      if (entry.name.startsWith(".")) continue;
      if (entry.isDirectory()) await walk(join(directory, entry.name), `${prefix}${entry.name}/`);
      else {
        const info = await stat(join(directory, entry.name)).catch(() => undefined);
        if (info !== undefined) sizes.set(prefix + entry.name, info.size);
      }
    }
  };
  await walk(root, "");
  return sizes;
}

const FMQ_VECTORS = readVectors("fmq_msg");

/** A FILEMQ/1 golden vector record captured from the C codec, by message and case. */
export function fmqVector(message: string, name: string): VectorRecord {
  const record = FMQ_VECTORS.find((candidate) => candidate.message === message && candidate.case === name);
  if (record === undefined) throw new Error(`no vector ${message}/${name}`);
  return record;
}

/** A vector record's frames. */
export function vectorFrames(record: VectorRecord): Buffer[] {
  return record.frames.map((hex) => Buffer.from(hex, "hex"));
}

export { eventually, testLogger, type Logger };
