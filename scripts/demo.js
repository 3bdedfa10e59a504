#!/usr/bin/env node
// `npm run demo`: the main job on the bundled sample. Converts the MUR-like NetCDF-4 file
// (examples/data/mur_small.nc, 719 x 1440) to GeoZarr in Zarr v2 and Zarr v3 with the CLI,
// prints each store's tree, and validates both. Outputs go to examples/out/.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "geozarr.js");
const input = relative(process.cwd(), join(root, "examples", "data", "mur_small.nc"));
const outDir = relative(process.cwd(), join(root, "examples", "out"));
mkdirSync(outDir, { recursive: true });

function geozarr(...args) {
  console.log(`\n$ geozarr ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: "inherit" });
  if (r.status !== 0 && args[0] !== "validate") process.exit(r.status ?? 1);
  return r.status;
}

let failed = 0;
for (const format of ["2", "3"]) {
  const out = join(outDir, `mur_small_v${format}.zarr`);
  geozarr("convert", input, out, "--zarr-format", format, "--require-standard-name", "--overwrite");
  geozarr("tree", out);
  if (geozarr("validate", out) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
