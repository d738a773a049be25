const buf = Buffer.from(Buffer.alloc(117, 5));
const sink = new Array(16);
const loops = {
  subarray: (n) => { for (let k = 0; k < n; k++) sink[k & 15] = buf.subarray(40, 72); return 0; },
  bufferFrom: (n) => { for (let k = 0; k < n; k++) sink[k & 15] = Buffer.from(buf.buffer, buf.byteOffset + 40, 32); return 0; },
  u8view: (n) => { for (let k = 0; k < n; k++) sink[k & 15] = new Uint8Array(buf.buffer, buf.byteOffset + 40, 32); return 0; },
  u8subarray: (n) => { for (let k = 0; k < n; k++) sink[k & 15] = Uint8Array.prototype.subarray.call(buf, 40, 72); return 0; },
};
for (const f of Object.values(loops)) f(300000);
for (let r = 0; r < 3; r++) for (const [name, f] of Object.entries(loops)) {
  const n = 2_000_000; const t0 = performance.now(); f(n); const dt = performance.now() - t0; console.log(r, name.padEnd(18), (dt * 1e6 / n).toFixed(1), "ns", sink[0].constructor.name);
}
