/** `npm run demo` as a user runs it: the FileMQ demo exits 0 with a verified mirror and leaves nothing behind. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DEMO = fileURLToPath(new URL("../../dist/bin/demo.js", import.meta.url));

describe("npm run demo", () => {
  it("publishes, mirrors, changes and deletes while running, verifies, and exits 0", { timeout: 60_000 }, () => {
    const run = spawnSync(process.execPath, [DEMO], { encoding: "utf8", timeout: 50_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const output = run.stdout;
    expect(output).toMatch(/caught up: 5 files/);
    expect(output).toMatch(/deleted +\/data\/numbers\.csv/);
    expect(output).toMatch(/arrived +\/notes\/new\.txt/);
    expect(output).toMatch(/verified: the mirror holds exactly the 5 published files/);
    const workspace = /serves (\S+)\/published/.exec(output)?.[1];
    expect(workspace).toBeDefined();
    expect(existsSync(workspace ?? "/")).toBe(false);
  });
});
