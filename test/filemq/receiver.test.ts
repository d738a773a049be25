/**
 * The subscriber's receiver on a real inbox (`filemq.md` §11.2): a session that ends while a CHEEZBURGER is
 * still being applied (the subscriber closing on SIGTERM, say) leaves no temporary file behind.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Inbox } from "../../protocols/filemq/inbox.js";
import { Receiver } from "../../protocols/filemq/receiver.js";
import { Registry, allPaths, testLogger } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

describe("receiver", () => {
  it("ends a session after the CHEEZBURGER being applied, so that its temporary file goes too", async () => {
    const inbox = await Inbox.open(await registry.directory("inbox"), { logger: testLogger });
    const receiver = new Receiver(inbox, testLogger);
    // The first chunk of a file in a new directory: applying it waits for the directory to be made.
    const applying = receiver.accept({ message: "CHEEZBURGER", sequence: 0n, operation: 1, filename: "/new/dir/file.bin", offset: 0n, eof: 0, headers: new Map(), chunk: Buffer.alloc(100) });
    await receiver.reset();
    expect((await applying).kind).toBe("progress");
    expect(await allPaths(inbox.root)).toEqual([".cache", "new", "new/dir"]);
    await inbox.close();
  });
});
