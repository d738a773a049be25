/**
 * Runs once around the whole test run: makes the directory that the engine tests' child processes share as
 * their transpile cache (test/engine/child/ts-hooks.mjs), and removes it when the run ends. It then checks
 * that the suite left nothing behind in the temp directory: a scratch directory of ours that is still there
 * is a test that does not clean up, and the run fails naming it.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where child processes of the tests cache transpiled TypeScript. */
    transpileCache: string;
  }
}

/** The prefixes of the scratch directories the tests and the commands they run make. */
const SCRATCH = /^(zproto-|mdp-|fmq-|filemq-|sasl-|zpl-test-)/;

function scratchEntries(): Set<string> {
  return new Set(readdirSync(tmpdir()).filter((name) => SCRATCH.test(name)));
}

export default function setup(project: TestProject): () => void {
  // Only what appears during the run counts: an earlier run, killed, may have left some behind.
  const before = scratchEntries();
  const cache = mkdtempSync(join(tmpdir(), "zproto-ts-transpiled-"));
  project.provide("transpileCache", cache);
  return () => {
    rmSync(cache, { recursive: true, force: true });
    const left = [...scratchEntries()].filter((name) => !before.has(name));
    if (left.length === 0) return;
    // vitest reports an error thrown here but still exits 0: the exit status is set as well.
    process.exitCode = 1;
    throw new Error(`the tests left ${left.length} scratch entries in ${tmpdir()}: ${left.sort().join(", ")}`);
  };
}
