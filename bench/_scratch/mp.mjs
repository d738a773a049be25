import { Packr } from "msgpackr";
import { timeWindow, calibrateBatch, median } from "../../dist/bench/harness.js";
import { SAMPLE_VALUES } from "../../dist/bench/sample.js";
const base = { sequence: SAMPLE_VALUES.sequence, timestamp: SAMPLE_VALUES.timestamp, flags: SAMPLE_VALUES.flags, sender: SAMPLE_VALUES.sender, topic: SAMPLE_VALUES.topic, payload: SAMPLE_VALUES.payload };
const asMap = { ...base, headers: new Map(SAMPLE_VALUES.headers) };
const asObj = { ...base, headers: Object.fromEntries(SAMPLE_VALUES.headers) };
const configs = {
  "plain+obj": [() => new Packr({ useRecords: false }), asObj],
  "records+map": [() => new Packr(), asMap],
  "shared+map": [() => new Packr({ structures: [] }), asMap],
  "shared+obj": [() => new Packr({ structures: [] }), asObj],
};
const variants = [];
for (const [name, [make, msg]] of Object.entries(configs)) {
  const p = make(); const bytes = p.pack(msg); const d = p.unpack(bytes);
  console.log(name, bytes.length, typeof d.timestamp, d.headers instanceof Map ? "Map" : typeof d.headers);
  const mk = (body) => new Function("p", "msg", "bytes", `return function (n) { let s = 0; for (let i = 0; i < n; i++) { ${body} } return s; }`)(p, msg, bytes);
  variants.push({ name, loops: {
    encode: mk("const b = p.pack(msg); s = (s + b[b.length - 1]) | 0;"),
    decode: mk("const m = p.unpack(bytes); s = (s + m.sequence + m.topic.length + m.payload.length) | 0;"),
    roundtrip: mk("const m = p.unpack(p.pack(msg)); s = (s + m.sequence + m.topic.length + m.payload.length) | 0;"),
  }});
}
const ms = ["encode", "decode", "roundtrip"];
const batches = {};
for (const v of variants) for (const m of ms) { v.loops[m](2000); batches[v.name + m] = calibrateBatch(v.loops[m]); timeWindow(v.loops[m], batches[v.name + m], 300); }
const rates = {};
for (let r = 0; r < 5; r++) for (const m of ms) for (let k = 0; k < variants.length; k++) {
  const v = variants[(k + r) % variants.length];
  (rates[v.name + " " + m] ??= []).push(timeWindow(v.loops[m], batches[v.name + m], 250).opsPerSecond);
}
for (const m of ms) for (const v of variants) console.log(m.padEnd(10), v.name.padEnd(14), Math.round(median(rates[v.name + " " + m])).toLocaleString("en-US").padStart(11));
