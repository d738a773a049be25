/**
 * What every benchmark module offers to `run.ts`, so that benchmarks (codec now, engine later) are run and
 * recorded the same way.
 *
 * @packageDocumentation
 */

/** A JSON-serialisable value, the shape benchmark results are written in. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** A benchmark module: `run.ts` imports it and calls {@link Benchmark.run}. */
export interface Benchmark {
  /** Short name, used on the command line (`node dist/bench/run.js <name>`) and as the results file name. */
  readonly name: string;
  /** One line saying what is measured. */
  readonly description: string;
  /**
   * Runs the benchmark, printing progress and a readable report, and resolves to the results that
   * `run.ts` writes to `bench/results/<name>.json`. Rejects if a precondition (such as a correctness check)
   * fails, so that no numbers are recorded for a broken setup.
   */
  run(): Promise<Json>;
}
