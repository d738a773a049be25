import { SampleType, protobufSample, toLong, fromLong } from "../../dist/bench/candidates/protobuf.js";
import { timeWindow, calibrateBatch, median } from "../../dist/bench/harness.js";
import { SAMPLE_VALUES } from "../../dist/bench/sample.js";
import protobuf from "protobufjs";
const longMsg = protobufSample();
const bigMsg = { ...longMsg, timestamp: SAMPLE_VALUES.timestamp };
const numMsg = { ...longMsg, timestamp: Number(SAMPLE_VALUES.timestamp) };
const plainLong = { ...longMsg, timestamp: { low: longMsg.timestamp.low, high: longMsg.timestamp.high, unsigned: true } };
const T = SampleType;
const mk = (msg, body) => new Function("T", "msg", "bytes", "toLong", "fromLong", `return function (n) { let s = 0; for (let i = 0; i < n; i++) { ${body} } return s; }`)(T, msg, T.encode(longMsg).finish(), toLong, fromLong);
const variants = {
  long: { encode: mk(longMsg, "const b = T.encode(msg).finish(); s = (s + b[b.length-1]) | 0;"), roundtrip: mk(longMsg, "const m = T.decode(T.encode(msg).finish()); s = (s + m.sequence + m.timestamp.low) | 0;") },
  plainLong: { encode: mk(plainLong, "const b = T.encode(msg).finish(); s = (s + b[b.length-1]) | 0;"), roundtrip: mk(plainLong, "const m = T.decode(T.encode(msg).finish()); s = (s + m.sequence + m.timestamp.low) | 0;") },
  number: { encode: mk(numMsg, "const b = T.encode(msg).finish(); s = (s + b[b.length-1]) | 0;"), roundtrip: mk(numMsg, "const m = T.decode(T.encode(msg).finish()); s = (s + m.sequence + m.timestamp.low) | 0;") },
  bigintConv: { encode: mk(bigMsg, "const b = T.encode({ ...msg, timestamp: toLong(msg.timestamp) }).finish(); s = (s + b[b.length-1]) | 0;"), roundtrip: mk(bigMsg, "const m = T.decode(T.encode({ ...msg, timestamp: toLong(msg.timestamp) }).finish()); const t = fromLong(m.timestamp); s = (s + m.sequence + Number(t & 1n)) | 0;") },
};
const names = Object.keys(variants); const ms = ["encode", "roundtrip"]; const batches = {}; const rates = {};
for (const n of names) for (const m of ms) { variants[n][m](2000); batches[n + m] = calibrateBatch(variants[n][m]); timeWindow(variants[n][m], batches[n + m], 300); }
for (let r = 0; r < 5; r++) for (const m of ms) for (let k = 0; k < names.length; k++) { const n = names[(k + r) % names.length]; (rates[n + " " + m] ??= []).push(timeWindow(variants[n][m], batches[n + m], 250).opsPerSecond); }
for (const m of ms) for (const n of names) console.log(m.padEnd(10), n.padEnd(12), Math.round(median(rates[n + " " + m])).toLocaleString("en-US").padStart(11));
console.log(T.encode(numMsg).finish().equals(T.encode(longMsg).finish()));
