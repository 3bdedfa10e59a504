/**
 * Multiscale pyramids of the sample (issue 6), checked with real clients: every level of the v2
 * store opens in xarray (shape, rioxarray transform, CRS), averages equal numpy's NaN-aware block
 * means of the level before (decoded values, re-packed), the mask is the block mode; every level of
 * the v3 store opens in zarrita with the layout's shape; the validator passes both and catches
 * broken layouts.
 */

import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { downsample, reducedSize } from "../../src/kernels/resample.js";
import { addLevels, convert, validateStore } from "../../src/node.js";
import { planPyramid } from "../../src/pyramid/levels.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { FILL, gridStore } from "../helpers/grid-store.js";
import { pythonJson } from "../helpers/python.js";
import { saveStore } from "../helpers/stores.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const dir = tmpDir("pyramid");
const v2 = join(dir, "mur-v2.zarr");
const v3 = join(dir, "mur-v3.zarr");

beforeAll(async () => {
  // v2: GeoZarr v0.4 wants tiles = chunks at every level, so full resolution is chunked by 256 too.
  await convert(SAMPLE, v2, { zarrFormat: 2, workers: 2, multiscales: { tileSize: 256, workers: 2 } });
  await convert(SAMPLE, v3, { zarrFormat: 3, requireStandardName: true, workers: 2 });
  await addLevels(v3, { tileSize: 256, workers: 2 });
});

describe("planPyramid", () => {
  it("halves (rounding up) until one tile holds the grid, every level over the same extent", () => {
    const levels = planPyramid(719, 1440, [0.25, 0, -180, 0, 0.25, -89.875], 256);
    expect(levels.map((l) => l.shape)).toEqual([
      [719, 1440],
      [360, 720],
      [180, 360],
      [90, 180],
    ]);
    for (const l of levels) {
      expect(l.affine[2]).toBe(-180);
      expect(l.affine[5]).toBe(-89.875);
      expect(l.affine[0]! * l.shape[1]).toBeCloseTo(360, 9);
      expect(l.affine[4]! * l.shape[0]).toBeCloseTo(179.75, 9);
    }
    expect(planPyramid(719, 1440, [1, 0, 0, 0, -1, 0], 256, 1)).toHaveLength(2);
    expect(planPyramid(100, 200, [1, 0, 0, 0, -1, 0], 256)).toHaveLength(1);
  });
});

describe("a v2 pyramid (GeoZarr v0.4)", () => {
  it("every level opens in xarray with the expected shape, CRS and transform", () => {
    const out = pythonJson<Record<string, unknown>[]>(
      `import json, sys, xarray as xr, rioxarray
res = []
for lev in ["0", "1", "2", "3"]:
    ds = xr.open_zarr(sys.argv[1], group=lev, decode_coords="all")
    da = ds.analysed_sst
    res.append({"shape": list(da.shape), "crs": da.rio.crs.to_string(), "res": [round(v, 9) for v in da.rio.resolution()],
                "vars": " ".join(sorted(ds.variables)), "gt": ds.spatial_ref.attrs["GeoTransform"]})
print(json.dumps(res))`,
      [v2],
    );
    expect(out.map((l) => l.shape)).toEqual([
      [1, 719, 1440],
      [1, 360, 720],
      [1, 180, 360],
      [1, 90, 180],
    ]);
    for (const l of out) {
      expect(l.crs).toBe("EPSG:4326");
      expect(l.vars).toBe("analysed_sst analysis_error lat lon mask sea_ice_fraction spatial_ref time");
    }
    // South-up (MUR latitudes ascend): positive y resolution; the level's cells span the extent.
    expect(out[1]!.res).toEqual([0.5, Number((179.75 / 360).toFixed(9))]);
    // The sample's first cell centre is (-179.75, -89.75): the corner is (-179.875, -89.875).
    expect(out[3]!.gt).toBe(`-179.875 2 0 -89.875 0 ${179.75 / 90}`);
  });

  it("averages ignore missing values and equal numpy's block means; the mask takes the block mode", () => {
    const out = pythonJson<Record<string, number | boolean>>(
      `import json, sys, warnings, numpy as np, xarray as xr
warnings.simplefilter("ignore")
def blocks(a, fill):
    r, c = a.shape
    p = np.full((r + r % 2, c + c % 2), fill, dtype=float); p[:r, :c] = a
    return p.reshape(p.shape[0] // 2, 2, p.shape[1] // 2, 2).transpose(0, 2, 1, 3).reshape(p.shape[0] // 2, p.shape[1] // 2, 4)
res = {}
for k in [1, 2, 3]:
    prev = xr.open_zarr(sys.argv[1], group=str(k - 1))
    cur = xr.open_zarr(sys.argv[1], group=str(k))
    for v in ["analysed_sst", "sea_ice_fraction"]:
        want = np.nanmean(blocks(prev[v].values[0], np.nan), axis=2)
        got = cur[v].values[0]
        scale = float(cur[v].encoding.get("scale_factor", 1))
        res[f"{k}:{v}:nan"] = bool(np.array_equal(np.isnan(want), np.isnan(got)))
        # re-packed: within half a packing step (plus xarray's float32 decoding noise)
        res[f"{k}:{v}:err"] = float(np.nanmax(np.abs(want - got)) / scale)
    m = blocks(xr.open_zarr(sys.argv[1], group=str(k - 1), mask_and_scale=False).mask.values[0].astype(float), np.nan)
    mode = np.full(m.shape[:2], np.nan)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            vals = m[i, j][~np.isnan(m[i, j])]
            if vals.size:
                u, n = np.unique(vals, return_counts=True)
                mode[i, j] = u[np.argmax(n)]
    got = xr.open_zarr(sys.argv[1], group=str(k), mask_and_scale=False).mask.values[0].astype(float)
    res[f"{k}:mask"] = bool(np.array_equal(mode, got))
print(json.dumps(res))`,
      [v2],
    );
    for (const k of [1, 2, 3]) {
      for (const v of ["analysed_sst", "sea_ice_fraction"]) {
        expect(out[`${k}:${v}:nan`], `${k}:${v}`).toBe(true);
        expect(out[`${k}:${v}:err`] as number, `${k}:${v}`).toBeLessThanOrEqual(0.55);
      }
      expect(out[`${k}:mask`]).toBe(true);
    }
  });

  it("carries GeoZarr v0.4 multiscales with an inline tile matrix set, and validates cleanly", async () => {
    const root = JSON.parse(readFileSync(join(v2, ".zattrs"), "utf8"));
    const tms = root.multiscales.tile_matrix_set;
    expect(root.multiscales.resampling_method).toBe("average");
    expect(tms.crs).toBe("http://www.opengis.net/def/crs/EPSG/0/4326");
    expect(tms.tileMatrices.map((m: { id: string }) => m.id)).toEqual(["3", "2", "1", "0"]);
    expect(tms.tileMatrices[3]).toMatchObject({ tileWidth: 256, matrixWidth: 6, matrixHeight: 3 });
    expect(tms.tileMatrices[0].cornerOfOrigin).toBe("bottomLeft");
    const mask = JSON.parse(readFileSync(join(v2, "0", "mask", ".zattrs"), "utf8"));
    expect(mask.multiscales.resampling_method).toBe("mode");
    // Level 0 keeps its chunks on disk: hard-linked, not rewritten.
    expect(existsSync(join(v2, "0", "analysed_sst", "0.0.0"))).toBe(true);
    const report = await validateStore(new FileSystemStore(v2), "v2");
    // analysis_error and mask lack standard names (GeoZarr v0.4): nothing else.
    expect(new Set(report.findings.map((f) => f.rule))).toEqual(new Set(["G4-04"]));
  });
});

describe("a v3 pyramid (zarr-conventions multiscales)", () => {
  it("every level opens in zarrita with the layout's shape, and level 0 holds the source's values", async () => {
    const root = JSON.parse(readFileSync(join(v3, "zarr.json"), "utf8"));
    const layout = root.attributes.multiscales.layout as { asset: string; "spatial:shape": number[] }[];
    expect(layout.map((l) => l.asset)).toEqual(["0", "1", "2", "3"]);
    expect(root.attributes.zarr_conventions[0].uuid).toBe("d35379db-88df-4056-af3a-620245f8e347");
    expect(root.attributes["proj:code"]).toBe("EPSG:4326");
    expect(root.attributes.multiscales.layout[1]).toMatchObject({
      derived_from: "0",
      transform: { scale: [719 / 360, 2], translation: [0, 0] },
      resampling_method: "average",
    });
    const zstore = new FileSystemStore(v3);
    for (const l of layout) {
      const a = await zarr.open.v3(zarr.root(zstore).resolve(`${l.asset}/analysed_sst`), { kind: "array" });
      expect(a.shape.slice(1)).toEqual(l["spatial:shape"]);
      const group = JSON.parse(readFileSync(join(v3, l.asset, "zarr.json"), "utf8"));
      expect(group.attributes["spatial:shape"]).toEqual(l["spatial:shape"]);
      if (l.asset !== "0") expect(a.chunks.slice(1)).toEqual([256, 256]);
    }
    const top = await zarr.open.v3(zarr.root(zstore).resolve("3/analysed_sst"), { kind: "array" });
    const chunk = await zarr.get(top, [0, null, null]);
    expect(chunk.shape).toEqual([90, 180]);
    expect(
      JSON.parse(readFileSync(join(v3, "zarr.json"), "utf8")).consolidated_metadata.metadata,
    ).toHaveProperty("3/analysed_sst");
    const report = await validateStore(new FileSystemStore(v3), "v3");
    expect(report.findings).toEqual([]);
  });

  it("the validator catches a broken layout: a missing asset, a wrong shape, a wrong scale", async () => {
    const broken = join(dir, "broken-v3.zarr");
    cpSync(v3, broken, { recursive: true });
    const path = join(broken, "zarr.json");
    const doc = JSON.parse(readFileSync(path, "utf8"));
    const layout = doc.attributes.multiscales.layout;
    layout[1]["spatial:shape"] = [361, 720];
    layout[2].transform.scale = [3, 3];
    layout.push({ asset: "9", derived_from: "3", transform: { scale: [2, 2] } });
    delete doc.consolidated_metadata;
    writeFileSync(path, JSON.stringify(doc));
    const report = await validateStore(new FileSystemStore(broken), "broken");
    const gc09 = report.findings.filter((f) => f.rule === "GC-09").map((f) => f.message);
    // The wrong shape is reported for each variable of level 1.
    expect(gc09).toHaveLength(4);
    expect(gc09.join("\n")).toMatch(/\/1\/analysed_sst is \[360, 720\].*layout says \[361, 720\]/);
    expect(gc09.join("\n")).toMatch(/\/1\/sea_ice_fraction is \[360, 720\]/);
    expect(gc09.join("\n")).toMatch(/scale \[3, 3\] does not turn 1's cell size/);
    expect(gc09.join("\n")).toMatch(/asset "9" does not exist/);
  });

  it("refuses a store that already has levels, and leaves it as it was", async () => {
    const before = readFileSync(join(v3, "zarr.json"), "utf8");
    await expect(addLevels(v3, { workers: 0 })).rejects.toThrow(/already has multiscale levels/);
    expect(readFileSync(join(v3, "zarr.json"), "utf8")).toBe(before);
  });
});

describe("convert --multiscales", () => {
  it("computes the first levels from the conversion's own bands, byte for byte what pyramid writes", async () => {
    // 1024-column units hold whole 256-tiles of levels 1 and 2 (the fused path: each unit halved
    // on its own, two units across the sample); level 3 as pyramid computes it.
    const opts = { zarrFormat: 3, workers: 2, chunks: "time=1,lat=1024,lon=1024" } as const;
    const fused = join(dir, "fused.zarr");
    const s = await convert(SAMPLE, fused, { ...opts, multiscales: { tileSize: 256 } });
    const levels = s.multiscales;
    const sst = s.arrays.find((a) => a.path === "/analysed_sst")!;
    expect(sst.halved).toEqual([1, 2].map((k) => `/.geozarr-levels/${k}/analysed_sst`));
    expect(levels!.levels).toHaveLength(4);
    const separate = join(dir, "separate.zarr");
    await convert(SAMPLE, separate, opts);
    await addLevels(separate, { tileSize: 256 });
    const files = (root: string): string[] =>
      readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(root.length))
        .sort();
    expect(files(fused)).toEqual(files(separate));
    const chunks = files(fused).filter((f) => /^\/[1-3]\/.*\/c\//.test(f));
    expect(chunks.length).toBeGreaterThan(20);
    for (const f of chunks)
      expect(readFileSync(join(fused, f)).equals(readFileSync(join(separate, f))), f).toBe(true);
    // The same metadata everywhere, but for the history line (its command and time).
    const root = (r: string) => {
      const doc = JSON.parse(readFileSync(join(r, "zarr.json"), "utf8"));
      delete doc.attributes.history;
      return doc;
    };
    expect(root(fused)).toEqual(root(separate));
  });
});

describe("pyramid of a time series", () => {
  it("reduces every time step on its own, on worker threads, with fill-aware averages re-packed", async () => {
    const g = await gridStore({ times: 3, rows: 300, cols: 520, chunks: [128, 128] });
    const path = saveStore(g.store, join(dir, "series.zarr"));
    const s = await addLevels(path, { tileSize: 256, workers: 2 });
    expect(s.levels.map((l) => l.shape)).toEqual([
      [300, 520],
      [150, 260],
      [75, 130],
    ]);
    const root = zarr.root(new FileSystemStore(path));
    let prev = g.raw;
    let [rows, cols] = [300, 520];
    for (const k of [1, 2]) {
      const a = await zarr.open.v3(root.resolve(`${k}/sst`), { kind: "array" });
      const got = (await zarr.get(a)).data as Int16Array;
      const [r2, c2] = [reducedSize(rows, 2), reducedSize(cols, 2)];
      const want = new Int16Array(3 * r2 * c2);
      for (let t = 0; t < 3; t++) {
        const plane = new Float64Array(r2 * c2);
        downsample(
          "average",
          { values: prev.subarray(t * rows * cols, (t + 1) * rows * cols), rows, cols },
          2,
          plane,
          {
            missing: FILL,
            empty: FILL,
          },
        );
        want.set(
          Array.from(plane, (v) => Math.round(v)),
          t * r2 * c2,
        );
      }
      expect(got).toEqual(want);
      [prev, rows, cols] = [want, r2, c2];
    }
  });
});

describe("--tms WebMercatorQuad", () => {
  const wm2 = join(dir, "wm-v2.zarr");
  const wm3 = join(dir, "wm-v3.zarr");
  beforeAll(async () => {
    const opts = { requireStandardName: true, workers: 2 } as const;
    await convert(SAMPLE, wm2, { ...opts, zarrFormat: 2 });
    await addLevels(wm2, { tms: "WebMercatorQuad", tileSize: 256 });
    await convert(SAMPLE, wm3, { ...opts, zarrFormat: 3 });
    await addLevels(wm3, { tms: "WebMercatorQuad", tileSize: 256, resampling: "bilinear" });
  });

  it("samples the finest zoom exactly as pyproj's inverse Mercator and nearest cell say (v2)", () => {
    const out = pythonJson<{
      crs: string;
      transform: number[];
      differ: number;
      size: number;
      shapes: number[][];
    }>(
      `import sys, json, xarray as xr, numpy as np, rioxarray, pyproj
store = sys.argv[1]
src = xr.open_zarr(store, mask_and_scale=False)
lev = xr.open_zarr(store, group="2", mask_and_scale=False, decode_coords="all")
da = lev.analysed_sst
lon, lat = pyproj.Transformer.from_crs(3857, 4326, always_xy=True).transform(*np.meshgrid(lev.x.values, lev.y.values))
sa = src.analysed_sst.values[0]
dlat = float(src.lat.values[1] - src.lat.values[0]); dlon = float(src.lon.values[1] - src.lon.values[0])
r = np.floor((lat - (float(src.lat.values[0]) - dlat / 2)) / dlat).astype(int)
c = np.floor((lon - (float(src.lon.values[0]) - dlon / 2)) / dlon).astype(int)
ok = (r >= 0) & (r < sa.shape[0]) & (c >= 0) & (c < sa.shape[1])
want = np.full(lat.shape, -32768, dtype=np.int16)
want[ok] = sa[r[ok], c[ok]]
shapes = [list(xr.open_zarr(store, group=str(z)).analysed_sst.shape) for z in range(3)]
print(json.dumps({"crs": da.rio.crs.to_string(), "transform": list(da.rio.transform())[:6],
                  "differ": int((want != da.values[0]).sum()), "size": int(da.size), "shapes": shapes}))`,
      [wm2],
    );
    expect(out.crs).toBe("EPSG:3857");
    const res = (2 * Math.PI * 6378137) / 1024;
    expect(out.transform.map((v) => Number(v.toFixed(6)))).toEqual(
      [res, 0, -Math.PI * 6378137, 0, -res, Math.PI * 6378137].map((v) => Number(v.toFixed(6))),
    );
    expect(out.differ).toBe(0);
    expect(out.size).toBe(1024 * 1024);
    // Zoom 0 is the world in one 256 tile; the sample's 0.25 degrees stop at zoom 2 (39 km > 28 km).
    expect(out.shapes).toEqual([
      [1, 256, 256],
      [1, 512, 512],
      [1, 1024, 1024],
    ]);
    const root = JSON.parse(readFileSync(join(wm2, ".zattrs"), "utf8"));
    expect(root.multiscales).toEqual({ tile_matrix_set: "WebMercatorQuad", resampling_method: "nearest" });
  });

  it("bilinear differs from nearest; coarser zooms are 2 x 2 averages of the zoom above; both stores validate", async () => {
    const root = zarr.root(new FileSystemStore(wm3));
    const read = async (p: string) =>
      (await zarr.get(await zarr.open.v3(root.resolve(p), { kind: "array" }))).data as Int16Array;
    const z2 = await read("2/analysed_sst");
    const z1 = await read("1/analysed_sst");
    for (let r = 0; r < 512; r += 7)
      for (let c = 0; c < 512; c += 5) {
        const q = [
          z2[2 * r * 1024 + 2 * c]!,
          z2[2 * r * 1024 + 2 * c + 1]!,
          z2[(2 * r + 1) * 1024 + 2 * c]!,
          z2[(2 * r + 1) * 1024 + 2 * c + 1]!,
        ];
        const valid = q.filter((v) => v !== FILL);
        const want = valid.length ? Math.round(valid.reduce((a, b) => a + b, 0) / valid.length) : FILL;
        expect(z1[r * 512 + c], `${r},${c}`).toBe(want);
      }
    // Bilinear (v3 store) and nearest (v2 store) agree to within the field's local variation.
    const near = (
      await zarr.get(
        await zarr.open.v2(zarr.root(new FileSystemStore(wm2)).resolve("2/analysed_sst"), { kind: "array" }),
      )
    ).data as Int16Array;
    let differ = 0;
    for (let i = 0; i < z2.length; i++) {
      if (near[i] === FILL || z2[i] === FILL) continue;
      if (near[i] !== z2[i]) differ++;
      expect(Math.abs(near[i]! - z2[i]!), `${i}`).toBeLessThan(2000);
    }
    expect(differ).toBeGreaterThan(1000);
    const doc = JSON.parse(readFileSync(join(wm3, "zarr.json"), "utf8")).attributes;
    expect(doc.multiscales.layout.map((l: { asset: string }) => l.asset)).toEqual(["2", "1", "0"]);
    expect(JSON.parse(readFileSync(join(wm3, "2", "zarr.json"), "utf8")).attributes["proj:code"]).toBe(
      "EPSG:3857",
    );
    for (const s of [wm2, wm3]) expect((await validateStore(new FileSystemStore(s), s)).findings).toEqual([]);
  });

  it("refuses an unknown tile matrix set and non-sampling methods", async () => {
    await expect(addLevels(wm3, { tms: "WorldCRS84Quad" as "WebMercatorQuad" })).rejects.toThrow(
      /--tms must be WebMercatorQuad/,
    );
    await expect(addLevels(wm3, { tms: "WebMercatorQuad", resampling: "mode" })).rejects.toThrow(
      /nearest or bilinear with --tms WebMercatorQuad/,
    );
  });
});
