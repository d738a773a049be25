import { afterEach, describe, it } from "vitest";
import { Registry, mirrored, publisherOf, subscriberOf, writeTree } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

describe("smoke", () => {
  it("mirrors a small tree", async () => {
    const source = await registry.directory("src");
    const inbox = await registry.directory("inbox");
    await writeTree(source, { "a.txt": "hello", "d/e/f.txt": "deep", "empty": "" });
    const { endpoint } = await publisherOf(registry, source);
    const { subscriber } = await subscriberOf(registry, endpoint, inbox);
    await subscriber.caughtUp();
    await mirrored(source, inbox, 5000);
  });
});
