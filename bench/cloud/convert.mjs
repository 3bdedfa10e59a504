#!/usr/bin/env node
// Conversion to object storage against the same conversion to local disk: the full-size MUR-like
// NetCDF-4 (bench/data/mur_full.nc) converted with the defaults (v3, packed, zstd-1) to a directory
// and to s3:// on a loopback S3 server (s3rver, as in the tests), alternating round by round (one
// warm-up, then RUNS timed rounds under GNU time); medians and the S3/local ratio per round
// (target: at most 1.25). s3rver stores objects on the same disk, so the S3 side pays the disk too.
// Usage: node bench/cloud/convert.mjs [--runs 3] [--sample] [--workers N]
//   --sample  the bundled 719 x 1440 sample instead (a smoke run; nothing saved)
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DATA, ensure, median, ROOT, save, timed } from "../lib.mjs";
import { awsEnv, startS3 } from "./servers.mjs";

const argv = process.argv;
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const runs = Number(opt("--runs", 3));
const sample = argv.includes("--sample");
const workers = opt("--workers", undefined);
const geozarr = join(ROOT, "bin", "geozarr.js");
const input = sample
  ? join(ROOT, "examples", "data", "mur_small.nc")
  : ensure(join(DATA, "mur_full.nc"), process.execPath, [join(ROOT, "bench", "prepare.mjs"), "--full"]);
const work = join(DATA, "out", "cloud");
const s3 = await startS3(join(work, "s3rver"));
const env = awsEnv(s3.info);
const extra = workers ? ["--workers", workers] : [];

const sides = {
  local: (i) => {
    const out = join(work, `local-${i}.zarr`);
    rmSync(out, { recursive: true, force: true });
    return [process.execPath, [geozarr, "convert", input, out, ...extra]];
  },
  s3: (i) => [
    process.execPath,
    [geozarr, "convert", input, `s3://${s3.info.bucket}/run-${i}.zarr`, ...extra],
  ],
};

const rows = { local: [], s3: [], ratio: [] };
try {
  for (let i = 0; i <= runs; i++) {
    const t = {};
    for (const [name, cmd] of Object.entries(sides)) {
      const [c, args] = cmd(i);
      t[name] = timed(c, args, { env });
      console.error(
        `run ${i}${i ? "" : " (warm-up)"} ${name}: ${t[name].wall}s ${t[name].rssMB.toFixed(0)} MB`,
      );
    }
    if (i === 0) continue;
    rows.local.push(t.local);
    rows.s3.push(t.s3);
    rows.ratio.push(t.s3.wall / t.local.wall);
  }
} finally {
  await s3.stop();
  rmSync(work, { recursive: true, force: true });
}
const result = {
  input,
  runs,
  medianSeconds: { local: median(rows.local.map((r) => r.wall)), s3: median(rows.s3.map((r) => r.wall)) },
  medianRatio: median(rows.ratio),
  target: 1.25,
  peakRssMB: { local: median(rows.local.map((r) => r.rssMB)), s3: median(rows.s3.map((r) => r.rssMB)) },
  samples: rows,
  reproduce: "npm run build && node bench/prepare.mjs --full && node bench/cloud/convert.mjs --runs 3",
};
if (!sample) save("cloud-convert", result);
console.log(JSON.stringify({ medianSeconds: result.medianSeconds, medianRatio: result.medianRatio }));
