#!/usr/bin/env node
// Real-world corpus sweep (issue 11): every NetCDF/HDF5 file of a corpus is converted with the
// CLI (`convert --zarr-format 2`) and read back by xarray against xarray's decoding of the source
// and by GDAL's georeferencing of it (bench/corpus/check.py); every Zarr store is listed (`tree`)
// and each array's statistics computed (`stats`). Each case either succeeds and agrees, or is
// refused with a one-line reason (exit 2/3); anything else (exit 1, several lines, a difference)
// is a defect. Prints a table per source folder and the defects; docs/compatibility.md keeps the
// summary.
// Usage: node bench/corpus/run.mjs CORPUS_DIR [--json out.json]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PY, ROOT } from "../lib.mjs";

const corpus = process.argv[2];
if (!corpus || !existsSync(corpus)) {
  console.error("usage: node bench/corpus/run.mjs CORPUS_DIR [--json out.json]");
  process.exit(2);
}
const jsonOut = process.argv.includes("--json") ? process.argv[process.argv.indexOf("--json") + 1] : null;
const CLI = join(ROOT, "bin", "geozarr.js");
const work = mkdtempSync(join(tmpdir(), "geozarr-corpus-"));

const isStore = (p) => ["zarr.json", ".zgroup", ".zarray"].some((f) => existsSync(join(p, f)));
function walk(dir, out = { files: [], stores: [] }) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (isStore(p)) out.stores.push(p);
      else walk(p, out);
    } else if (/\.(nc|nc4|h5|hdf5|he5)$/i.test(name)) out.files.push(p);
  }
  return out;
}

function cli(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  const lines = (r.stderr ?? "")
    .split("\n")
    .filter((l) => l.startsWith("geozarr: error") || /^\s+at /.test(l) || /internal error/.test(l));
  return {
    code: r.status ?? (r.signal ? 128 : 1),
    stderr: r.stderr ?? "",
    errorLines: lines,
    stdout: r.stdout ?? "",
  };
}

const oneLineRefusal = (r) => (r.code === 2 || r.code === 3) && r.errorLines.length === 1;
const rows = [];
const { files, stores } = walk(corpus);

for (const file of files) {
  const rel = relative(corpus, file);
  const out = join(work, "out.zarr");
  rmSync(out, { recursive: true, force: true });
  const r = cli(["convert", file, out, "--zarr-format", "2", "--workers", "1"]);
  const row = { kind: "netcdf", path: rel, folder: rel.split("/")[0], code: r.code };
  if (r.code === 0) {
    const c = spawnSync(PY, [join(ROOT, "bench/corpus/check.py"), file, out], {
      encoding: "utf8",
      timeout: 300_000,
    });
    const res =
      c.status === 0 ? JSON.parse(c.stdout.trim().split("\n").pop()) : { error: c.stderr.slice(-200) };
    Object.assign(row, res);
    row.outcome = res.error
      ? "check failed"
      : res.reference
        ? "converted (xarray cannot read the source)"
        : res.differ.length
          ? "values differ"
          : res.georef.startsWith("differs")
            ? "georef differs"
            : "converted, equal";
  } else if (oneLineRefusal(r)) {
    row.outcome = "refused (one line)";
    row.reason = r.errorLines[0]
      .replace(/^geozarr: error: /, "")
      .replace(file, "FILE")
      .slice(0, 160);
  } else {
    row.outcome = "crash / multi-line error";
    row.reason = r.stderr.split("\n").slice(0, 2).join(" | ").slice(0, 200);
  }
  rows.push(row);
  process.stderr.write(".");
}

for (const store of stores) {
  const rel = relative(corpus, store);
  const t = cli(["tree", store, "--json"]);
  const row = { kind: "zarr", path: rel, folder: rel.split("/")[0], code: t.code };
  if (t.code === 0) {
    const arrays = [];
    const visit = (n) => {
      if (n.kind === "array" && !n.unsupported) arrays.push(n.path);
      for (const c of n.children ?? []) visit(c);
    };
    visit(JSON.parse(t.stdout));
    let refused = 0;
    let crashed = 0;
    for (const a of arrays) {
      const s = cli(["stats", store, a, "--workers", "0"]);
      if (s.code === 0) continue;
      if (oneLineRefusal(s)) refused++;
      else crashed++;
    }
    row.arrays = arrays.length;
    row.outcome = crashed
      ? "crash / multi-line error"
      : refused
        ? "read, some arrays refused (one line)"
        : "read";
    row.refusedArrays = refused;
  } else if (oneLineRefusal(t)) {
    row.outcome = "refused (one line)";
    row.reason = t.errorLines[0].replace(/^geozarr: error: /, "").slice(0, 160);
  } else {
    row.outcome = "crash / multi-line error";
    row.reason = t.stderr.split("\n").slice(0, 2).join(" | ").slice(0, 200);
  }
  rows.push(row);
  process.stderr.write(".");
}
process.stderr.write("\n");
rmSync(work, { recursive: true, force: true });

// Summary: outcomes per folder.
const outcomes = [...new Set(rows.map((r) => r.outcome))].sort();
const folders = [...new Set(rows.map((r) => r.folder))].sort();
const pad = (s, n) => String(s).padEnd(n);
console.log(`| folder | ${outcomes.join(" | ")} |`);
console.log(`|---|${outcomes.map(() => "---:").join("|")}|`);
for (const f of [...folders, "total"]) {
  const sel = rows.filter((r) => f === "total" || r.folder === f);
  console.log(
    `| ${pad(f, 10)} | ${outcomes.map((o) => sel.filter((r) => r.outcome === o).length).join(" | ")} |`,
  );
}
const vars = rows.reduce((n, r) => n + (r.vars ?? 0), 0);
const equalVars = rows.reduce((n, r) => n + (r.equal ?? 0), 0);
console.log(`\nvariables compared with xarray: ${equalVars} of ${vars} equal`);
console.log("\ndefects and refusals:");
for (const r of rows.filter((x) => !["converted, equal", "read"].includes(x.outcome)))
  console.log(
    `  ${r.path}: ${r.outcome}${r.reason ? `: ${r.reason}` : ""}${r.differ?.length ? `: ${r.differ.join(", ")}` : ""}${r.georef?.startsWith("differs") ? `: ${r.georef}` : ""}${r.reference ? `: ${r.reference}` : ""}`,
  );
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(rows, null, 1)}\n`);
