#!/usr/bin/env node
// Validate benchmark: `geozarr validate --json` on the full-size stores (17999 x 36000, v2 and v3,
// packed), the whole command as a user runs it (Node start-up included). Issue target: under 1 s.
// One warm-up, then the median of RUNS runs. Usage: node bench/validate/run.mjs [--runs 5]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DATA, median, ROOT, save, timed } from "../lib.mjs";

const i = process.argv.indexOf("--runs");
const runs = i < 0 ? 5 : Number(process.argv[i + 1]);
const geozarr = join(ROOT, "bin", "geozarr.js");
const stores = ["full-geozarr_v2_packed_default_.zarr", "full-geozarr_v3_packed_default_.zarr"].map((s) =>
  join(DATA, "out", s),
);
const results = [];
for (const store of stores) {
  if (!existsSync(store))
    throw new Error(`${store} is missing: run node bench/convert/run.mjs --size full first`);
  const samples = [];
  for (let r = 0; r <= runs; r++) {
    const t = timed(process.execPath, [geozarr, "validate", store, "--json"]);
    if (r > 0) samples.push(t.wall);
  }
  results.push({ store, wallSeconds: median(samples), samples });
  console.error(`${store}: ${median(samples).toFixed(2)} s`);
}
save("validate", {
  runs,
  results,
  reproduce: "npm run build && node bench/convert/run.mjs --size full && node bench/validate/run.mjs",
});
