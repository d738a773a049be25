/**
 * The model-load benchmark: what reading a model file costs as it grows. Two questions, each against a
 * baseline measured in the same run:
 *
 * - XML: one element with N attributes, read into the element tree with every attribute's position, against
 *   fast-xml-parser's own validate + parse of the same text. Linear reading keeps the ratio flat as N doubles
 *   (the per-attribute regex it replaced grew it with N: 80,000 attributes took 16 s against 0.4 s).
 * - ZPL: a model-sized ZPL document parsed with `onProperty` (the positions the model loader asks for)
 *   against the same parse without it, the configuration reader's path.
 *
 * Each measurement is the median of several runs, taken in alternation so drift on a shared machine spreads
 * over both sides.
 *
 * @packageDocumentation
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { Diagnostics } from "../generator/diagnostics.js";
import { parseXml } from "../generator/xml.js";
import { parseZpl } from "../runtime/zpl/index.js";
import { median } from "./harness.js";
import { machineInfo } from "./machine.js";
import { formatRatio, table } from "./report.js";
import type { Benchmark, Json } from "./types.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SIZES = [10_000, 20_000, 40_000, 80_000];

/** Milliseconds of one call. */
function timed(work: () => unknown): number {
  const start = performance.now();
  work();
  return performance.now() - start;
}

/** Median milliseconds of `subject` and `baseline`, run alternately `RUNS` times after one warm-up each. */
function compare(subject: () => unknown, baseline: () => unknown): { subjectMs: number; baselineMs: number } {
  subject();
  baseline();
  const subjectTimes: number[] = [];
  const baselineTimes: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    subjectTimes.push(timed(subject));
    baselineTimes.push(timed(baseline));
  }
  return { subjectMs: median(subjectTimes), baselineMs: median(baselineTimes) };
}

function attributeModel(count: number): string {
  const attributes = Array.from({ length: count }, (_, i) => ` a${i} = "v${i}"`).join("");
  return `<class name = "many" script = "zproto_codec_c"${attributes}>\n<message name = "A" />\n</class>\n`;
}

function zplModel(messages: number): string {
  const lines = ["class = many", "    script = zproto_codec_c"];
  for (let i = 0; i < messages; i++) {
    lines.push(`    message = M${i}`, `        id = ${(i % 255) + 1}`, `        doc = "Message number ${i}."`);
    lines.push(`        field = f${i}`, "            type = string", `            doc = "Field of message ${i}"`);
  }
  return `${lines.join("\n")}\n`;
}

export const modelLoadBenchmark: Benchmark = {
  name: "model-load",
  description: "reading models: XML attribute positions vs fast-xml-parser alone; ZPL with positions vs without",
  async run(): Promise<Json> {
    const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, allowBooleanAttributes: true, captureMetaData: true });
    const xml = SIZES.map((attributes) => {
      const text = attributeModel(attributes);
      const { subjectMs, baselineMs } = compare(
        () => parseXml(text, "many.xml", new Diagnostics()),
        () => {
          XMLValidator.validate(text, { allowBooleanAttributes: true });
          return parser.parse(text);
        },
      );
      return { attributes, bytes: text.length, elementTreeMs: subjectMs, fastXmlParserMs: baselineMs, ratio: subjectMs / baselineMs };
    });
    console.log(table(["attributes", "bytes", "element tree ms", "fast-xml-parser ms", "ratio"],
      xml.map((row) => [String(row.attributes), String(row.bytes), row.elementTreeMs.toFixed(1), row.fastXmlParserMs.toFixed(1), formatRatio(row.ratio)])));

    const text = zplModel(2_000);
    const { subjectMs, baselineMs } = compare(() => parseZpl(text, { onProperty: () => undefined }), () => parseZpl(text));
    const zpl = { bytes: text.length, withPositionsMs: subjectMs, withoutMs: baselineMs, ratio: subjectMs / baselineMs };
    console.log(`\nZPL model of ${text.length} bytes: ${subjectMs.toFixed(1)} ms with positions, ${baselineMs.toFixed(1)} ms without (${formatRatio(zpl.ratio)})`);
    return { machine: machineInfo(), runs: RUNS, xml, zpl };
  },
};
