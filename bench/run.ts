/**
 * Benchmark entry point: `npm run bench` runs every benchmark in turn; `node dist/bench/run.js <name>...`
 * runs only the named ones. Each benchmark is a module exporting a {@link Benchmark}; its results are
 * written to `bench/results/<name>.json`. To add one (the engine benchmark, say), import it and append it
 * to {@link BENCHMARKS}.
 *
 * @packageDocumentation
 */
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { codecBenchmark } from "./codec.js";
import { engineBenchmark } from "./engine.js";
import { filemqBenchmark } from "./filemq.js";
import { hostileBenchmark } from "./hostile.js";
import { majordomoBenchmark } from "./majordomo.js";
import { modelLoadBenchmark } from "./model-load.js";
import type { Benchmark } from "./types.js";

/** Every benchmark, in the order `npm run bench` runs them. */
const BENCHMARKS: readonly Benchmark[] = [codecBenchmark, engineBenchmark, modelLoadBenchmark, majordomoBenchmark, hostileBenchmark, filemqBenchmark];

/**
 * Where results go: `bench/results/` in the source tree, found from this module's location (it runs as
 * `dist/bench/run.js`) so that the working directory does not matter.
 */
const RESULTS_DIR = fileURLToPath(new URL("../../bench/results/", import.meta.url));

function select(names: readonly string[]): readonly Benchmark[] {
  if (names.length === 0) return BENCHMARKS;
  const unknown = names.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
  }
  return BENCHMARKS.filter((benchmark) => names.includes(benchmark.name));
}

async function main(): Promise<void> {
  const selected = select(process.argv.slice(2));
  await mkdir(RESULTS_DIR, { recursive: true });
  for (const benchmark of selected) {
    const started = performance.now();
    const results = await benchmark.run();
    const file = `${RESULTS_DIR}${benchmark.name}.json`;
    await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`${benchmark.name}: ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${file}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `bench aborted: ${error.stack ?? error.message}` : error);
  process.exitCode = 1;
});
