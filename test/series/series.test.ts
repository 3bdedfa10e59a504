/**
 * Time series (issue 14): granules of the shared MUR-like generator (scripts/fixtures/
 * series_granules.py: 6 days at step 0.25, 06-04 missing, named out of time order) into one
 * store, checked against xarray's open_mfdataset and zarrita; refusals before anything is
 * written; kill -9 then --resume, and appends, against uninterrupted runs byte for byte.
 */

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import * as zarr from "zarrita";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { runCliProcess, treeFingerprint } from "../helpers/processes.js";
import { pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const root = tmpDir("series");
const g = () => inject("seriesGranules");
const days = () => join(g(), "days");
/** The same moment for every run: byte-identical stores, history included. */
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };

/** The store's files, the root documents without their history line (it names the command). */
function content(store: string): Map<string, string> {
  const out = new Map(treeFingerprint(store));
  for (const key of ["zarr.json", ".zattrs", ".zmetadata"]) {
    if (!out.has(key)) continue;
    const doc = JSON.parse(readFileSync(join(store, key), "utf8"));
    const strip = (attrs?: Record<string, unknown>) => {
      if (attrs) delete attrs.history;
    };
    strip(key === "zarr.json" ? doc.attributes : key === ".zattrs" ? doc : doc.metadata?.[".zattrs"]);
    out.set(key, JSON.stringify(doc));
  }
  return out;
}

describe("many granules into one store (--concat time)", () => {
  const v2 = join(root, "series_v2.zarr");
  const v3 = join(root, "series_v3.zarr");
  let summary: {
    steps: number;
    missing: string[];
    first: string;
    last: string;
    plan: { tasks: number; done: number; skipped: number };
  };

  beforeAll(async () => {
    const r = await runCli(
      "convert",
      join(days(), "*.nc"),
      v2,
      "--concat",
      "time",
      "--zarr-format",
      "2",
      "--unpack",
      "float32",
      "--json",
    );
    expect(r.code).toBe(0);
    summary = JSON.parse(r.stdout);
    expect((await runCli("convert", join(days(), "*.nc"), v3, "--concat", "time")).code).toBe(0);
  });

  it("orders the granules by their times, not their names, and reports the missing day", () => {
    expect(summary).toMatchObject({
      steps: 6,
      first: "2002-06-01T09:00:00Z",
      last: "2002-06-07T09:00:00Z",
      missing: ["2002-06-04T09:00:00Z"],
      plan: { tasks: 6, done: 6, skipped: 0 },
    });
  });

  it("xarray reads the v2 store as open_mfdataset(combine='by_coords') reads the granules, exactly", () => {
    const r = pythonJson<Record<string, unknown>>(
      `import glob, json, sys, numpy as np, xarray as xr
ref = xr.open_mfdataset(sorted(glob.glob(sys.argv[1] + "/*.nc")), combine="by_coords")
ours = xr.open_zarr(sys.argv[2])
out = {"time": bool(np.array_equal(ref.time.values, ours.time.values)), "n": int(ours.sizes["time"])}
for v in ["analysed_sst", "analysis_error", "sea_ice_fraction", "mask"]:
    a, b = ref[v].values, ours[v].values
    out[v] = [str(a.dtype), str(b.dtype), bool(np.array_equal(a, b, equal_nan=True))]
print(json.dumps(out))`,
      [days(), v2],
    );
    expect(r).toEqual({
      time: true,
      n: 6,
      analysed_sst: ["float32", "float32", true],
      analysis_error: ["float32", "float32", true],
      sea_ice_fraction: ["float32", "float32", true],
      mask: ["float32", "float32", true],
    });
  });

  it("zarrita reads the v3 store: the time coordinate is one chunk, the packed values those of v2 packed", async () => {
    const store = new FileSystemStore(v3);
    const time = await zarr.open.v3(zarr.root(store as never).resolve("time"), { kind: "array" });
    expect(time.shape).toEqual([6]);
    expect(time.chunks[0]).toBeGreaterThanOrEqual(6); // one chunk (room for appends)
    const t = await zarr.get(time);
    // seconds since 1981-01-01: 2002-06-01T09 is 675766800, then daily, 06-04 missing
    expect(Array.from(t.data as Int32Array)).toEqual([0, 1, 2, 4, 5, 6].map((d) => 675766800 + d * 86400));
    const sst = await zarr.open.v3(zarr.root(store as never).resolve("analysed_sst"), { kind: "array" });
    expect(sst.shape).toEqual([6, 719, 1440]);
    const day5 = await zarr.get(sst, [4, null, null]);
    const ref = pythonJson<number[]>(
      `import json, sys, netCDF4
ds = netCDF4.Dataset(sys.argv[1]); v = ds["analysed_sst"]; v.set_auto_maskandscale(False)
print(json.dumps(v[0, ::97, ::193].ravel().tolist()))`,
      [join(days(), "y_0606.nc")],
    );
    const ours: number[] = [];
    const d = day5.data as Int16Array;
    for (let r = 0; r < 719; r += 97) for (let c = 0; c < 1440; c += 193) ours.push(d[r * 1440 + c]!);
    expect(ours).toEqual(ref);
  });

  it("takes inputs from a list file and from quoted globs alike", async () => {
    const list = join(root, "list.txt");
    const files = readdirSync(days()).map((f) => join(days(), f));
    writeFileSync(list, `# granules\n${files.join("\n")}\n`);
    const out = join(root, "from-list.zarr");
    const r = await runCli(
      "convert",
      out,
      "--inputs-from",
      list,
      "--concat",
      "time",
      "--zarr-format",
      "2",
      "--unpack",
      "float32",
    );
    expect(r.code).toBe(0);
    expect(content(out)).toEqual(content(v2));
  });

  it("the same store whether the first granule listed is the first in time (planned ahead) or not", async () => {
    // jobs/series.ts plans the first listed granule while the workers scan, and uses that plan
    // only when it is the first in time: both orders must give the same bytes.
    const files = ["mur_0701.nc", "mur_0702.nc", "mur_0703.nc"].map((f) => join(g(), "twelve", f));
    const stores: string[] = [];
    for (const [name, order] of [
      ["in-order", files],
      ["reversed", [...files].reverse()],
    ] as const) {
      // The same list and output names in both (the history attribute names them).
      mkdirSync(join(root, name), { recursive: true });
      const list = join(root, name, "list.txt");
      writeFileSync(list, `${order.join("\n")}\n`);
      const out = join(root, name, "s.zarr");
      const r = await runCliProcess(["convert", out, "--inputs-from", list, "--concat", "time"], EPOCH);
      expect(r.code).toBe(0);
      stores.push(out);
    }
    // Every chunk and array document the same bytes; the root document the same but for its
    // history, which names the list file given.
    const [a, b] = stores.map((s) => treeFingerprint(s!, (n) => n === "zarr.json"));
    expect(a!.size).toBeGreaterThan(10);
    expect(b).toEqual(a);
    const roots = stores.map((s) => {
      const doc = JSON.parse(readFileSync(join(s!, "zarr.json"), "utf8"));
      expect(doc.attributes.history).toMatch(/--inputs-from \S+list\.txt --concat time/);
      delete doc.attributes.history;
      return doc;
    });
    expect(roots[1]).toEqual(roots[0]);
  });
});

describe("refused before anything is written", () => {
  const cases: [string, string, RegExp][] = [
    [
      "other_grid.nc",
      "another grid",
      /other_grid\.nc: \/lat has shape 359, the first has 719 \(c_0601\.nc\)/,
    ],
    [
      "other_scale.nc",
      "another scale_factor",
      /other_scale\.nc: \/analysed_sst has scale_factor 0\.002, the first has 0\.001 \(c_0601\.nc\)/,
    ],
    [
      "same_time.nc",
      "a duplicate time",
      /same_time\.nc: the same time as .*b_0605\.nc \(2002-06-05T09:00:00Z\)|b_0605\.nc: the same time as .*same_time\.nc/,
    ],
  ];
  for (const [file, what, message] of cases) {
    it(`a granule with ${what}`, async () => {
      const out = join(root, `refused-${file}.zarr`);
      const before = readdirSync(root);
      const r = await runCli(
        "convert",
        join(days(), "*.nc"),
        join(g(), "odd", file),
        out,
        "--concat",
        "time",
      );
      expect(r.code).toBe(3);
      expectOneLine(r.stderr, message);
      expect(readdirSync(root)).toEqual(before);
    });
  }

  it("several inputs without --concat, and appending earlier times", async () => {
    let r = await runCli(
      "convert",
      join(days(), "a_0602.nc"),
      join(days(), "b_0605.nc"),
      join(root, "x.zarr"),
    );
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /2 inputs: several inputs need --concat DIM/, "convert");
    const store = join(root, "early.zarr");
    expect(
      (
        await runCli(
          "convert",
          join(days(), "b_0605.nc"),
          join(days(), "y_0606.nc"),
          store,
          "--concat",
          "time",
        )
      ).code,
    ).toBe(0);
    const before = treeFingerprint(store);
    r = await runCli("convert", join(days(), "a_0602.nc"), store, "--append", "time");
    expect(r.code).toBe(2);
    expectOneLine(
      r.stderr,
      /a_0602\.nc: 2002-06-02T09:00:00Z is not after the last time of .*early\.zarr \(2002-06-06T09:00:00Z\)/,
      "convert",
    );
    expect(treeFingerprint(store)).toEqual(before);
  });
});

describe("interrupted, resumed, appended: the same store as an uninterrupted run", () => {
  const clean = join(root, "clean", "s.zarr");
  beforeAll(async () => {
    mkdirSync(join(root, "clean"), { recursive: true });
    const r = await runCliProcess(["convert", join(days(), "*.nc"), clean, "--concat", "time"], EPOCH);
    expect(r.code).toBe(0);
  });

  it("kill -9 in the middle of the run, then --resume: byte for byte the uninterrupted store", async () => {
    const dir = join(root, "killed");
    mkdirSync(dir, { recursive: true });
    const out = join(dir, "s.zarr");
    const args = ["convert", join(days(), "*.nc"), out, "--concat", "time"];
    // Killed in the 4th task (4 data arrays of one chunk each: the 13th encode), on the calling
    // thread so that the count is exact: 3 tasks recorded. The resumed run uses worker threads.
    const killed = await runCliProcess([...args, "--workers", "0"], {
      ...EPOCH,
      GEOZARR_FAULT: "task:encode-chunk:kill:13",
    });
    expect(killed.code).toBe(137);
    expect(existsSync(out)).toBe(false);
    const again = await runCliProcess(args, EPOCH);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(
      /an interrupted run of this same conversion left .*s\.zarr\.partial-[0-9a-f]+ with 3 tasks done; continue it with the resume option \(--resume\)/,
    );
    const resumed = await runCliProcess([...args, "--resume", "--json"], EPOCH);
    expect(resumed.code).toBe(0);
    const s = JSON.parse(resumed.stdout);
    expect(s.plan.skipped).toBeGreaterThan(0);
    expect(s.plan.skipped + s.plan.done).toBe(6);
    expect(treeFingerprint(out)).toEqual(treeFingerprint(clean));
    expect(readdirSync(dir)).toEqual(["s.zarr"]);
  });

  it("--append of two more days equals converting all eight at once; killed half-way it leaves the store as it was", async () => {
    const all = join(root, "all8.zarr");
    expect(
      (
        await runCliProcess(
          ["convert", join(days(), "*.nc"), join(g(), "more", "*.nc"), all, "--concat", "time"],
          EPOCH,
        )
      ).code,
    ).toBe(0);
    const store = join(root, "append", "s.zarr");
    mkdirSync(join(root, "append"), { recursive: true });
    cpSync(clean, store, { recursive: true });
    const before = treeFingerprint(store);
    const args = ["convert", join(g(), "more", "*.nc"), store, "--append", "time"];
    const killed = await runCliProcess([...args, "--workers", "0"], {
      ...EPOCH,
      GEOZARR_FAULT: "task:encode-chunk:kill:5",
    });
    expect(killed.code).toBe(137);
    expect(treeFingerprint(store)).toEqual(before);
    const resumed = await runCliProcess([...args, "--resume"], EPOCH);
    expect(resumed.code).toBe(0);
    const strip = (m: Map<string, string>) => new Map([...m].filter(([k]) => k !== ".geozarr-series.json"));
    expect(strip(content(store))).toEqual(strip(content(all)));
    expect(readdirSync(join(root, "append"))).toEqual(["s.zarr"]);
    // 8 days, in order (zarrita: Debian's xarray reads Zarr v2 only)
    const time = await zarr.open.v3(zarr.root(new FileSystemStore(store) as never).resolve("time"), {
      kind: "array",
    });
    const t = Array.from((await zarr.get(time)).data as Int32Array);
    expect(t.map((s) => new Date(Date.UTC(1981, 0, 1) + s * 1000).toISOString().slice(0, 10))).toEqual([
      "2002-06-01",
      "2002-06-02",
      "2002-06-03",
      "2002-06-05",
      "2002-06-06",
      "2002-06-07",
      "2002-06-08",
      "2002-06-09",
    ]);
  });

  it("--chunks time=2 groups two granules per chunk (3 tasks), and an append fills the last chunk", async () => {
    const out = join(root, "pairs.zarr");
    const r = await runCliProcess(
      ["convert", join(days(), "*.nc"), out, "--concat", "time", "--chunks", "time=2", "--json"],
      EPOCH,
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).plan.tasks).toBe(3);
    const a = await runCliProcess(
      ["convert", join(g(), "more", "mur_0608.nc"), out, "--append", "time", "--json"],
      EPOCH,
    );
    expect(a.code).toBe(0);
    const all = join(root, "pairs-all.zarr");
    expect(
      (
        await runCliProcess(
          [
            "convert",
            join(days(), "*.nc"),
            join(g(), "more", "mur_0608.nc"),
            all,
            "--concat",
            "time",
            "--chunks",
            "time=2",
          ],
          EPOCH,
        )
      ).code,
    ).toBe(0);
    const strip = (m: Map<string, string>) => new Map([...m].filter(([k]) => k !== ".geozarr-series.json"));
    expect(strip(content(out))).toEqual(strip(content(all)));
  });

  it("--replace-times rewrites the steps of granules whose times the store has, and appends the rest", async () => {
    const store = join(root, "replace", "s.zarr");
    mkdirSync(join(root, "replace"), { recursive: true });
    cpSync(clean, store, { recursive: true });
    const fixed = join(root, "replace", "b_0605_fixed.nc");
    cpSync(join(days(), "b_0605.nc"), fixed);
    pythonJson(
      `import json, sys, netCDF4
d = netCDF4.Dataset(sys.argv[1], "a"); v = d["analysed_sst"]; v.set_auto_maskandscale(False)
x = v[:]; x[x > -32768] += 7; v[:] = x; d.close(); print("{}")`,
      [fixed],
    );
    const before = treeFingerprint(store);
    let r = await runCliProcess(["convert", fixed, store, "--append", "time"], EPOCH);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/b_0605_fixed\.nc: 2002-06-05T09:00:00Z is not after the last time/);
    expect(treeFingerprint(store)).toEqual(before);
    r = await runCliProcess(
      ["convert", fixed, join(g(), "more", "mur_0608.nc"), store, "--append", "time", "--replace-times"],
      EPOCH,
    );
    expect(r.code).toBe(0);
    const st = new FileSystemStore(store);
    const sst = await zarr.open.v3(zarr.root(st as never).resolve("analysed_sst"), { kind: "array" });
    expect(sst.shape).toEqual([7, 719, 1440]);
    const orig = await zarr.open.v3(zarr.root(new FileSystemStore(clean) as never).resolve("analysed_sst"), {
      kind: "array",
    });
    const [a, b, a2, b2] = await Promise.all([
      zarr.get(orig, [3, null, null]),
      zarr.get(sst, [3, null, null]),
      zarr.get(orig, [2, null, null]),
      zarr.get(sst, [2, null, null]),
    ]);
    const x = a.data as Int16Array;
    const y = b.data as Int16Array;
    let changed = 0;
    let wrong = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] === -32768) wrong += y[i] === -32768 ? 0 : 1;
      else if (y[i] === x[i]! + 7) changed++;
      else wrong++;
    }
    expect(wrong).toBe(0);
    expect(changed).toBeGreaterThan(600_000);
    expect(
      Buffer.from((b2.data as Int16Array).buffer).equals(Buffer.from((a2.data as Int16Array).buffer)),
    ).toBe(true);
  });
});
