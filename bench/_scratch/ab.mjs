// A/B runner for scratch experiments: node ab.mjs <window ms> <rounds> <metric,...> variant=module#encodeName#decodeName ...
import { timeWindow, calibrateBatch, median } from "../../dist/bench/harness.js";
import { sampleMessage } from "../../dist/bench/sample.js";
const [windowMs, rounds, metrics, ...specs] = process.argv.slice(2);
const msg = sampleMessage();
function makeLoops(enc, dec) {
  const frames = enc(msg);
  // A fresh Function per variant: its own feedback, so every call site stays monomorphic.
  const mk = (body) => new Function("enc", "dec", "msg", "frames", `return function (n) { let s = 0; for (let i = 0; i < n; i++) { ${body} } return s; }`)(enc, dec, msg, frames);
  return {
    encode: mk("const f = enc(msg)[0]; s = (s + f[f.length - 1]) | 0;"),
    decode: mk("const m = dec(frames); s = (s + m.sequence + m.topic.length + m.payload.length) | 0;"),
    roundtrip: mk("const m = dec(enc(msg)); s = (s + m.sequence + m.topic.length + m.payload.length) | 0;"),
  };
}
const variants = [];
for (const spec of specs) {
  const [name, rest] = spec.split("=");
  const [path, encName, decName] = rest.split("#");
  const mod = await import(new URL(path, import.meta.url));
  variants.push({ name, loops: makeLoops(mod[encName], mod[decName]) });
}
const ms = metrics.split(",");
const batches = {};
for (const v of variants) for (const m of ms) { v.loops[m](2000); batches[v.name + m] = calibrateBatch(v.loops[m]); timeWindow(v.loops[m], batches[v.name + m], 300); }
const rates = {};
for (let r = 0; r < Number(rounds); r++) for (const m of ms) for (let k = 0; k < variants.length; k++) {
  const v = variants[(k + r) % variants.length];
  (rates[v.name + " " + m] ??= []).push(timeWindow(v.loops[m], batches[v.name + m], Number(windowMs)).opsPerSecond);
}
for (const m of ms) {
  const base = median(rates[variants[0].name + " " + m]);
  for (const v of variants) {
    const med = median(rates[v.name + " " + m]);
    console.log(m.padEnd(10), v.name.padEnd(14), Math.round(med).toLocaleString("en-US").padStart(11), `${(med / base).toFixed(3)}×`, `(${(1e9 / med).toFixed(0)} ns/op)`);
  }
}
