const buf = Buffer.alloc(64);
const T = [1_700_000_000_123_456_789n, 1_700_000_000_123_456_790n];
const MAX = 0xffffffffffffffffn;
const scratch64 = new BigUint64Array(1);
const scratch8 = new Uint8Array(scratch64.buffer);
let dvBuf = null, dv = null;
const enc = {
  shifts: (n) => { let s = 0; for (let k = 0; k < n; k++) { const t = T[k & 1]; if (t < 0n || t > MAX) throw 0; const hi = Number(t >> 32n), lo = Number(t & 0xffffffffn); buf[7]=hi>>>24;buf[8]=hi>>>16;buf[9]=hi>>>8;buf[10]=hi;buf[11]=lo>>>24;buf[12]=lo>>>16;buf[13]=lo>>>8;buf[14]=lo; s += buf[14]; } return s; },
  asUintN: (n) => { let s = 0; for (let k = 0; k < n; k++) { const t = T[k & 1]; if (BigInt.asUintN(64, t) !== t) throw 0; const hi = Number(t >> 32n), lo = Number(BigInt.asUintN(32, t)); buf[7]=hi>>>24;buf[8]=hi>>>16;buf[9]=hi>>>8;buf[10]=hi;buf[11]=lo>>>24;buf[12]=lo>>>16;buf[13]=lo>>>8;buf[14]=lo; s += buf[14]; } return s; },
  writeBig: (n) => { let s = 0; for (let k = 0; k < n; k++) { const t = T[k & 1]; if (t < 0n || t > MAX) throw 0; buf.writeBigUInt64BE(t, 7); s += buf[14]; } return s; },
  dataview: (n) => { let s = 0; for (let k = 0; k < n; k++) { const t = T[k & 1]; if (t < 0n || t > MAX) throw 0; if (buf.buffer !== dvBuf) { dvBuf = buf.buffer; dv = new DataView(dvBuf); } dv.setBigUint64(buf.byteOffset + 7, t); s += buf[14]; } return s; },
  scratch: (n) => { let s = 0; for (let k = 0; k < n; k++) { const t = T[k & 1]; if (t < 0n || t > MAX) throw 0; scratch64[0] = t; buf[7]=scratch8[7];buf[8]=scratch8[6];buf[9]=scratch8[5];buf[10]=scratch8[4];buf[11]=scratch8[3];buf[12]=scratch8[2];buf[13]=scratch8[1];buf[14]=scratch8[0]; s += buf[14]; } return s; },
};
const src = Buffer.alloc(64); src.writeBigUInt64BE(T[0], 7); src.writeBigUInt64BE(T[1], 27);
const O = [7, 27];
let sdvBuf = null, sdv = null;
const u32 = (b, at) => b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
const dec = {
  bigintOr: (n) => { let s = 0n; for (let k = 0; k < n; k++) { const at = O[k & 1]; s ^= (BigInt(u32(src, at)) << 32n) | BigInt(u32(src, at + 4)); } return s; },
  readBig: (n) => { let s = 0n; for (let k = 0; k < n; k++) { s ^= src.readBigUInt64BE(O[k & 1]); } return s; },
  dataview: (n) => { let s = 0n; for (let k = 0; k < n; k++) { if (src.buffer !== sdvBuf) { sdvBuf = src.buffer; sdv = new DataView(sdvBuf); } s ^= sdv.getBigUint64(src.byteOffset + O[k & 1]); } return s; },
  scratch: (n) => { let s = 0n; for (let k = 0; k < n; k++) { const at = O[k & 1]; scratch8[7]=src[at];scratch8[6]=src[at+1];scratch8[5]=src[at+2];scratch8[4]=src[at+3];scratch8[3]=src[at+4];scratch8[2]=src[at+5];scratch8[1]=src[at+6];scratch8[0]=src[at+7]; s ^= scratch64[0]; } return s; },
};
for (const group of [enc, dec]) for (const f of Object.values(group)) f(300000);
for (let r = 0; r < 3; r++) for (const [gname, group] of [["enc", enc], ["dec", dec]]) for (const [name, f] of Object.entries(group)) {
  const n = 2_000_000; const t0 = performance.now(); f(n); const dt = performance.now() - t0; console.log(r, gname, name.padEnd(10), (dt * 1e6 / n).toFixed(1), "ns");
}
const sink = new Array(16);
const dec2 = {
  readBig: (n) => { for (let k = 0; k < n; k++) { sink[k & 15] = src.readBigUInt64BE(O[k & 1]); } return 0; },
  bigintOr: (n) => { for (let k = 0; k < n; k++) { const at = O[k & 1]; sink[k & 15] = (BigInt(u32(src, at)) << 32n) | BigInt(u32(src, at + 4)); } return 0; },
  scratch: (n) => { for (let k = 0; k < n; k++) { const at = O[k & 1]; scratch8[7]=src[at];scratch8[6]=src[at+1];scratch8[5]=src[at+2];scratch8[4]=src[at+3];scratch8[3]=src[at+4];scratch8[2]=src[at+5];scratch8[1]=src[at+6];scratch8[0]=src[at+7]; sink[k & 15] = scratch64[0]; } return 0; },
};
for (const f of Object.values(dec2)) f(300000);
for (let r = 0; r < 3; r++) for (const [name, f] of Object.entries(dec2)) {
  const n = 2_000_000; const t0 = performance.now(); f(n); const dt = performance.now() - t0; console.log(r, "dec-escaping", name.padEnd(10), (dt * 1e6 / n).toFixed(1), "ns");
}
