/**
 * Time-window measurement: a loop runs in batches until a fixed window has elapsed, and the rate is the
 * operations done divided by the time actually taken. Batches keep clock reads out of the measured work
 * (one `performance.now()` per ~1 ms of work); checksums returned by the loops keep the work observable so
 * the optimiser cannot drop it.
 *
 * @packageDocumentation
 */

/** What a candidate is measured on. */
export type Metric = "encode" | "decode" | "roundtrip";

/** All metrics, in report order. */
export const METRICS: readonly Metric[] = ["encode", "decode", "roundtrip"];

/** How a metric is labelled in reports. */
export const METRIC_LABELS: Readonly<Record<Metric, string>> = {
  encode: "encode",
  decode: "decode",
  roundtrip: "encode+decode",
};

/**
 * Runs one operation `iterations` times and returns a checksum of the results. Each candidate has its own
 * loop functions so that every call site inside them sees one codec only (monomorphic, inlinable), as in an
 * application that uses one codec.
 */
export type Loop = (iterations: number) => number;

/** One codec under test. */
export interface Candidate {
  /** Name in reports. */
  readonly name: string;
  /** How the codec is configured and what representation its messages use, for the record. */
  readonly configuration: string;
  /** The measured loops. */
  readonly loops: Readonly<Record<Metric, Loop>>;
}

/** Operations done in one window. */
export interface WindowResult {
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly checksum: number;
}

/** Runs `loop` in batches of `batch` until `windowMs` milliseconds have passed. */
export function timeWindow(loop: Loop, batch: number, windowMs: number): WindowResult {
  let ops = 0;
  let checksum = 0;
  const start = performance.now();
  const deadline = start + windowMs;
  let now = start;
  do {
    checksum = (checksum + loop(batch)) | 0;
    ops += batch;
    now = performance.now();
  } while (now < deadline);
  const seconds = (now - start) / 1000;
  return { ops, seconds, opsPerSecond: ops / seconds, checksum };
}

/** A batch size whose run takes about `targetMs`: large enough that reading the clock costs nothing. */
export function calibrateBatch(loop: Loop, targetMs = 1): number {
  let batch = 16;
  for (;;) {
    const start = performance.now();
    loop(batch);
    const elapsed = performance.now() - start;
    if (elapsed >= targetMs || batch >= 1 << 20) {
      return Math.max(16, Math.round((batch * targetMs) / Math.max(elapsed, 1e-3)));
    }
    batch *= 2;
  }
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
