const m = new Map([["unit", "celsius"], ["source", "station-4"]]);
const texts = [], lens = [];
const loops = {
  forOfDestructure: (n) => { let s = 0; for (let k = 0; k < n; k++) { let i = 0; for (const [key, v] of m) { texts[i] = key; texts[i + 1] = v; i += 2; s += key.length + v.length; } } return s; },
  forOfEntryIndex: (n) => { let s = 0; for (let k = 0; k < n; k++) { let i = 0; for (const e of m) { const key = e[0], v = e[1]; texts[i] = key; texts[i + 1] = v; i += 2; s += key.length + v.length; } } return s; },
  keysGet: (n) => { let s = 0; for (let k = 0; k < n; k++) { let i = 0; for (const key of m.keys()) { const v = m.get(key); texts[i] = key; texts[i + 1] = v; i += 2; s += key.length + v.length; } } return s; },
  forEach: (n) => { let s = 0; for (let k = 0; k < n; k++) { let i = 0; m.forEach((v, key) => { texts[i] = key; texts[i + 1] = v; i += 2; s += key.length + v.length; }); } return s; },
  entriesNext: (n) => { let s = 0; for (let k = 0; k < n; k++) { let i = 0; const it = m.entries(); for (let r = it.next(); !r.done; r = it.next()) { const key = r.value[0], v = r.value[1]; texts[i] = key; texts[i + 1] = v; i += 2; s += key.length + v.length; } } return s; },
};
for (const f of Object.values(loops)) f(300000);
for (let r = 0; r < 3; r++) for (const [name, f] of Object.entries(loops)) {
  const n = 2_000_000; const t0 = performance.now(); f(n); const dt = performance.now() - t0; console.log(r, name.padEnd(18), (dt * 1e6 / n).toFixed(1), "ns");
}
