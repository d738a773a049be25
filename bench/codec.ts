/**
 * The codec benchmark: the generated `bench_msg` codec against a hand-written codec for the same wire
 * format, protobufjs and msgpackr, on one representative message, in one process.
 *
 * Method: a correctness gate first ({@link checkEquivalence}); then every candidate and metric is warmed up
 * (optimised by V8) and its batch size calibrated; then {@link RUNS} rounds, each timing every candidate and
 * metric for one {@link WINDOW_MS} window, rotating the candidate order every round so that drift (heat,
 * GC pressure, other processes) spreads over all of them. The reported figure is the median over rounds.
 *
 * @packageDocumentation
 */
import { encode } from "../generated/bench/bench_msg.js";
import { generatedCandidate } from "./candidates/generated.js";
import { handCandidate } from "./candidates/hand.js";
import { msgpackCandidate, encodeMsgpack, msgpackSample } from "./candidates/msgpack.js";
import { encodeProtobuf, protobufCandidate, protobufSample } from "./candidates/protobuf.js";
import { checkEquivalence } from "./equivalence.js";
import { encodeSample } from "./hand-codec.js";
import { calibrateBatch, median, METRIC_LABELS, METRICS, timeWindow, type Candidate, type Metric } from "./harness.js";
import { machineInfo } from "./machine.js";
import { formatRate, formatRatio, table } from "./report.js";
import { sampleMessage } from "./sample.js";
import type { Benchmark, Json } from "./types.js";

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Length of one timed window, in milliseconds (`BENCH_WINDOW_MS` overrides it for quick looks). */
const WINDOW_MS = setting("BENCH_WINDOW_MS", 300);
/** Timed rounds per candidate and metric (`BENCH_RUNS`). */
const RUNS = setting("BENCH_RUNS", 5);
/** Warm-up time per candidate and metric, enough for V8 to optimise the loop and everything it calls. */
const WARMUP_MS = setting("BENCH_WARMUP_MS", 400);

const CANDIDATES: readonly Candidate[] = [generatedCandidate, handCandidate, protobufCandidate, msgpackCandidate];

/** The ratios recorded: the generated codec against each other candidate. */
const BASELINES = ["hand", "protobufjs", "msgpackr"] as const;

/** The targets the generated codec is held to, on encode+decode. */
const TARGETS: ReadonlyArray<{ readonly against: (typeof BASELINES)[number]; readonly atLeast: number }> = [
  { against: "hand", atLeast: 1.0 },
  { against: "protobufjs", atLeast: 1.2 },
];

type Rates = Record<string, Record<Metric, number[]>>;

function measure(candidates: readonly Candidate[]): { rates: Rates; batches: Record<string, Record<Metric, number>>; checksum: number } {
  let checksum = 0;
  const batches: Record<string, Record<Metric, number>> = {};
  const rates: Rates = {};
  for (const candidate of candidates) {
    const batch = { encode: 0, decode: 0, roundtrip: 0 };
    for (const metric of METRICS) {
      const loop = candidate.loops[metric];
      checksum = (checksum + loop(1000)) | 0;
      checksum = (checksum + timeWindow(loop, calibrateBatch(loop), WARMUP_MS).checksum) | 0;
      // Calibrated again now that the loop is optimised: the first estimate saw unoptimised code.
      batch[metric] = calibrateBatch(loop);
    }
    batches[candidate.name] = batch;
    rates[candidate.name] = { encode: [], decode: [], roundtrip: [] };
  }
  process.stdout.write(`  warm-up done; ${RUNS} rounds of ${WINDOW_MS} ms windows `);
  for (let round = 0; round < RUNS; round++) {
    for (const metric of METRICS) {
      for (let k = 0; k < candidates.length; k++) {
        const candidate = candidates[(k + round) % candidates.length];
        const result = timeWindow(candidate.loops[metric], batches[candidate.name][metric], WINDOW_MS);
        checksum = (checksum + result.checksum) | 0;
        rates[candidate.name][metric].push(result.opsPerSecond);
      }
    }
    process.stdout.write(".");
  }
  process.stdout.write("\n");
  return { rates, batches, checksum };
}

function report(candidates: readonly Candidate[], medians: Record<string, Record<Metric, number>>, rates: Rates, ratios: Record<string, Record<Metric, number>>): string {
  const header = ["metric (ops/s, median)", ...candidates.map((c) => c.name), ...BASELINES.map((b) => `gen/${b}`)];
  const rows = METRICS.map((metric) => [
    METRIC_LABELS[metric],
    ...candidates.map((c) => formatRate(medians[c.name][metric])),
    ...BASELINES.map((b) => formatRatio(ratios[`generated/${b}`][metric])),
  ]);
  const spreadRows = METRICS.map((metric) => [
    METRIC_LABELS[metric],
    ...candidates.map((c) => {
      const values = rates[c.name][metric];
      return `±${(((Math.max(...values) - Math.min(...values)) / 2 / medians[c.name][metric]) * 100).toFixed(1)}%`;
    }),
  ]);
  return `${table(header, rows)}\n\nhalf-range of the ${RUNS} rounds, relative to the median:\n${table(["metric", ...candidates.map((c) => c.name)], spreadRows)}`;
}

async function run(): Promise<Json> {
  const machine = machineInfo();
  console.log("codec benchmark: bench_msg SAMPLE (generated vs hand-written vs protobufjs vs msgpackr)");
  const checks = checkEquivalence();
  console.log(`  equivalence: ${checks} checks passed (hand and generated: identical frames, cross-decode, same refusals)`);

  const sizes: Record<string, number> = {
    generated: encode(sampleMessage())[0].length,
    hand: encodeSample(sampleMessage())[0].length,
    protobufjs: encodeProtobuf(protobufSample()).length,
    msgpackr: encodeMsgpack(msgpackSample()).length,
  };
  const { rates, batches, checksum } = measure(CANDIDATES);

  const medians: Record<string, Record<Metric, number>> = {};
  for (const candidate of CANDIDATES) {
    const own = rates[candidate.name];
    medians[candidate.name] = { encode: median(own.encode), decode: median(own.decode), roundtrip: median(own.roundtrip) };
  }
  const ratios: Record<string, Record<Metric, number>> = {};
  for (const baseline of BASELINES) {
    ratios[`generated/${baseline}`] = {
      encode: medians.generated.encode / medians[baseline].encode,
      decode: medians.generated.decode / medians[baseline].decode,
      roundtrip: medians.generated.roundtrip / medians[baseline].roundtrip,
    };
  }
  const targets = TARGETS.map(({ against, atLeast }) => {
    const ratio = ratios[`generated/${against}`].roundtrip;
    return { metric: "encode+decode", against, atLeast, ratio, met: ratio >= atLeast };
  });

  console.log(`\n${report(CANDIDATES, medians, rates, ratios)}\n`);
  console.log(`encoded size (octets): ${CANDIDATES.map((c) => `${c.name} ${sizes[c.name]}`).join(", ")}`);
  for (const target of targets) {
    console.log(`target: generated encode+decode ≥ ${target.atLeast.toFixed(1)}× ${target.against}: ${formatRatio(target.ratio)} — ${target.met ? "met" : "NOT met"}`);
  }
  console.log(`(checksum ${checksum})`);

  return {
    benchmark: "codec",
    timestamp: new Date().toISOString(),
    machine,
    settings: { windowMs: WINDOW_MS, runs: RUNS, warmupMs: WARMUP_MS, statistic: "median ops/s over runs", batches },
    message: {
      model: "models/bench/bench_msg.xml",
      description: "SAMPLE: sequence 123456, timestamp 1700000000123456789n, flags 3, sender \"sensor-17\", " +
        "topic \"weather/berlin\", 32-octet payload, headers {unit: celsius, source: station-4}",
      encodedOctets: sizes,
    },
    equivalenceChecks: checks,
    candidates: CANDIDATES.map((c) => ({ name: c.name, configuration: c.configuration })),
    runs: rates,
    medians,
    ratios,
    targets,
    checksum,
  };
}

/** The codec benchmark, for `run.ts`. */
export const codecBenchmark: Benchmark = {
  name: "codec",
  description: "encode, decode and encode+decode rates of the generated bench_msg codec vs hand-written, protobufjs, msgpackr",
  run,
};
