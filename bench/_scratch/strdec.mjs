// Micro: decode six short ASCII strings from a buffer.
const buf = Buffer.from("\x09sensor-17\x0eweather/berlin\x04unit\x07celsius\x06source\x09station-4");
const spans = []; { let at = 0; while (at < buf.length) { const n = buf[at]; spans.push([at + 1, at + 1 + n]); at += 1 + n; } }
const S = spans.flat();
const fcc = String.fromCharCode;
function viaLatin1(b, s, e) { return b.latin1Slice(s, e); }
function viaAscii(b, s, e) { return b.asciiSlice(s, e); }
function viaApply(b, s, e) { return fcc.apply(null, b.subarray(s, e)); }
function viaConcat(b, s, e) { let r = ""; for (let i = s; i < e; i++) r += fcc(b[i]); return r; }
function viaSwitch(b, s, e) {
  switch (e - s) {
    case 0: return "";
    case 1: return fcc(b[s]);
    case 2: return fcc(b[s], b[s+1]);
    case 3: return fcc(b[s], b[s+1], b[s+2]);
    case 4: return fcc(b[s], b[s+1], b[s+2], b[s+3]);
    case 5: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4]);
    case 6: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5]);
    case 7: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6]);
    case 8: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7]);
    case 9: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8]);
    case 10: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8], b[s+9]);
    case 11: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8], b[s+9], b[s+10]);
    case 12: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8], b[s+9], b[s+10], b[s+11]);
    case 13: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8], b[s+9], b[s+10], b[s+11], b[s+12]);
    case 14: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8], b[s+9], b[s+10], b[s+11], b[s+12], b[s+13]);
    case 15: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8], b[s+9], b[s+10], b[s+11], b[s+12], b[s+13], b[s+14]);
    case 16: return fcc(b[s], b[s+1], b[s+2], b[s+3], b[s+4], b[s+5], b[s+6], b[s+7], b[s+8], b[s+9], b[s+10], b[s+11], b[s+12], b[s+13], b[s+14], b[s+15]);
    default: return b.latin1Slice(s, e);
  }
}
const td = new TextDecoder("latin1");
function viaTD(b, s, e) { return td.decode(b.subarray(s, e)); }
// Each variant needs its own loop to stay monomorphic.
const loops = {
  latin1: (n) => { let t = 0; for (let k = 0; k < n; k++) for (let j = 0; j < 12; j += 2) t += viaLatin1(buf, S[j], S[j+1]).length; return t; },
  ascii: (n) => { let t = 0; for (let k = 0; k < n; k++) for (let j = 0; j < 12; j += 2) t += viaAscii(buf, S[j], S[j+1]).length; return t; },
  apply: (n) => { let t = 0; for (let k = 0; k < n; k++) for (let j = 0; j < 12; j += 2) t += viaApply(buf, S[j], S[j+1]).length; return t; },
  concat: (n) => { let t = 0; for (let k = 0; k < n; k++) for (let j = 0; j < 12; j += 2) t += viaConcat(buf, S[j], S[j+1]).length; return t; },
  switch: (n) => { let t = 0; for (let k = 0; k < n; k++) for (let j = 0; j < 12; j += 2) t += viaSwitch(buf, S[j], S[j+1]).length; return t; },
  textdecoder: (n) => { let t = 0; for (let k = 0; k < n; k++) for (let j = 0; j < 12; j += 2) t += viaTD(buf, S[j], S[j+1]).length; return t; },
};
for (const [name, f] of Object.entries(loops)) f(200000);
for (let round = 0; round < 3; round++) {
  for (const [name, f] of Object.entries(loops)) {
    const t0 = performance.now(); const n = 300000; f(n); const dt = performance.now() - t0;
    console.log(round, name.padEnd(12), (dt * 1e6 / n / 6).toFixed(1), "ns/string");
  }
}
