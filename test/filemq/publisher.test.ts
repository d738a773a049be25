/**
 * The publisher's side of FILEMQ/1 against a raw DEALER (`filemq.md` §4–§6, §8, §10, §12): handshake and
 * refusals, credit never exceeded and CHEEZBURGERs built from the file being sent (F2), bounded work per event,
 * subscriptions in every state (F13), RESYNC on root subscriptions (F4), heartbeats and expiry, and malformed
 * input that neither stops nor starves the server (F1).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { encode, type Cheezburger, type FmqMsg } from "../../generated/filemq/fmq_msg.js";
import { digestFile } from "../../protocols/filemq/digests.js";
import { readVectors, framesOf } from "../support/vectors.js";
import { RawClient } from "./peers.js";
import { MAX_OUTSTANDING_CREDIT } from "../../protocols/filemq/flow.js";
import { startPublisher, type PublisherEvent } from "../../protocols/filemq/server.js";
import { MemoryLogger } from "../support/engines.js";
import { FAST_CONFIG, Registry, eventually, mirrored, publisherOf, subscriberOf, testLogger, writeTree } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

function rawClient(endpoint: string): RawClient {
  return registry.add(new RawClient(endpoint), async (client) => client.close());
}

/** A raw client that said OHAI and subscribed. */
async function subscribed(endpoint: string, path = "/", options: Map<string, string> = new Map([["RESYNC", "1"]]), cache = new Map<string, string>()): Promise<RawClient> {
  const client = rawClient(endpoint);
  expect(await client.request({ message: "OHAI" })).toEqual({ message: "OHAI_OK" });
  expect(await client.request({ message: "ICANHAZ", path, options, cache })).toEqual({ message: "ICANHAZ_OK" });
  return client;
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

const cheezburgers = (messages: readonly FmqMsg[]): Cheezburger[] => messages.filter((m): m is Cheezburger => m.message === "CHEEZBURGER");
const dataOf = (messages: readonly FmqMsg[]): number => cheezburgers(messages).reduce((sum, m) => sum + m.chunk.length, 0);

describe("handshake", () => {
  it("lets an anonymous client in, and refuses everyone when neither anonymous nor PLAIN access is configured", async () => {
    const source = await registry.directory("src");
    const open = await publisherOf(registry, source);
    expect(await rawClient(open.endpoint).request({ message: "OHAI" })).toEqual({ message: "OHAI_OK" });
    const closed = await publisherOf(registry, source, { config: { "security/anonymous": 0 } });
    const refused = rawClient(closed.endpoint);
    expect(await refused.request({ message: "OHAI" })).toEqual({ message: "SRSLY", reason: "access denied" });
    await eventually(() => closed.publisher.clientCount === 0, 2000, "the refused context to end");
  });

  it("answers commands out of place with RTFM, and a new OHAI restarts the session", async () => {
    const source = await registry.directory("src");
    const { endpoint, publisher } = await publisherOf(registry, source);
    const early = rawClient(endpoint);
    expect((await early.request({ message: "NOM", credit: 1n })).message).toBe("RTFM");
    expect((await early.request({ message: "ICANHAZ", path: "/" })).message).toBe("RTFM");
    const client = await subscribed(endpoint);
    expect((await client.request({ message: "CHEEZBURGER", filename: "/x" })).message).toBe("RTFM");
    const again = await subscribed(endpoint);
    expect(await again.request({ message: "OHAI" })).toEqual({ message: "OHAI_OK" });
    expect(await again.request({ message: "HUGZ" })).toEqual({ message: "HUGZ_OK" });
    await again.send({ message: "KTHXBAI" });
    await eventually(() => publisher.clientCount === 0, 2000, "KTHXBAI to end the session");
  });

  it("drops a goodbye from a peer with no session quietly: no answer, no subscriber joining or leaving", async () => {
    const source = await registry.directory("src");
    const logger = new MemoryLogger();
    const events: PublisherEvent[] = [];
    const { endpoint, publisher } = await publisherOf(registry, source, { logger, onEvent: (event) => events.push(event) });
    // A subscriber whose session the publisher ended (expiry) says goodbye, then comes back: its first
    // answer is the new session's, not an RTFM for the goodbye.
    const client = rawClient(endpoint);
    await client.send({ message: "KTHXBAI" });
    expect(await client.request({ message: "OHAI" })).toEqual({ message: "OHAI_OK" });
    await client.send({ message: "KTHXBAI" });
    await eventually(() => publisher.clientCount === 0, 2000, "the goodbye to end the session");
    expect(client.all).toEqual([{ message: "OHAI_OK" }]);
    expect(events.filter((event) => event.type === "joined" || event.type === "left").map((event) => event.type)).toEqual(["joined", "left"]);
    expect(logger.messages().filter((message) => /refused|not valid/.test(message))).toEqual([]);
  });

  it("refuses a subscription whose path is not valid with SRSLY and ends the session", async () => {
    const source = await registry.directory("src");
    const { endpoint } = await publisherOf(registry, source);
    for (const path of ["../etc", "/a/../b", "//x", "/.hidden", ""]) {
      const client = rawClient(endpoint);
      expect(await client.request({ message: "OHAI" })).toEqual({ message: "OHAI_OK" });
      expect(await client.request({ message: "ICANHAZ", path })).toEqual({ message: "SRSLY", reason: "access denied" });
    }
  });
});

describe("credit (F2)", () => {
  it("never sends data beyond the credit granted, one file at a time, each CHEEZBURGER from the file being sent", async () => {
    const source = await registry.directory("src");
    const files = { "a.txt": "a".repeat(150), "b.txt": "b".repeat(150), "c.txt": "c".repeat(150) };
    await writeTree(source, files);
    const { endpoint } = await publisherOf(registry, source);
    const client = await subscribed(endpoint);
    let granted = 0;
    const grant = async (credit: number): Promise<void> => {
      granted += credit;
      await client.send({ message: "NOM", credit: BigInt(credit) });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(dataOf(client.all)).toBeLessThanOrEqual(granted);
    };
    await grant(100);
    expect(cheezburgers(client.all)).toEqual([]);
    await grant(100);
    expect(cheezburgers(client.all).map((m) => [m.filename, Number(m.offset), m.chunk.length, m.eof])).toEqual([["/a.txt", 0, 150, 0], ["/a.txt", 150, 0, 1]]);
    await grant(250);
    await eventually(() => cheezburgers(client.all).length === 6, 3000, "b and c");
    const sent = cheezburgers(client.all);
    expect(sent.map((m) => Number(m.sequence))).toEqual([0, 1, 2, 3, 4, 5]);
    for (const message of sent) {
      const name = message.filename.slice(1) as keyof typeof files;
      expect(Buffer.from(message.chunk).toString()).toBe(files[name].slice(Number(message.offset), Number(message.offset) + message.chunk.length));
    }
    expect(dataOf(client.all)).toBe(450);
  });

  it("bounds the CHEEZBURGERs of one event, so messages from the client are answered in between", async () => {
    const source = await registry.directory("src");
    await writeTree(source, Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`empty/${i}`, ""])));
    const { endpoint } = await publisherOf(registry, source);
    const client = await subscribed(endpoint);
    await client.send({ message: "NOM", credit: 5_000_000n });
    await client.send({ message: "HUGZ" });
    await eventually(() => cheezburgers(client.all).length === 2000, 10_000, "2,000 empty files");
    const hugzOk = client.all.findIndex((m) => m.message === "HUGZ_OK");
    expect(hugzOk).toBeGreaterThan(0);
    expect(hugzOk).toBeLessThan(client.all.length - 1);
  });

  it("refuses credit outstanding beyond MAX_OUTSTANDING_CREDIT with RTFM, so that no peer can make it queue its whole tree", async () => {
    const source = await registry.directory("src");
    const { endpoint } = await publisherOf(registry, source);
    const reason = `credit outstanding beyond ${MAX_OUTSTANDING_CREDIT} octets`;
    const client = await subscribed(endpoint);
    await client.send({ message: "NOM", credit: BigInt(MAX_OUTSTANDING_CREDIT) - 1n });
    expect(await client.request({ message: "NOM", credit: 2n })).toEqual({ message: "RTFM", reason });
    const greedy = await subscribed(endpoint);
    expect(await greedy.request({ message: "NOM", credit: 2n ** 64n - 1n })).toEqual({ message: "RTFM", reason });
  });

  it("accepts subscriptions while it is sending (F13)", async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "big.bin": randomBytes(20_000_000), "other/x.txt": "x" });
    const { endpoint } = await publisherOf(registry, source);
    const client = await subscribed(endpoint, "/big");
    await client.send({ message: "NOM", credit: 20_000_001n });
    await client.send({ message: "ICANHAZ", path: "/other/", options: new Map([["RESYNC", "1"]]), cache: new Map() });
    await eventually(() => cheezburgers(client.all).some((m) => m.filename === "/other/x.txt" && m.chunk.length === 0), 10_000, "x.txt");
    expect(client.all.some((m) => m.message === "ICANHAZ_OK")).toBe(true);
    expect(client.all.some((m) => m.message === "RTFM")).toBe(false);
    expect(dataOf(client.all)).toBe(20_000_001);
  });
});

describe("RESYNC (F4, §11.4)", () => {
  it("on a root subscription skips files whose digest the client has (in either case), sends the rest, and deletes what is gone", async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "same.txt": "same\n", "diff.txt": "new\n", "sub/also-same.txt": "also\n" });
    const { endpoint } = await publisherOf(registry, source);
    const cache = new Map([
      ["same.txt", await digestFile(join(source, "same.txt"))],
      ["sub/also-same.txt", (await digestFile(join(source, "sub/also-same.txt"))).toLowerCase()],
      ["diff.txt", "15C0F3C4B5D8E2A1A0F6D5B2C9E8F7A6B5C4D3E2"],
      ["vanished.txt", "2C98A5F1E0D7C6B5A4938271605F4E3D2C1B0A99"],
      ["../escape", "2C98A5F1E0D7C6B5A4938271605F4E3D2C1B0A99"],
    ]);
    const client = await subscribed(endpoint, "/", new Map([["RESYNC", "1"]]), cache);
    await client.send({ message: "NOM", credit: 5_000_000n });
    await eventually(() => cheezburgers(client.all).length === 3, 3000, "the changed file and the delete");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cheezburgers(client.all).map((m) => [m.operation, m.filename, m.chunk.length])).toEqual([[1, "/diff.txt", 4], [1, "/diff.txt", 0], [2, "/vanished.txt", 0]]);
  });

  it("deletes no cached file the publisher has but has not announced yet (still being written)", async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "fresh.txt": "being written\n" });
    // A long stability age: the file is there, but not stable when the client resyncs.
    const publisher = registry.add(await startPublisher({ logger: testLogger, mounts: [{ location: source, alias: "/" }], config: { ...FAST_CONFIG, "server/stable_age": 60_000 } }), (p) => p.close());
    const endpoint = await publisher.bind("tcp://127.0.0.1:*");
    const client = await subscribed(endpoint, "/", new Map([["RESYNC", "1"]]), new Map([["fresh.txt", "2C98A5F1E0D7C6B5A4938271605F4E3D2C1B0A99"]]));
    await client.send({ message: "NOM", credit: 5_000_000n });
    expect(await client.request({ message: "HUGZ" })).toEqual({ message: "HUGZ_OK" });
    expect(cheezburgers(client.all)).toEqual([]);
  });

  it("without RESYNC sends only what changes after the subscription", async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "old.txt": "old\n" });
    // Stable before the publisher starts: it is part of the tree, not a change.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { endpoint } = await publisherOf(registry, source);
    const client = await subscribed(endpoint, "/", new Map());
    await client.send({ message: "NOM", credit: 5_000_000n });
    await writeTree(source, { "new.txt": "new\n" });
    await eventually(() => cheezburgers(client.all).length === 2, 5000, "the new file");
    expect(cheezburgers(client.all).map((m) => m.filename)).toEqual(["/new.txt", "/new.txt"]);
  });
});

describe("heartbeats and expiry (§8)", () => {
  it("sends HUGZ after a second of silence and expires a client silent for three", { timeout: 15_000 }, async () => {
    const source = await registry.directory("src");
    const { endpoint, publisher } = await publisherOf(registry, source);
    const client = await subscribed(endpoint);
    const started = Date.now();
    expect(await client.nextOf("HUGZ", 3000)).toEqual({ message: "HUGZ" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // Answering keeps the session; HUGZ-OK is a sign of life like any other message.
    for (let i = 0; i < 3; i++) {
      await client.nextOf("HUGZ", 3000);
      await client.send({ message: "HUGZ_OK" });
    }
    expect(publisher.clientCount).toBe(1);
    expect(client.all.some((m) => m.message === "RTFM")).toBe(false);
    await eventually(() => publisher.clientCount === 0, 6000, "the silent client to expire");
    expect(Date.now() - started).toBeGreaterThanOrEqual(5500);
  });
});

describe("subscribers that leave in the middle of a file", () => {
  it("neither crash the publisher nor leave the file open, and others are served", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "big.bin": randomBytes(40_000_000) });
    const { endpoint, publisher } = await publisherOf(registry, source);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // Each leaves at a different point of its transfer, so that some leave while a chunk is being read.
      for (let i = 0; i < 30; i++) {
        const client = await subscribed(endpoint);
        await client.send({ message: "NOM", credit: 50_000_000n });
        await client.nextOf("CHEEZBURGER");
        await new Promise((resolve) => setTimeout(resolve, (i % 8) * 7));
        client.close();
      }
      await eventually(() => publisher.clientCount === 0, 10_000, "every session to end");
      await eventually(() => openOn(join(source, "big.bin")) === 0, 5000, "the file to be closed");
      const inbox = await registry.directory("inbox");
      const { subscriber } = await subscriberOf(registry, endpoint, inbox);
      await subscriber.caughtUp();
      await mirrored(source, inbox);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("a peer that takes credit and never reads", () => {
  it("has its session ended once its queue is full, its file closed, and the others served", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "big.bin": randomBytes(40_000_000) });
    const logger = new MemoryLogger();
    // A small queue, so that the credit this peer grants overflows it (the default is PEER_QUEUE_LIMIT).
    const { endpoint, publisher } = await publisherOf(registry, source, { logger, sendHighWaterMark: 4 });
    // It reads nothing, and takes as little as ZeroMQ and the kernel let it: what the publisher sends for it
    // stays in the publisher's queue.
    const hostile = registry.add(new Dealer({ linger: 0, receiveHighWaterMark: 1, receiveBufferSize: 65_536 }), async (socket) => socket.close());
    hostile.connect(endpoint);
    await hostile.send(encode({ message: "OHAI" }));
    await hostile.send(encode({ message: "ICANHAZ", path: "/", options: new Map([["RESYNC", "1"]]), cache: new Map() }));
    await hostile.send(encode({ message: "NOM", credit: 40_000_001n }));
    await eventually(() => logger.messages("warn").some((line) => /session ended: it does not read what the server sends \(4 messages queued for it\)/.test(line)), 10_000, "the hostile session to end");
    await eventually(() => publisher.clientCount === 0, 5000, "no session left");
    await eventually(() => openOn(join(source, "big.bin")) === 0, 5000, "the file to be closed");
    const inbox = await registry.directory("inbox");
    const { subscriber } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    await mirrored(source, inbox);
  });
});

describe("malformed input (F1)", () => {
  it("drops every malformed vector and garbage, answers nothing to them, and keeps serving everyone", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "big.bin": randomBytes(30_000_000), "small.txt": "small\n" });
    const { endpoint } = await publisherOf(registry, source);
    const inbox = await registry.directory("inbox");
    const { subscriber } = await subscriberOf(registry, endpoint, inbox);
    const hostile = rawClient(endpoint);
    expect(await hostile.request({ message: "OHAI" })).toEqual({ message: "OHAI_OK" });
    const negatives = readVectors("fmq_msg").filter((record) => record.expect === "error");
    expect(negatives.length).toBeGreaterThan(300);
    for (const record of negatives) await hostile.sendFrames(framesOf(record));
    for (let i = 0; i < 200; i++) await hostile.sendFrames([randomBytes(1 + (i % 40))]);
    await hostile.sendFrames([Buffer.from("aaa3010646494c454d510002", "hex")]);
    await subscriber.caughtUp();
    await mirrored(source, inbox);
    // Still served, and none of the garbage drew an answer. The hostile client sat silent meanwhile, so the
    // server heartbeats it and may have ended its session: it opens one again, which works either way.
    await hostile.send({ message: "OHAI" });
    expect(await hostile.nextOf("OHAI_OK")).toEqual({ message: "OHAI_OK" });
    expect(hostile.all.filter((m) => m.message !== "HUGZ" && m.message !== "OHAI_OK")).toEqual([]);
    expect(readFileSync(join(inbox, "small.txt"), "utf8")).toBe("small\n");
    await rm(join(source, "small.txt"));
    await eventually(() => { try { readFileSync(join(inbox, "small.txt")); return false; } catch { return true; } }, 5000, "the delete to arrive");
    await writeFile(join(source, "after.txt"), "after\n");
    await mirrored(source, inbox);
  });
});
