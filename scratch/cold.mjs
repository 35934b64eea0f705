const { loadSops } = await import("/work/main/dist/src/app/load-sops.js");
const mode = process.argv[2];
const t0 = performance.now();
const r = await loadSops(process.argv[3], mode === "alone" ? { poolThreshold: Infinity } : { pool: { threads: 1 } });
console.log(mode, r.sops.length, (performance.now() - t0).toFixed(0), "ms");
