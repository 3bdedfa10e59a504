#!/usr/bin/env node
// Read benchmark: geozarr vs zarr-python on the same Zarr v2 store in the same run.
// Cases: one interior 4096x4096 float64 zstd-1 chunk, and the whole 8999x18000 float64 array
// (analysed_sst of the medium MUR-like file written by the notebook pipeline).
// Each round runs each side in its own process: 2 warm-up reads, then RUNS timed reads; a side's
// time is its median, a case's result the median over rounds. Sides alternate order by round.
// Usage: node bench/read/run.mjs [--rounds 3] [--runs 5]
import { join } from "node:path";
import { DATA, median, PY, ROOT, runJson, save } from "../lib.mjs";

const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? d : Number(process.argv[i + 1]);
};
const rounds = arg("--rounds", 3);
const runs = arg("--runs", 5);
const store = join(DATA, "med_v2_f64.zarr");
const sides = {
  "zarr-python": (mode, alloc) =>
    runJson(PY, [
      join(ROOT, "bench/read/zarr_python_read.py"),
      store,
      "analysed_sst",
      mode,
      String(runs),
      alloc,
    ]),
  geozarr: (mode, alloc) =>
    runJson(process.execPath, [
      "--expose-gc",
      join(ROOT, "bench/read/geozarr_read.mjs"),
      store,
      "analysed_sst",
      mode,
      String(runs),
      alloc,
    ]),
};

const cases = [];
for (const mode of ["chunk", "array"]) {
  for (const alloc of ["reuse", "fresh"]) {
    const per = { "zarr-python": [], geozarr: [] };
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? ["geozarr", "zarr-python"] : ["zarr-python", "geozarr"];
      for (const side of order) {
        const res = sides[side](mode, alloc);
        per[side].push(median(res.times));
        bytes = res.bytes;
      }
    }
    const py = median(per["zarr-python"]);
    const gz = median(per.geozarr);
    const c = {
      mode,
      alloc,
      bytes,
      seconds: { "zarr-python": py, geozarr: gz },
      rounds: per,
      throughputMBps: { "zarr-python": bytes / py / 1e6, geozarr: bytes / gz / 1e6 },
      ratio: py / gz,
    };
    cases.push(c);
    console.log(
      `${mode.padEnd(5)} ${alloc.padEnd(5)}  zarr-python ${(py * 1000).toFixed(0).padStart(5)} ms  geozarr ${(gz * 1000).toFixed(0).padStart(5)} ms  ${c.ratio.toFixed(2)}x`,
    );
  }
}
save("read", {
  rounds,
  runs,
  store: "bench/data/med_v2_f64.zarr (analysed_sst, 1x8999x18000 float64, zstd-1, 4096x4096 chunks)",
  cases,
});
