/**
 * Runs once around the whole test run: makes the directory that the engine tests' child processes share as
 * their transpile cache (test/engine/child/ts-hooks.mjs), and removes it when the run ends, so that the suite
 * leaves nothing behind in the temp directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where child processes of the tests cache transpiled TypeScript. */
    transpileCache: string;
  }
}

export default function setup(project: TestProject): () => void {
  const cache = mkdtempSync(join(tmpdir(), "zproto-ts-transpiled-"));
  project.provide("transpileCache", cache);
  return () => rmSync(cache, { recursive: true, force: true });
}
