/**
 * A publisher and subscribers on tcp 127.0.0.1 with real directories: whole trees mirror with equal SHA-256
 * for every file; changes, shorter rewrites (F3), deletes (F8) and renames propagate; subscriptions get
 * exactly the files under their paths from any mount (F7); a returning subscriber gets what changed while it
 * was away and nothing it already has (F4, F9).
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { appendFile, mkdir, readFile, readdir, realpath, rename, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { digestFile } from "../../protocols/filemq/digests.js";
import { ConfigurationError } from "../../protocols/filemq/server-config.js";
import { startRelay } from "../../protocols/filemq/relay.js";
import { startPublisher, type PublisherEvent } from "../../protocols/filemq/server.js";
import { ZplNode } from "../../runtime/zpl/tree.js";
import { MemoryLogger } from "../support/engines.js";
import { Registry, eventSeen, eventually, mirrored, publisherOf, subscriberOf, testLogger, treeDigests, writeTree } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

describe("mirroring", () => {
  it("a tree with nested directories, empty files, non-ASCII names, a 50 MB file and 1,000 small files", { timeout: 60_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    const files: Record<string, Uint8Array | string> = {
      "top.txt": "top level\n",
      "empty.txt": "",
      "a/b/c/d/e/deep.txt": "five levels down\n",
      "a/b/empty-too": "",
      "héllo wörld/日本語 ファイル.txt": "non-ASCII names\n",
      "emoji 🎉/ü-ü.bin": randomBytes(1234),
      "big/fifty.bin": randomBytes(50 * 1024 * 1024),
    };
    for (let i = 0; i < 1000; i++) files[`small/${i % 10}/file-${i}.dat`] = randomBytes(i % 7 === 0 ? 0 : 1 + ((i * 97) % 5000));
    await writeTree(source, files);
    const { endpoint } = await publisherOf(registry, source);
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    const want = await treeDigests(source);
    expect(want.size).toBe(1007);
    expect(await treeDigests(inbox)).toEqual(want);
    expect(events.filter((event) => event.type === "delivered").length).toBe(1007);
  });

  it.each([
    ["found by file watching", true],
    ["found by the periodic rescan alone (no file watching)", false],
  ])("propagates creates, changes, shorter rewrites, truncation, deletes, renames and directory removal, %s", { timeout: 30_000 }, async (_how, watch) => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    await writeTree(source, {
      "keep.txt": "unchanged\n",
      "grow.txt": "short\n",
      "shrink.txt": "this line is thirty-seven octets long",
      "cut.bin": randomBytes(3_000_000),
      "gone.txt": "to be deleted\n",
      "old-name.txt": "to be renamed\n",
      "dir/x.txt": "x\n",
      "dir/sub/y.txt": "y\n",
    });
    const { endpoint } = await publisherOf(registry, source, { watch });
    const { subscriber } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    await mirrored(source, inbox);

    await appendFile(join(source, "grow.txt"), "and longer now\n");
    await writeFile(join(source, "shrink.txt"), "short!");
    await truncate(join(source, "cut.bin"), 1_500_000);
    await rm(join(source, "gone.txt"));
    await rename(join(source, "old-name.txt"), join(source, "new-name.txt"));
    await rm(join(source, "dir"), { recursive: true });
    await writeTree(source, { "new/file.txt": "created while running\n" });
    await mirrored(source, inbox);
    // F3: exactly the new bytes, no stale tail of the 37-octet version.
    expect(await readFile(join(inbox, "shrink.txt"), "utf8")).toBe("short!");
    expect((await stat(join(inbox, "cut.bin"))).size).toBe(1_500_000);
    // Directories emptied by deletes go too; hidden files (the cache) stay.
    expect((await readdir(inbox)).sort()).toEqual([".cache", "cut.bin", "grow.txt", "keep.txt", "new", "new-name.txt", "shrink.txt"]);
  });

  it("gives each subscription exactly the files under its path, from any mount (F7)", { timeout: 30_000 }, async () => {
    const root = await registry.directory("root");
    const logs = await registry.directory("logs");
    await writeTree(root, { "readme.txt": "r\n", "logs2/other.txt": "prefix, not directory\n", "public/p.txt": "p\n" });
    await writeTree(logs, { "today.log": "t\n", "archive/old.log": "o\n" });
    const { endpoint } = await publisherOf(registry, root, { mounts: [{ location: root, alias: "/" }, { location: logs, alias: "/logs" }] });
    const cases: [string[], string[]][] = [
      [["/logs/"], ["logs/archive/old.log", "logs/today.log"]],
      [["/logs"], ["logs/archive/old.log", "logs/today.log", "logs2/other.txt"]],
      [["/public/", "/readme.txt"], ["public/p.txt", "readme.txt"]],
      [["/"], ["logs/archive/old.log", "logs/today.log", "logs2/other.txt", "public/p.txt", "readme.txt"]],
    ];
    for (const [paths, expected] of cases) {
      const inbox = await registry.directory("inbox");
      const { subscriber } = await subscriberOf(registry, endpoint, inbox, { paths });
      await subscriber.caughtUp();
      expect([...(await treeDigests(inbox)).keys()]).toEqual(expected);
    }
  });

  it("a subscription made while connected gets the existing files under it at once", async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    await writeTree(source, { "a/one.txt": "1\n", "b/two.txt": "2\n" });
    const { endpoint } = await publisherOf(registry, source);
    const { subscriber } = await subscriberOf(registry, endpoint, inbox, { paths: ["/a/"] });
    await subscriber.caughtUp();
    expect([...(await treeDigests(inbox)).keys()]).toEqual(["a/one.txt"]);
    const caughtUp = subscriber.caughtUp();
    await subscriber.subscribe("/b/");
    await caughtUp;
    expect([...(await treeDigests(inbox)).keys()]).toEqual(["a/one.txt", "b/two.txt"]);
    await expect(subscriber.subscribe("../etc")).rejects.toThrow(/cannot subscribe/);
  });

  it("a returning subscriber gets what changed while it was away, and nothing it already has (F4, F9)", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    await writeTree(source, { "same.txt": "same\n", "diff.txt": "before\n", "gone.txt": "going\n", "local.txt": "publisher's\n" });
    const { endpoint } = await publisherOf(registry, source);
    const first = await subscriberOf(registry, endpoint, inbox);
    await first.subscriber.caughtUp();
    await first.subscriber.close();

    await writeFile(join(source, "diff.txt"), "after\n");
    await rm(join(source, "gone.txt"));
    await writeTree(source, { "new.txt": "new\n" });
    // Changed in the inbox behind the subscriber's back, with the same size: its digest must be recomputed.
    await writeFile(join(inbox, "local.txt"), "tampered!!!\n");
    await utimes(join(inbox, "local.txt"), new Date(), new Date(Date.now() + 5000));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const second = await subscriberOf(registry, endpoint, inbox);
    await second.subscriber.caughtUp();
    await mirrored(source, inbox);
    const delivered = second.events.flatMap((event) => (event.type === "delivered" ? [event.filename] : [])).sort();
    expect(delivered).toEqual(["/diff.txt", "/local.txt", "/new.txt"]);
    expect(second.events.some((event) => event.type === "deleted" && event.filename === "/gone.txt")).toBe(true);
  });
});

/**
 * Makes `path` a sparse file (no disk space) whose digest takes about `ms` here and now: a smaller one is
 * timed first.
 */
async function slowToDigest(path: string, ms: number): Promise<void> {
  const sample = 256 << 20;
  await writeFile(path, "");
  await truncate(path, sample);
  const started = performance.now();
  await digestFile(path);
  await truncate(path, Math.ceil((sample * ms) / (performance.now() - started)));
}

describe("a returning subscriber with more files than an ICANHAZ cache holds", () => {
  it("removes the files deleted while it was away that its cache could not name, once caught up", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    // 300 files of 1 to 300 octets: the cache names the 255 largest, so the 45 smallest are not in it.
    await writeTree(source, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}.txt`, "x".repeat(i + 1)])));
    const { endpoint } = await publisherOf(registry, source);
    const first = await subscriberOf(registry, endpoint, inbox);
    await first.subscriber.caughtUp();
    await first.subscriber.close();

    await rm(join(source, "f0.txt"));
    await rm(join(source, "f299.txt"));
    const second = await subscriberOf(registry, endpoint, inbox);
    await second.subscriber.caughtUp();
    await mirrored(source, inbox);
    const deleted = second.events.flatMap((event) => (event.type === "deleted" ? [event.filename] : [])).sort();
    expect(deleted).toEqual(["/f0.txt", "/f299.txt"]);
    // What the cache could not name is sent again: the 44 small files still published, and nothing else.
    const delivered = second.events.flatMap((event) => (event.type === "delivered" ? [event.filename] : []));
    expect(delivered.sort()).toEqual(Array.from({ length: 44 }, (_, i) => `/f${i + 1}.txt`).sort());
  });
});

describe("a returning subscriber with a large file in its inbox", () => {
  it("keeps its session while it computes the file's digest for longer than the publisher's expiry", { timeout: 90_000 }, async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "small.txt": "small\n" });
    const publisherEvents: PublisherEvent[] = [];
    // Heartbeat 1 s: the publisher ends a session silent for 3 s.
    const { endpoint } = await publisherOf(registry, source, { config: { "server/heartbeat": 1 }, onEvent: (event) => publisherEvents.push(event) });
    // A sparse file (no disk space) whose digest takes about three times that; it is not published, so the
    // publisher computes no digest of its own and answers it with a delete.
    const inbox = await registry.directory("inbox");
    await slowToDigest(join(inbox, "huge.bin"), 7500);
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox);
    await eventSeen(events, (event) => event.type === "connected", 10_000, "the session");
    const connectedAt = Date.now();
    await eventually(() => publisherEvents.some((event) => event.type === "subscribed"), 60_000, "the subscription, once the digest is known");
    // The premise: the digest took longer than the publisher waits for a silent subscriber.
    expect(Date.now() - connectedAt).toBeGreaterThan(3000);
    await subscriber.caughtUp();
    await mirrored(source, inbox);
    expect(events.filter((event) => event.type === "connected" || event.type === "disconnected")).toEqual([{ type: "connected", endpoint }]);
    expect(publisherEvents.filter((event) => event.type === "joined" || event.type === "left")).toEqual([{ type: "joined", client: 1 }]);
  });
});

describe("a publisher comparing a large file's digest for a returning subscriber", () => {
  it("keeps the session while it computes the digest for longer than the subscriber waits for a silent publisher, and sends nothing the subscriber has", { timeout: 120_000 }, async () => {
    const source = await registry.directory("src");
    await slowToDigest(join(source, "huge.bin"), 6000);
    const { size } = await stat(join(source, "huge.bin"));
    await writeTree(source, { "small.txt": "small\n" });
    const publisherEvents: { at: number; event: PublisherEvent }[] = [];
    const { endpoint } = await publisherOf(registry, source, { onEvent: (event) => publisherEvents.push({ at: Date.now(), event }) });
    // The subscriber has the same file (another sparse file of the same size: the same zeros), and computes its
    // digest first; the publisher computes its own only when the subscriber's ICANHAZ names it.
    const inbox = await registry.directory("inbox");
    await writeFile(join(inbox, "huge.bin"), "");
    await truncate(join(inbox, "huge.bin"), size);
    // Heartbeat 1 s: the subscriber gives up a publisher silent for 3 s.
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox, { heartbeat: 1000 });
    await subscriber.caughtUp();
    const subscribedAt = publisherEvents.find(({ event }) => event.type === "subscribed")?.at ?? Number.NaN;
    // The premise: the publisher took longer to compare than the subscriber waits.
    expect(Date.now() - subscribedAt).toBeGreaterThan(3000);
    await mirrored(source, inbox);
    expect(events.filter((event) => event.type === "connected" || event.type === "disconnected")).toEqual([{ type: "connected", endpoint }]);
    expect(events.filter((event) => event.type === "delivered").map((event) => event.type === "delivered" && event.filename)).toEqual(["/small.txt"]);
    expect(publisherEvents.filter(({ event }) => event.type === "joined" || event.type === "left").map(({ event }) => event)).toEqual([{ type: "joined", client: 1 }]);
  });
});

describe("a subscriber closed while it computes a digest", () => {
  it("stops reading the inbox before close() resolves, and keeps the file's entry in the cache", { timeout: 60_000 }, async () => {
    const source = await registry.directory("src");
    const { endpoint } = await publisherOf(registry, source);
    const inbox = await registry.directory("inbox");
    await slowToDigest(join(inbox, "huge.bin"), 5000);
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox);
    await eventSeen(events, (event) => event.type === "connected", 10_000, "the session");
    const huge = join(await realpath(inbox), "huge.bin");
    await eventually(() => openFiles().includes(huge), 10_000, "the digest of huge.bin under way");
    await subscriber.close();
    expect(openFiles()).not.toContain(huge);
    // Its digest is not known, but the file is: a later run computes it.
    expect(await readFile(join(inbox, ".cache"), "utf8")).toMatch(/^- \d+ \S+ huge\.bin$/m);
  });
});

/** The files this process has open. */
function openFiles(): string[] {
  return readdirSync("/proc/self/fd").map((fd) => {
    try {
      return readlinkSync(join("/proc/self/fd", fd));
    } catch {
      return "";
    }
  });
}

describe("configuration", () => {
  it("accepts the Guide's publish/virtual as a synonym of alias (F10)", async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    await writeTree(source, { "x.log": "x\n" });
    const configFile = join(await registry.directory("config"), "server.cfg");
    await writeFile(configFile, [
      "server", "    stable_age = 100", "publish", `    location = ${source}`, "    virtual = /logs",
      "security", "    echo = I: anonymous access", "    anonymous = 1", "",
    ].join("\n"));
    const publisher = registry.add(await startPublisher({ config: configFile, logger: testLogger }), (p) => p.close());
    const endpoint = await publisher.bind("tcp://127.0.0.1:*");
    const { subscriber } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    expect([...(await treeDigests(inbox)).keys()]).toEqual(["logs/x.log"]);
  });

  it.each([
    [{ "publish/location": "/tmp", "publish/alias": "/a", "publish/virtual": "/b" }, /alias "\/a" and virtual "\/b"/],
    [{ "publish/location": "/tmp" }, /has no alias/],
    [{ "publish/location": "/tmp", "publish/alias": "logs" }, /must start with \//],
    [{ "server/heartbeat": "1s" }, /server\/heartbeat must be a whole number/],
    [{ "security/anonymous": "yes" }, /must be 0 or 1/],
  ])("refuses a bad configuration at load time: %j", async (config, message) => {
    await expect(startPublisher({ config, logger: testLogger })).rejects.toThrow(message);
    await expect(startPublisher({ config, logger: testLogger })).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe("a published directory that is missing", () => {
  it("is reported once, not at every rescan, and published once it appears", { timeout: 15_000 }, async () => {
    const parent = await registry.directory("parent");
    const source = join(parent, "later");
    const logger = new MemoryLogger();
    const { endpoint, publisher } = await publisherOf(registry, source, { logger });
    const { subscriber } = await subscriberOf(registry, endpoint, await registry.directory("inbox"));
    await subscriber.caughtUp();
    const about = (): string[] => logger.messages("warn").filter((message) => message.includes(source));
    const before = about();
    expect(before).toContain(`${source} is not a directory: nothing is published from it until it is one`);
    for (let i = 0; i < 3; i++) await publisher.rescan();
    expect(about()).toEqual(before);
    await writeTree(source, { "now.txt": "here\n" });
    await publisher.rescan();
    await mirrored(source, subscriber.inbox.root);
  });
});

describe("a relay", () => {
  it("with an inbox that does not exist yet creates it and watches it: no warning, changes found without a rescan", { timeout: 20_000 }, async () => {
    const source = await registry.directory("src");
    await writeTree(source, { "up.txt": "from upstream\n" });
    const { endpoint: upstream } = await publisherOf(registry, source);
    const inbox = join(await registry.directory("relay"), "new", "inbox");
    const logger = new MemoryLogger();
    // No rescan within the test: what is found, file watching finds.
    const config = ZplNode.createRoot();
    config.set("security/anonymous", "1");
    config.set("server/monitor", "3600");
    const relay = registry.add(await startRelay({ upstream, inbox, logger, subscriber: { backoff: { initial: 200 } }, publisher: { config } }), (r) => r.close());
    await relay.subscriber.caughtUp();
    const downstream = await registry.directory("downstream");
    const { subscriber, events } = await subscriberOf(registry, await relay.bind("tcp://127.0.0.1:*"), downstream);
    await subscriber.caughtUp();
    await mirrored(source, downstream);
    // A file put into the relay's inbox by hand reaches its subscribers too, as in any published directory.
    await writeTree(inbox, { "local.txt": "written into the relay's inbox\n" });
    await eventSeen(events, (event) => event.type === "delivered" && event.filename === "/local.txt", 10_000, "the local file downstream");
    expect(logger.messages("warn")).toEqual([]);
  });
});

describe("files in flux", () => {
  it("announces a file it is told about at once, without file watching or a rescan (as a relay tells it)", async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    const { endpoint, publisher } = await publisherOf(registry, source, { watch: false, config: { "server/monitor": 3600 } });
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    await writeTree(source, { "told/about.txt": "news\n" });
    publisher.fileChanged(join(source, "told/about.txt"));
    await eventSeen(events, (event) => event.type === "delivered" && event.filename === "/told/about.txt", 5000, "the file");
    await rm(join(source, "told/about.txt"));
    publisher.fileChanged(join(source, "told/about.txt"));
    await eventSeen(events, (event) => event.type === "deleted" && event.filename === "/told/about.txt", 5000, "its delete");
  });

  it("publishes a file only once it is stable, and never a hidden one", async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    const { endpoint } = await publisherOf(registry, source, { config: { "server/stable_age": 800 } });
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    await mkdir(join(source, ".hidden"), { recursive: true });
    await writeTree(source, { ".secret": "no", ".hidden/x": "no", "growing.log": "1\n" });
    const written = Date.now();
    for (let i = 2; i <= 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      await appendFile(join(source, "growing.log"), `${i}\n`);
    }
    await eventSeen(events, (event) => event.type === "delivered", 10_000, "the file to arrive");
    expect(Date.now() - written).toBeGreaterThanOrEqual(1100);
    expect(events.filter((event) => event.type === "delivered").length).toBe(1);
    await mirrored(source, inbox);
    expect(await readFile(join(inbox, "growing.log"), "utf8")).toBe("1\n2\n3\n4\n");
  });
});
