#!/usr/bin/env node
// Validate other tools' outputs and ours (issue 11, "Done when", third bullet): for every NetCDF
// file of a corpus that xarray opens, write xarray's `to_zarr` output (Zarr v2, Debian xarray),
// rioxarray's (after `rio.write_crs` where a CRS is known: rioxarray's own, else the one geozarr
// found) and ours (`geozarr convert`, v2 and v3), run `geozarr validate --json` on each and
// tabulate the errors by rule and producer: how many stores each rule fails, and how many
// findings. A rule that fails on correct CF (a convention xarray legitimately uses) is our defect;
// one that flags a real defect of the file (no standard_name) is a finding. docs/compatibility.md
// keeps the summary and says which is which.
// Usage: node bench/corpus/validate.mjs CORPUS_DIR [--json out.json] [--only SUBSTRING]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PY, ROOT } from "../lib.mjs";

const corpus = process.argv[2];
if (!corpus || !existsSync(corpus)) {
  console.error("usage: node bench/corpus/validate.mjs CORPUS_DIR [--json out.json] [--only SUBSTRING]");
  process.exit(2);
}
const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : null);
const jsonOut = arg("--json");
const only = arg("--only");
const CLI = join(ROOT, "bin", "geozarr.js");
const work = mkdtempSync(join(tmpdir(), "geozarr-validate-"));
const PRODUCERS = ["xarray", "rioxarray", "geozarr v2", "geozarr v3"];

function files(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (!["zarr.json", ".zgroup", ".zarray"].some((f) => existsSync(join(p, f)))) files(p, out);
    } else if (/\.(nc|nc4|h5|hdf5|he5)$/i.test(name)) out.push(p);
  }
  return out;
}

const cli = (args) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 300_000 });

// 1. Ours, in both formats; the CRS we found goes to rioxarray's write_crs.
const cases = [];
for (const [i, file] of files(corpus).entries()) {
  const rel = relative(corpus, file);
  if (only && !rel.includes(only)) continue;
  const dir = join(work, String(i));
  mkdirSync(dir);
  const c = {
    rel,
    source: file,
    xarray: join(dir, "xarray.zarr"),
    rioxarray: join(dir, "rioxarray.zarr"),
    crs: null,
    outputs: {},
  };
  for (const [name, format] of [
    ["geozarr v2", "2"],
    ["geozarr v3", "3"],
  ]) {
    const out = join(dir, `geozarr-v${format}.zarr`);
    const r = cli(["convert", file, out, "--zarr-format", format, "--workers", "1", "--json"]);
    if (r.status === 0) {
      c.outputs[name] = out;
      const summary = JSON.parse(r.stdout);
      const g = summary.georef?.[0];
      if (g && /^EPSG:\d+$/.test(g.crs)) c.crs = g.crs;
    } else c[name] = `not converted (exit ${r.status})`;
  }
  cases.push(c);
  process.stderr.write(".");
}
process.stderr.write("\n");

// 2. xarray's and rioxarray's, in one Python process.
const manifest = join(work, "manifest.json");
writeFileSync(
  manifest,
  JSON.stringify(cases.map(({ source, xarray, rioxarray, crs }) => ({ source, xarray, rioxarray, crs }))),
);
const py = spawnSync(PY, [join(ROOT, "bench/corpus/peers.py"), manifest], {
  encoding: "utf8",
  timeout: 3_600_000,
  maxBuffer: 1 << 26,
});
if (py.status !== 0) {
  console.error(`peers.py failed:\n${py.stderr.slice(-2000)}`);
  process.exit(1);
}
const written = JSON.parse(py.stdout.trim().split("\n").pop());
for (const c of cases) {
  const w = written[c.source] ?? {};
  for (const p of ["xarray", "rioxarray"]) {
    if (String(w[p] ?? "").startsWith("written")) c.outputs[p] = c[p];
    else c[p] = w[p] ?? "not written";
  }
  c.xarrayOpens = !String(w.xarray ?? "").startsWith("xarray cannot open");
}

// 3. Validate every output; errors by rule and producer.
const table = new Map(); // rule -> producer -> { stores, findings, example }
const validated = Object.fromEntries(PRODUCERS.map((p) => [p, 0]));
const clean = Object.fromEntries(PRODUCERS.map((p) => [p, 0]));
const broken = [];
for (const c of cases.filter((x) => x.xarrayOpens)) {
  c.errors = {};
  for (const p of PRODUCERS) {
    const store = c.outputs[p];
    if (!store) continue;
    const r = cli(["validate", store, "--json"]);
    if (r.status !== 0 && r.status !== 1) {
      broken.push(`${c.rel} (${p}): validate exit ${r.status}: ${r.stderr.split("\n")[0]}`);
      continue;
    }
    validated[p]++;
    const errors = JSON.parse(r.stdout).findings.filter((f) => f.severity === "error");
    if (errors.length === 0) clean[p]++;
    c.errors[p] = errors.map((f) => `${f.rule} ${f.path}: ${f.message}`);
    for (const rule of new Set(errors.map((f) => f.rule))) {
      const byProducer = table.get(rule) ?? new Map();
      table.set(rule, byProducer);
      const cell = byProducer.get(p) ?? { stores: 0, findings: 0, example: null };
      byProducer.set(p, cell);
      cell.stores++;
      const mine = errors.filter((f) => f.rule === rule);
      cell.findings += mine.length;
      cell.example ??= `${c.rel}${mine[0].path}: ${mine[0].message}`;
    }
  }
  process.stderr.write(".");
}
process.stderr.write("\n");
rmSync(work, { recursive: true, force: true });

const opened = cases.filter((c) => c.xarrayOpens).length;
console.log(`${cases.length} NetCDF files, ${opened} opened by xarray\n`);
console.log(`| | ${PRODUCERS.join(" | ")} |`);
console.log(`|---|${PRODUCERS.map(() => "---:").join("|")}|`);
console.log(`| stores validated | ${PRODUCERS.map((p) => validated[p]).join(" | ")} |`);
console.log(`| with no error | ${PRODUCERS.map((p) => clean[p]).join(" | ")} |`);
console.log("\nerrors by rule: stores (findings)\n");
console.log(`| rule | ${PRODUCERS.join(" | ")} |`);
console.log(`|---|${PRODUCERS.map(() => "---:").join("|")}|`);
for (const rule of [...table.keys()].sort()) {
  const row = PRODUCERS.map((p) => {
    const cell = table.get(rule).get(p);
    return cell ? `${cell.stores} (${cell.findings})` : "";
  });
  console.log(`| ${rule} | ${row.join(" | ")} |`);
}
console.log("\nan example of each:");
for (const rule of [...table.keys()].sort())
  for (const [p, cell] of table.get(rule)) console.log(`  ${rule} ${p}: ${cell.example}`);
const notWritten = cases.flatMap((c) =>
  ["xarray", "rioxarray", "geozarr v2", "geozarr v3"]
    .filter((p) => c.xarrayOpens && !c.outputs[p])
    .map((p) => `  ${c.rel} (${p}): ${c[p] ?? "?"}`),
);
if (notWritten.length) console.log(`\nnot written:\n${notWritten.join("\n")}`);
if (broken.length) console.log(`\nvalidate failed:\n  ${broken.join("\n  ")}`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(cases, null, 1)}\n`);
