#!/usr/bin/env node
// Pyramid benchmark (issue 6): building all overview levels of the full-size MUR-like analysed_sst
// against the full-resolution conversion of the same variable, in the same run.
//  - convert:  geozarr convert mur_full.nc OUT --variables analysed_sst (v3, packed, the default)
//  - pyramid:  geozarr pyramid on a hard-linked copy of that output (all levels, average, 512 tiles)
//  - convert --multiscales: both in one command (the increment over convert is the levels' cost)
// One warm-up, then the median of RUNS runs each. Usage: node bench/pyramid/run.mjs [--runs 3]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DATA, ensure, median, ROOT, save, timed } from "../lib.mjs";

const i = process.argv.indexOf("--runs");
const runs = i < 0 ? 3 : Number(process.argv[i + 1]);
const geozarr = join(ROOT, "bin", "geozarr.js");
const nc = ensure(join(DATA, "mur_full.nc"), process.execPath, [
  join(ROOT, "bench", "prepare.mjs"),
  "--full",
]);
const work = join(DATA, "pyramid");
mkdirSync(work, { recursive: true });
const flat = join(work, "flat.zarr");
const copy = join(work, "levels.zarr");
const both = join(work, "multiscales.zarr");
const convertArgs = (out, ...extra) => [
  geozarr,
  "convert",
  nc,
  out,
  "--variables",
  "analysed_sst",
  "--overwrite",
  ...extra,
];

const samples = { convert: [], pyramid: [], convertMultiscales: [] };
for (let r = 0; r <= runs; r++) {
  const c = timed(process.execPath, convertArgs(flat));
  rmSync(copy, { recursive: true, force: true });
  execFileSync("cp", ["-al", flat, copy]); // the pyramid replaces its store; the links keep `flat`
  const p = timed(process.execPath, [geozarr, "pyramid", copy]);
  const m = timed(process.execPath, convertArgs(both, "--multiscales"));
  if (r === 0) continue; // warm-up
  samples.convert.push(c);
  samples.pyramid.push(p);
  samples.convertMultiscales.push(m);
  console.error(`run ${r}: convert ${c.wall} s, pyramid ${p.wall} s, convert --multiscales ${m.wall} s`);
}
const med = (xs, k) => median(xs.map((x) => x[k]));
const convert = med(samples.convert, "wall");
const pyramid = med(samples.pyramid, "wall");
const multiscales = med(samples.convertMultiscales, "wall");
const result = {
  runs,
  medianSeconds: { convert, pyramid, convertMultiscales: multiscales },
  peakRssMB: {
    pyramid: med(samples.pyramid, "rssMB"),
    convertMultiscales: med(samples.convertMultiscales, "rssMB"),
  },
  ratio: {
    pyramidOverConvert: pyramid / convert,
    multiscalesIncrementOverConvert: (multiscales - convert) / convert,
  },
  samples,
  reproduce: "npm run build && node bench/prepare.mjs --full && node bench/pyramid/run.mjs --runs 3",
};
save("pyramid", result);
console.log(JSON.stringify({ medianSeconds: result.medianSeconds, ratio: result.ratio }));
if (!existsSync(both)) process.exitCode = 1;
