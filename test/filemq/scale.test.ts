/**
 * FileMQ at size, on tcp 127.0.0.1: files queued together that need more than one credit window (the case
 * where the C server sent stale, empty CHEEZBURGERs, F2), 10,000 files of 4 KiB published at once, and 20
 * subscribers on one publisher (credit, sequence and file state per connection, F12).
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Registry, eventually, mirrored, publisherOf, subscriberOf, treeDigests, writeTree } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

describe("at size", () => {
  it("a 4.5 MB and a 3 MB file queued together both arrive whole", { timeout: 30_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    const { endpoint } = await publisherOf(registry, source);
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    await writeTree(source, { "four-and-a-half.bin": randomBytes(4_500_000), "three.bin": randomBytes(3_000_000) });
    await mirrored(source, inbox);
    const sizes = events.flatMap((event) => (event.type === "delivered" ? [[event.filename, event.size]] : []));
    expect(sizes).toEqual([["/four-and-a-half.bin", 4_500_000], ["/three.bin", 3_000_000]]);
  });

  it("10,000 files of 4 KiB published at once all arrive", { timeout: 120_000 }, async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    const { endpoint } = await publisherOf(registry, source);
    const { subscriber, events } = await subscriberOf(registry, endpoint, inbox, { fsync: false });
    await subscriber.caughtUp();
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10_000; i++) files[`d${i % 100}/f${i}.bin`] = randomBytes(4096);
    await writeTree(source, files);
    const delivered = (): number => events.filter((event) => event.type === "delivered").length;
    await eventually(() => delivered() >= 10_000, 100_000, `10,000 files (${delivered()} so far)`);
    expect(events.filter((event) => event.type === "disconnected")).toEqual([]);
    await mirrored(source, inbox, 10_000);
    expect(delivered()).toBe(10_000);
  });

  it("20 subscribers on one publisher all end identical", { timeout: 60_000 }, async () => {
    const source = await registry.directory("src");
    const files: Record<string, Uint8Array> = { "big.bin": randomBytes(8_000_000) };
    for (let i = 0; i < 100; i++) files[`small/${i}.dat`] = randomBytes(100 * i);
    await writeTree(source, files);
    const { endpoint } = await publisherOf(registry, source);
    const inboxes = await Promise.all(Array.from({ length: 20 }, () => registry.directory("inbox")));
    const subscribers = await Promise.all(inboxes.map((inbox) => subscriberOf(registry, endpoint, inbox)));
    await Promise.all(subscribers.map(({ subscriber }) => subscriber.caughtUp()));
    // A change while they are all connected reaches every one.
    await writeTree(source, { "late.txt": "everyone gets this\n" });
    const want = await treeDigests(source);
    await Promise.all(inboxes.map((inbox) => mirrored(source, inbox, 30_000)));
    for (const inbox of inboxes) expect(await treeDigests(inbox)).toEqual(want);
  });
});
