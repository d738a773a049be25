/**
 * The publisher's per-subscriber outbox on real files (`filemq.md` §10.2): what it sends of a file replaced
 * after the scan that announced it, and a subscriber leaving while a step is in flight, which must neither
 * read from a closed descriptor (an unhandled rejection ends a Node process) nor leave the file open.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PublishedFile } from "../../protocols/filemq/catalog.js";
import { Outbox, type DispatchStep } from "../../protocols/filemq/outbox.js";
import { Registry } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

/** A file as a scan finds it. */
async function scanned(path: string, vpath: string): Promise<PublishedFile> {
  const info = await stat(path);
  return { vpath, path, size: info.size, mtimeMs: info.mtimeMs };
}

/** An outbox with one create patch queued and `credit` granted. */
function outboxWith(file: PublishedFile, credit: number): Outbox {
  const outbox = new Outbox();
  outbox.subscribe("/");
  outbox.queuePatch({ op: "create", vpath: file.vpath, file });
  expect(outbox.addCredit(BigInt(credit))).toBe(true);
  return outbox;
}

/** Runs steps until the file's end-of-file chunk; returns the data sent. */
async function sendAll(outbox: Outbox): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const step: DispatchStep = await outbox.step();
    if (step.event !== "send_chunk") throw new Error(`unexpected ${step.event}`);
    if (step.fields.chunk.length === 0) return Buffer.concat(chunks);
    chunks.push(step.fields.chunk);
  }
}

/** Descriptors of this process open on `path`. */
function openOn(path: string): number {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

describe("outbox", () => {
  it("sends a file replaced since its scan whole, not cut to the size the scan found", async () => {
    const directory = await registry.directory("src");
    const path = join(directory, "report.txt");
    await writeFile(path, "version one\n");
    const file = await scanned(path, "/report.txt");
    // Replaced as editors and FileMQ subscribers do it: a new file renamed over the old one.
    const second = Buffer.from("version two, which is longer than the first\n");
    await writeFile(join(directory, ".report.tmp"), second);
    await rename(join(directory, ".report.tmp"), path);
    expect((await sendAll(outboxWith(file, 10_000))).toString()).toBe(second.toString());
  });

  it("closes the file only after a step in flight when the subscriber leaves, and reads nothing after", async () => {
    const directory = await registry.directory("src");
    const path = join(directory, "big.bin");
    await writeFile(path, randomBytes(3_500_000));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const outbox = outboxWith(await scanned(path, "/big.bin"), 10_000_000);
      expect((await outbox.step()).event).toBe("send_chunk");
      // The second step takes the chunk read ahead; the subscriber leaves meanwhile.
      const inFlight = outbox.step();
      const closed = outbox.close();
      expect((await inFlight).event).toBe("send_chunk");
      // The event the step belonged to may go on: further steps do nothing.
      expect(await outbox.step()).toEqual({ event: "finished" });
      await closed;
      expect(openOn(path)).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
