const [path, encName, decName, which] = process.argv.slice(2);
const mod = await import(path);
const { sampleMessage } = await import("../../dist/bench/sample.js");
const enc = mod[encName], dec = mod[decName];
const msg = sampleMessage(); const frames = enc(msg);
let sum = 0; const end = Date.now() + 3000;
if (which === "enc") while (Date.now() < end) for (let i = 0; i < 1000; i++) sum += enc(msg)[0].length;
if (which === "dec") while (Date.now() < end) for (let i = 0; i < 1000; i++) sum += dec(frames).sequence;
console.log(sum);
