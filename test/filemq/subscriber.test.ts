/**
 * The subscriber's side of FILEMQ/1 against a raw ROUTER that decides every byte (`filemq.md` §7, §8,
 * §11.2, §12): a conversation made of the C-captured vector frames (SASL and CHEEZBURGER cases), a hostile
 * server's filenames and deletes (F6), chunks out of order and sequence gaps (restart with RESYNC), RTFM and
 * silence (reconnect with backoff and replayed subscriptions, F5), SRSLY (no retry), and the caught-up signal.
 */
import { mkdir, readFile, readdir, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FmqMsgDraft } from "../../generated/filemq/fmq_msg.js";
import { freeEndpoint } from "../engine/support.js";
import { MemoryLogger } from "../support/engines.js";
import { RawServer, type FromClient } from "./peers.js";
import { Registry, allPaths, eventSeen, eventually, fmqVector, subscriberOf, vectorFrames } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

const hexFrames = (frames: readonly Buffer[]): string[] => frames.map((frame) => frame.toString("hex"));

async function rawServer(): Promise<RawServer> {
  const server = registry.add(new RawServer(), async (s) => s.close());
  await server.bind();
  return server;
}

/** A raw server, a subscriber connected to it, and the subscriber's OHAI and ICANHAZ (answered with OHAI-OK, ICANHAZ-OK). */
async function session(options: Parameters<typeof subscriberOf>[3] = {}): Promise<{ server: RawServer; inbox: string; events: Awaited<ReturnType<typeof subscriberOf>>["events"]; subscriber: Awaited<ReturnType<typeof subscriberOf>>["subscriber"]; peer: Buffer }> {
  const server = await rawServer();
  const inbox = await registry.directory("inbox");
  const { subscriber, events } = await subscriberOf(registry, server.endpoint, inbox, { heartbeat: 400, backoff: { initial: 100, max: 400 }, ...options });
  const ohai = await server.nextOf("OHAI");
  await server.send(ohai.routingId, { message: "OHAI_OK" });
  await server.nextOf("ICANHAZ");
  await server.send(ohai.routingId, { message: "ICANHAZ_OK" });
  await server.nextOf("NOM");
  return { server, inbox, events, subscriber, peer: ohai.routingId };
}

/** Sends a whole file as one data CHEEZBURGER and the end-of-file one. */
async function sendFile(server: RawServer, peer: Buffer, sequence: { next: bigint }, filename: string, contents: string): Promise<void> {
  const data = Buffer.from(contents);
  await server.send(peer, { message: "CHEEZBURGER", sequence: sequence.next++, operation: 1, filename, offset: 0n, chunk: data });
  await server.send(peer, { message: "CHEEZBURGER", sequence: sequence.next++, operation: 1, filename, offset: BigInt(data.length), chunk: new Uint8Array() });
}

describe("a conversation of C-captured frames", () => {
  it("OHAI, ORLY/YARLY (SASL PLAIN guest/guest), OHAI-OK, ICANHAZ, NOM, CHEEZBURGERs and a delete", async () => {
    const server = await rawServer();
    const inbox = await registry.directory("inbox");
    const { events } = await subscriberOf(registry, server.endpoint, inbox, { login: "guest", password: "guest", resync: false });
    const ohai = await server.nextOf("OHAI");
    expect(hexFrames(ohai.frames)).toEqual(fmqVector("OHAI", "empty").frames);
    await server.sendFrames(ohai.routingId, vectorFrames(fmqVector("ORLY", "sasl-offer-plain")));
    expect(hexFrames((await server.nextOf("YARLY")).frames)).toEqual(fmqVector("YARLY", "sasl-plain-guest").frames);
    await server.sendFrames(ohai.routingId, vectorFrames(fmqVector("OHAI-OK", "empty")));
    expect(hexFrames((await server.nextOf("ICANHAZ")).frames)).toEqual(fmqVector("ICANHAZ", "subscribe-root").frames);
    expect(hexFrames((await server.nextOf("NOM")).frames)).toEqual(fmqVector("NOM", "first-credit").frames);
    await server.sendFrames(ohai.routingId, vectorFrames(fmqVector("CHEEZBURGER", "file-chunk")));
    await server.sendFrames(ohai.routingId, vectorFrames(fmqVector("CHEEZBURGER", "end-of-file")));
    await eventSeen(events, (event) => event.type === "delivered", 5000, "hello.txt");
    expect(await readFile(join(inbox, "hello.txt"), "utf8")).toBe("Hello, World\n");
    await server.sendFrames(ohai.routingId, vectorFrames(fmqVector("CHEEZBURGER", "delete")));
    await eventSeen(events, (event) => event.type === "deleted", 5000, "the delete");
    expect(await allPaths(inbox)).toEqual([".cache"]);
  });

  it("SRSLY as the C server sends it on a wrong password ends the session for good", async () => {
    const server = await rawServer();
    const inbox = await registry.directory("inbox");
    const { events } = await subscriberOf(registry, server.endpoint, inbox, { login: "guest", password: "wrong", backoff: { initial: 50, max: 100 } });
    const ohai = await server.nextOf("OHAI");
    await server.sendFrames(ohai.routingId, vectorFrames(fmqVector("ORLY", "sasl-offer-plain")));
    await server.nextOf("YARLY");
    await server.sendFrames(ohai.routingId, vectorFrames(fmqVector("SRSLY", "denied-no-reason")));
    await eventSeen(events, (event) => event.type === "denied", 5000, "denied");
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(server.count("OHAI")).toBe(1);
  });

  it("a server offering no mechanism it knows, or PLAIN to a client without credentials, is reported and not retried", async () => {
    for (const credentials of [{ login: "guest", password: "guest" }, {}]) {
      const server = await rawServer();
      const inbox = await registry.directory("inbox");
      const { events } = await subscriberOf(registry, server.endpoint, inbox, { ...credentials, backoff: { initial: 50, max: 100 } });
      const ohai = await server.nextOf("OHAI");
      await server.send(ohai.routingId, { message: "ORLY", mechanisms: "login" in credentials ? ["GSSAPI"] : ["PLAIN"], challenge: new Uint8Array() });
      await eventSeen(events, (event) => event.type === "denied", 5000, "denied");
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(server.count("OHAI")).toBe(1);
      expect(server.count("YARLY")).toBe(0);
    }
  });
});

describe("a hostile server (F6)", () => {
  it("writes and deletes nothing outside the inbox, whatever the filename, and goes on with the session", async () => {
    const { server, inbox, events, peer } = await session();
    const outside = await registry.directory("outside");
    await writeFile(join(outside, "victim"), "keep me\n");
    await symlink(outside, join(inbox, "link"));
    await writeFile(join(inbox, ".cache"), "");
    const sequence = { next: 0n };
    const attacks = ["../escape", "/../escape", "/a/../../escape", "//abs", "/abs/", ".cache", "/.cache", "/link/pwned", "/link/deep/pwned",
      "\\..\\escape", "/C:/escape", "/.fmq-0123.part", "/tab\tname", "/del\u007f"];
    for (const filename of attacks) await sendFile(server, peer, sequence, filename, `attack via ${filename}\n`);
    for (const filename of ["../victim", "/link/victim", "//victim"]) {
      await server.send(peer, { message: "CHEEZBURGER", sequence: sequence.next++, operation: 2, filename, offset: 0n });
    }
    await sendFile(server, peer, sequence, "/ok.txt", "fine\n");
    await eventSeen(events, (event) => event.type === "delivered" && event.filename === "/ok.txt", 5000, "ok.txt");
    expect(await allPaths(outside)).toEqual(["victim"]);
    expect(await readFile(join(outside, "victim"), "utf8")).toBe("keep me\n");
    expect((await allPaths(inbox)).filter((name) => name !== ".cache")).toEqual(["link", "ok.txt"]);
    expect(await readFile(join(inbox, ".cache"), "utf8")).not.toMatch(/attack/);
    // One event per refused file (its further chunks are dropped quietly) and per refused delete.
    expect(events.filter((event) => event.type === "refused").length).toBe(attacks.length + 3);
    // Nothing of that ended the session.
    expect(server.count("OHAI")).toBe(1);
    // The directory every `..` attack aims at: one level, as walking all of it would race other tests' files.
    expect(await readdir(join(inbox, ".."))).not.toContain("escape");
  });

  it("does not follow a symbolic link put in place of a directory it made earlier", async () => {
    const { server, inbox, events, peer } = await session();
    const outside = await registry.directory("outside");
    const sequence = { next: 0n };
    await sendFile(server, peer, sequence, "/d/first.txt", "first\n");
    await eventSeen(events, (event) => event.type === "delivered", 5000, "first.txt");
    // Someone on the subscriber's machine swaps the directory for a link to elsewhere.
    await rename(join(inbox, "d"), join(inbox, "d-moved"));
    await symlink(outside, join(inbox, "d"));
    await sendFile(server, peer, sequence, "/d/second.txt", "second\n");
    await eventSeen(events, (event) => event.type === "refused" && event.filename === "/d/second.txt", 5000, "the refusal");
    expect(await allPaths(outside)).toEqual([]);
  });
});

describe("transfer errors restart the session with RESYNC, on a new connection", () => {
  const cases: [string, (server: RawServer, peer: Buffer) => Promise<void>][] = [
    ["a chunk out of place", async (server, peer) => {
      await server.send(peer, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/f.bin", offset: 0n, chunk: Buffer.alloc(10, 1) });
      await server.send(peer, { message: "CHEEZBURGER", sequence: 1n, operation: 1, filename: "/f.bin", offset: 20n, chunk: Buffer.alloc(10, 2) });
    }],
    ["a gap in the sequence", async (server, peer) => {
      await server.send(peer, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/f.bin", offset: 0n, chunk: Buffer.alloc(10, 1) });
      await server.send(peer, { message: "CHEEZBURGER", sequence: 2n, operation: 1, filename: "/f.bin", offset: 10n, chunk: Buffer.alloc(10, 2) });
    }],
    ["a chunk of another file in the middle of one", async (server, peer) => {
      await server.send(peer, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/f.bin", offset: 0n, chunk: Buffer.alloc(10, 1) });
      await server.send(peer, { message: "CHEEZBURGER", sequence: 1n, operation: 1, filename: "/g.bin", offset: 0n, chunk: Buffer.alloc(10, 2) });
    }],
    ["data beyond the credit granted (the first NOM granted 5,000,000 octets)", async (server, peer) => {
      await server.send(peer, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/f.bin", offset: 0n, chunk: Buffer.alloc(6_000_000, 1) });
    }],
    ["a chunk of a file not begun", async (server, peer) => {
      await server.send(peer, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/f.bin", offset: 5n, chunk: Buffer.alloc(10, 1) });
    }],
  ];

  it.each(cases)("%s", async (_name, misbehave) => {
    // A long heartbeat: the new session must come from the transfer error, not from the server's silence.
    // Frames up to 8 MiB (beyond the default 1 MiB limit), so that a chunk beyond the credit reaches the client.
    const { server, inbox, peer, events } = await session({ heartbeat: 20_000, maxMessageSize: 8 * 1024 * 1024 });
    await misbehave(server, peer);
    const again = await server.nextOf("OHAI", 5000);
    expect(events.filter((event) => event.type === "disconnected")).toEqual([{ type: "disconnected", reason: "transfer error" }]);
    expect(again.routingId.equals(peer)).toBe(false);
    await server.send(again.routingId, { message: "OHAI_OK" });
    const icanhaz = await server.nextOf("ICANHAZ");
    expect(icanhaz.message.options.get("RESYNC")).toBe("1");
    expect(await allPaths(inbox)).toEqual([".cache"]);
  });
});

describe("liveness (§8, F5)", () => {
  it("answers HUGZ, heartbeats a silent server, and reconnects when it stays silent, replaying subscriptions", async () => {
    const { server, peer, events } = await session({ paths: ["/a/", "/b/"] });
    await server.send(peer, { message: "HUGZ" });
    expect((await server.nextOf("HUGZ_OK")).routingId.equals(peer)).toBe(true);
    const silentFrom = Date.now();
    await server.nextOf("HUGZ", 2000);
    await server.nextOf("HUGZ", 2000);
    const again = await server.nextOf("OHAI", 3000);
    expect(Date.now() - silentFrom).toBeGreaterThanOrEqual(1100);
    expect(again.routingId.equals(peer)).toBe(false);
    expect(events.some((event) => event.type === "disconnected" && event.reason === "server silent")).toBe(true);
    await server.send(again.routingId, { message: "OHAI_OK" });
    expect((await server.nextOf("ICANHAZ")).message.path).toBe("/a/");
    expect((await server.nextOf("ICANHAZ")).message.path).toBe("/b/");
  });

  it("tells a server sending files that need no new credit that it is alive, at least every heartbeat", async () => {
    // Small files use the credit slowly, so no NOM is due for a long while; a subscriber slow to write them
    // (fsync on a busy disk) answers the server's HUGZ only after the files queued before it, too late.
    const { server, peer } = await session({ heartbeat: 300 });
    const sequence = { next: 0n };
    const started = Date.now();
    for (let i = 0; Date.now() - started < 1500; i++) {
      await sendFile(server, peer, sequence, `/small/${i}.txt`, "x");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await eventually(() => server.count("NOM") >= 1 + 3, 3000, "NOMs while the files arrive");
    const later = server.received.items.filter((item) => item.message.message === "NOM").slice(1);
    expect(later.every((item) => item.message.message === "NOM" && item.message.credit === 0n)).toBe(true);
    expect(server.count("HUGZ")).toBe(0);
  });

  it("reconnects after RTFM (the C client stopped for good), with a backoff that doubles", async () => {
    const { server, peer, events } = await session({ backoff: { initial: 300, max: 5000 }, heartbeat: 20_000 });
    const rtfm: FmqMsgDraft = { message: "RTFM", reason: "who are you?" };
    await server.send(peer, rtfm);
    const first = await server.nextOf("OHAI", 3000);
    const firstAt = Date.now();
    await server.send(first.routingId, rtfm);
    await server.nextOf("OHAI", 3000);
    // The second wait is twice the first (the session never got to OHAI-OK, so the backoff kept growing).
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(550);
    expect(events.filter((event) => event.type === "disconnected")).toEqual(Array(2).fill({ type: "disconnected", reason: "server refused a command: who are you?" }));
  });
});

describe("caught up", () => {
  it("is signalled after a quiet period, confirmed by a HUGZ round trip with nothing before its answer", async () => {
    const { server, peer, events } = await session({ quiet: 200 });
    const sequence = { next: 0n };
    await sendFile(server, peer, sequence, "/one.txt", "1\n");
    // The probe: a HUGZ after the quiet period. A CHEEZBURGER before its answer means "not yet".
    const probe: FromClient = await server.nextOf("HUGZ", 3000);
    await sendFile(server, peer, sequence, "/two.txt", "2\n");
    await server.send(probe.routingId, { message: "HUGZ_OK" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.some((event) => event.type === "caught-up")).toBe(false);
    const second = await server.nextOf("HUGZ", 3000);
    await server.send(second.routingId, { message: "HUGZ_OK" });
    await eventSeen(events, (event) => event.type === "caught-up", 3000, "caught-up");
    const delivered = events.filter((event) => event.type === "delivered").length;
    expect(delivered).toBe(2);
  });

  it("waits for every subscription to be answered: a server may take a while to queue a RESYNC's files", async () => {
    const server = await rawServer();
    const { events } = await subscriberOf(registry, server.endpoint, await registry.directory("inbox"), { quiet: 100, heartbeat: 5000 });
    const ohai = await server.nextOf("OHAI");
    await server.send(ohai.routingId, { message: "OHAI_OK" });
    await server.nextOf("ICANHAZ");
    await server.nextOf("NOM");
    // Quiet for six times the quiet time, but the subscription is not answered yet: no probe.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(server.count("HUGZ")).toBe(0);
    await server.send(ohai.routingId, { message: "ICANHAZ_OK" });
    const probe = await server.nextOf("HUGZ", 3000);
    await server.send(probe.routingId, { message: "HUGZ_OK" });
    await eventSeen(events, (event) => event.type === "caught-up", 3000, "caught-up");
  });

  it("is not signalled while a file is open", async () => {
    const { server, peer, events } = await session({ quiet: 150 });
    await server.send(peer, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/half.bin", offset: 0n, chunk: Buffer.alloc(100) });
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(server.count("HUGZ")).toBeLessThanOrEqual(2);
    for (let i = 0; i < server.count("HUGZ"); i++) await server.send(peer, { message: "HUGZ_OK" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.some((event) => event.type === "caught-up")).toBe(false);
  });
});

describe("closing", () => {
  it("ends a wait for caught-up with an error instead of leaving it pending", async () => {
    const { subscriber } = await session();
    const waiting = expect(subscriber.caughtUp()).rejects.toThrow("the subscriber is closed");
    await subscriber.close();
    await waiting;
    await expect(subscriber.caughtUp()).rejects.toThrow("the subscriber is closed");
  });

  it("owes no goodbye before a session opens: closing while its OHAI waits for a server that is not there is not held up", async () => {
    const logger = new MemoryLogger();
    const { subscriber } = await subscriberOf(registry, await freeEndpoint(), await registry.directory("inbox"), { logger });
    expect(subscriber.client.state).toBe("requesting");
    await subscriber.close({ unsent: "warn" });
    expect(logger.messages("warn").filter((message) => /not sent/.test(message))).toEqual([]);
  });

  it("owes no goodbye once its session is over: closing while it waits to reconnect to a server that is gone is not held up", async () => {
    const logger = new MemoryLogger();
    const { server, events, subscriber } = await session({ logger, backoff: { initial: 60_000 } });
    server.close();
    await eventSeen(events, (event) => event.type === "disconnected", 5000, "the silent server given up");
    expect(subscriber.client.state).toBe("reconnecting");
    // A goodbye queued now could only wait for a connection that is not there, for the whole timeout.
    await subscriber.close({ unsent: "warn" });
    expect(logger.messages("warn").filter((message) => /not sent/.test(message))).toEqual([]);
  });

  it("leaves no temporary file when closed in the middle of a file", async () => {
    const { server, inbox, peer, events, subscriber } = await session();
    await mkdir(join(inbox, "d"), { recursive: true });
    await server.send(peer, { message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/d/half.bin", offset: 0n, chunk: Buffer.alloc(1000) });
    await eventSeen(events, (event) => event.type === "progress", 3000, "the first chunk");
    expect((await allPaths(inbox)).some((name) => name.endsWith(".part"))).toBe(true);
    await subscriber.close();
    expect(await allPaths(inbox)).toEqual([".cache", "d"]);
    await eventually(() => server.count("KTHXBAI") === 1, 2000, "KTHXBAI");
  });
});
