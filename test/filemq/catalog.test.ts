/**
 * The publisher's catalog on real files (`filemq.md` §11.1, §11.4): digests for RESYNC are computed once per
 * version of a file, however many subscribers ask at once.
 */
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Catalog, type PublishedFile } from "../../protocols/filemq/catalog.js";
import { digestFile } from "../../protocols/filemq/digests.js";
import { Registry } from "./support.js";

const registry = new Registry();
afterEach(() => registry.closeAll());

async function scanned(path: string): Promise<PublishedFile> {
  const info = await stat(path);
  return { vpath: "/f.txt", path, size: info.size, mtimeMs: info.mtimeMs };
}

describe("catalog digests", () => {
  it("are computed once for requests made at once, and again for a new version of the file", async () => {
    const path = join(await registry.directory("src"), "f.txt");
    await writeFile(path, "one\n");
    const catalog = new Catalog(0, () => undefined);
    const file = await scanned(path);
    const first = catalog.digest(file);
    expect(catalog.digest(file)).toBe(first);
    expect(await first).toBe(await digestFile(path));
    await writeFile(path, "two, longer\n");
    const changed = await scanned(path);
    expect(await catalog.digest(changed)).toBe(await digestFile(path));
    expect(await catalog.digest(changed)).not.toBe(await first);
  });
});
