/**
 * GeoTIFF scenes into one time series (issue 17 item 4): small scenes made with Debian's GDAL,
 * named out of time order, with the date in the name (one day missing) or only in
 * TIFFTAG_DATETIME; xarray reads our v2 store as `xr.concat` of rioxarray's scenes in time order,
 * zarrita reads the v3 store as GDAL reads the scenes; scenes that differ, have no date or the
 * same date are refused in one line before anything is written; `--append` and `--resume` give
 * the store a run in one go gives, byte for byte.
 */

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import * as zarr from "zarrita";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { runCliProcess, treeFingerprint } from "../helpers/processes.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";
import { zarritaRead } from "../helpers/zarrita.js";

const root = tmpDir("scenes");
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
const NAMED = ["a_20230603.tif", "b_20230601.tif", "c_20230605.tif", "d_20230602.tif"];
const PATTERN = "_(\\d{8})\\.tif$";
const TAGGED: [string, string][] = [
  ["c.tif", "2023:06:03 10:30:00"],
  ["a.tif", "2023:06:01 10:30:00"],
  ["b.tif", "2023:06:02 10:30:15"],
];

/** Scenes of 20 x 30 float32 cells, 2 bands, UTM 33N, nodata -9999 in a corner; `kw` changes one. */
const MAKER = `
import sys, json, os, numpy as np
from osgeo import gdal, osr
gdal.UseExceptions()
def make(path, seed, dt=gdal.GDT_Float32, bands=2, shape=(20, 30), gt=(500000, 100, 0, 4600000, 0, -100),
         epsg=32633, nodata=-9999, datetime=None, scale=None, opts=("COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16")):
    ds = gdal.GetDriverByName("GTiff").Create(path, shape[1], shape[0], bands, dt, list(opts))
    ds.SetGeoTransform(gt)
    s = osr.SpatialReference(); s.ImportFromEPSG(epsg); ds.SetProjection(s.ExportToWkt())
    rng = np.random.default_rng(seed)
    for b in range(bands):
        a = (rng.random(shape) * 100 + seed * 1000 + b).astype(np.float32)
        a[0, :3] = nodata
        band = ds.GetRasterBand(b + 1)
        band.SetNoDataValue(nodata)
        if scale: band.SetScale(scale)
        band.WriteArray(a)
    if datetime: ds.SetMetadataItem("TIFFTAG_DATETIME", datetime)
    ds = None
for path, seed, kw in json.loads(sys.argv[1]):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if "dt" in kw: kw["dt"] = getattr(gdal, kw["dt"])
    make(path, seed, **kw)
`;

type Scene = [string, number, Record<string, unknown>];
const named = (dir: string) => NAMED.map((n, i): Scene => [join(root, dir, n), i + 1, {}]);
/** A set of three scenes named by date whose third differs from the first two as `kw` says. */
const odd = (dir: string, kw: Record<string, unknown>): Scene[] => [
  [join(root, dir, "s_20230601.tif"), 1, {}],
  [join(root, dir, "s_20230602.tif"), 2, {}],
  [join(root, dir, "s_20230603.tif"), 3, kw],
];

beforeAll(() => {
  const scenes: Scene[] = [
    ...named("named"),
    ...TAGGED.map(
      ([n, datetime], i): Scene => [join(root, "tagged", n), i, { datetime, opts: ["COMPRESS=LZW"] }],
    ),
    ...odd("grid", { shape: [21, 30] }),
    ...odd("transform", { gt: [500100, 100, 0, 4600000, 0, -100] }),
    ...odd("crs", { epsg: 32634 }),
    ...odd("bands", { bands: 3 }),
    ...odd("dtype", { dt: "GDT_Int16", nodata: -999 }),
    ...odd("nodata", { nodata: 0 }),
    ...odd("scale", { scale: 0.5 }),
    [join(root, "nodate", "a.tif"), 1, { datetime: "2023:06:01 00:00:00" }],
    [join(root, "nodate", "b.tif"), 2, {}],
    [join(root, "dup", "a.tif"), 1, { datetime: "2023:06:01 00:00:00" }],
    [join(root, "dup", "b.tif"), 2, { datetime: "2023:06:01 00:00:00" }],
    [join(root, "nomatch", "s_20230601.tif"), 1, {}],
    [join(root, "nomatch", "s_june2.tif"), 2, {}],
    [join(root, "late", "s_20230610.tif"), 10, { shape: [21, 30] }],
    ...TAGGED.map(([n, datetime], i): Scene => [join(root, "big", n), i, { datetime, shape: [300, 280] }]),
  ];
  python(MAKER, [JSON.stringify(scenes)]);
}, 60_000);

/** xarray's reading of the store against rioxarray's scenes concatenated in time order. */
function againstRioxarray(store: string, files: string[], times: string[], variable = "band_data") {
  return pythonJson<{
    dims: string[];
    times: string[];
    values: boolean;
    masked: number;
    crs: boolean;
    transform: boolean;
    attrs: Record<string, unknown>;
  }>(
    `
import sys, json, warnings; warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, rioxarray, xarray as xr
store, files, times = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
order = sorted(range(len(files)), key=lambda i: times[i])
ref = xr.concat([rioxarray.open_rasterio(files[i], mask_and_scale=True) for i in order],
                dim=pd.Index(pd.to_datetime([times[i] for i in order]), name="time"))
ds = xr.open_zarr(store, decode_coords="all")
raw = xr.open_zarr(store, decode_times=False)
v = ds[sys.argv[4]]
print(json.dumps({"dims": list(v.dims), "times": [str(t) for t in ds.time.values],
  "values": bool(np.array_equal(ref.values, v.values, equal_nan=True)), "masked": int(np.isnan(v.values).sum()),
  "crs": bool(ref.rio.crs == v.rio.crs), "transform": list(v.rio.transform())[:6] == list(ref.rio.transform())[:6],
  "attrs": {**raw.time.attrs, "dtype": str(raw.time.dtype)}}))`,
    [store, JSON.stringify(files), JSON.stringify(times), variable],
  );
}

describe("scenes with the date in their names (--time-from)", () => {
  const v2 = join(root, "named_v2.zarr");
  let stderr = "";
  beforeAll(async () => {
    const r = await runCli(
      "convert",
      join(root, "named", "*.tif"),
      v2,
      "--concat",
      "time",
      "--time-from",
      PATTERN,
      "--zarr-format",
      "2",
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    stderr = r.stderr;
  }, 60_000);

  it("xarray reads our v2 store as xr.concat of rioxarray's scenes in time order (NaN-aware)", () => {
    const files = NAMED.map((n) => join(root, "named", n));
    const times = NAMED.map((n) => n.replace(/.*_(\d{4})(\d\d)(\d\d)\.tif$/, "$1-$2-$3"));
    const r = againstRioxarray(v2, files, times);
    expect(r.dims).toEqual(["time", "band", "y", "x"]);
    expect(r.times).toEqual(["01", "02", "03", "05"].map((d) => `2023-06-${d}T00:00:00.000000000`));
    expect(r.values).toBe(true);
    expect(r.masked).toBe(4 * 2 * 3); // the nodata corner of every band of every scene
    expect(r.crs).toBe(true);
    expect(r.transform).toBe(true);
    expect(r.attrs).toEqual({
      standard_name: "time",
      long_name: "time",
      axis: "T",
      units: "seconds since 1970-01-01T00:00:00Z",
      calendar: "proleptic_gregorian",
      dtype: "int64",
    });
  });

  it("reports the missing day as a NetCDF series does", () => {
    expect(stderr).toMatch(/note: 1 missing time steps: 2023-06-04$/m);
  });
});

describe("scenes with TIFFTAG_DATETIME only, Zarr v3", () => {
  const v3 = join(root, "tagged_v3.zarr");
  const perBand = join(root, "tagged_bands_v3.zarr");
  /** GDAL's values of the scenes, by band, in time order. */
  let gdal: number[][];
  const seconds = ["2023-06-01T10:30:00Z", "2023-06-02T10:30:15Z", "2023-06-03T10:30:00Z"].map(
    (t) => Date.parse(t) / 1000,
  );
  beforeAll(async () => {
    const tagged = join(root, "tagged", "*.tif");
    expect((await runCli("convert", tagged, v3, "--concat", "time")).code).toBe(0);
    const r = await runCli("convert", tagged, perBand, "--concat", "time", "--bands-as-variables");
    expect(r.code).toBe(0);
    gdal = pythonJson<number[][]>(
      `
import sys, json
from osgeo import gdal
scenes = [gdal.Open(f) for f in sys.argv[1:]]  # kept open: a band outlives no dataset
print(json.dumps([[float(x) for ds in scenes for x in ds.GetRasterBand(b).ReadAsArray().ravel()] for b in (1, 2)]))`,
      ["a.tif", "b.tif", "c.tif"].map((n) => join(root, "tagged", n)),
    );
  }, 60_000);

  it("zarrita reads band_data (time, band, y, x) and the times as GDAL's scenes in time order", async () => {
    const z = zarritaRead(v3, ["band_data"]);
    expect(z.band_data!.shape).toEqual([3, 2, 20, 30]);
    expect(z.band_data!.dtype).toBe("float32");
    const values = z.band_data!.values as number[];
    // (time, band) slabs of 600 cells: GDAL's band b of scene t.
    for (let t = 0; t < 3; t++)
      for (let b = 0; b < 2; b++)
        expect(values.slice((t * 2 + b) * 600, (t * 2 + b + 1) * 600)).toEqual(
          gdal[b]!.slice(t * 600, (t + 1) * 600),
        );
    // int64 times: zarrita in this process (its values are bigints).
    const time = await zarr.open.v3(zarr.root(new FileSystemStore(v3) as never).resolve("time"), {
      kind: "array",
    });
    expect(time.dtype).toBe("int64");
    expect(Array.from((await zarr.get(time)).data as BigInt64Array, Number)).toEqual(seconds);
    const meta = JSON.parse(readFileSync(join(v3, "band_data", "zarr.json"), "utf8"));
    expect(meta.dimension_names).toEqual(["time", "band", "y", "x"]);
  });

  it("--bands-as-variables: one (time, y, x) variable per band", () => {
    const z = zarritaRead(perBand, ["band_1", "band_2"]);
    for (const [b, name] of ["band_1", "band_2"].entries()) {
      expect(z[name]!.shape).toEqual([3, 20, 30]);
      expect(z[name]!.values).toEqual(gdal[b]);
    }
  });
});

describe("scenes with --multiscales", () => {
  it("every level is (time, band, y, x) with the times, level 1 the NaN-aware 2 x 2 mean of level 0", async () => {
    const out = join(root, "big_v2.zarr");
    const r = await runCli(
      "convert",
      join(root, "big", "*.tif"),
      out,
      "--concat",
      "time",
      "--zarr-format",
      "2",
      "--multiscales",
      "--tile-size",
      "256",
    );
    expect(r.code).toBe(0);
    const v = pythonJson<{ shapes: number[][]; times: string[][]; mean: boolean }>(
      `
import sys, json, warnings; warnings.filterwarnings("ignore")
import numpy as np, xarray as xr
l0, l1 = (xr.open_zarr(f"{sys.argv[1]}/{k}") for k in (0, 1))
a, b = l0["band_data"].values, l1["band_data"].values
m = np.nanmean(a.reshape(3, 2, 150, 2, 140, 2), axis=(3, 5))
print(json.dumps({"shapes": [list(a.shape), list(b.shape)],
  "times": [[str(t) for t in l.time.values] for l in (l0, l1)],
  "mean": bool(np.allclose(m, b, equal_nan=True, rtol=1e-6))}))`,
      [out],
    );
    expect(v.shapes).toEqual([
      [3, 2, 300, 280],
      [3, 2, 150, 140],
    ]);
    const times = ["2023-06-01T10:30:00", "2023-06-02T10:30:15", "2023-06-03T10:30:00"].map(
      (t) => `${t}.000000000`,
    );
    expect(v.times).toEqual([times, times]);
    expect(v.mean).toBe(true);
  }, 60_000);
});

describe("refused in one line, before anything is written", () => {
  const byName = ["--time-from", PATTERN];
  it.each([
    [
      "grid",
      byName,
      3,
      /grid\/s_20230603\.tif: has a grid of 21 x 30 cells, the first has 20 x 30 \(s_20230601\.tif\)$/,
    ],
    [
      "transform",
      byName,
      3,
      /transform\/s_20230603\.tif: has the transform \[100, 0, 500100, 0, -100, 4600000\], the first has \[100, 0, 500000/,
    ],
    ["crs", byName, 3, /crs\/s_20230603\.tif: has the CRS EPSG:32634, the first has EPSG:32633/],
    ["bands", byName, 3, /bands\/s_20230603\.tif: has 3 bands, the first has 2/],
    ["dtype", byName, 3, /dtype\/s_20230603\.tif: has type int16, the first has float32/],
    ["nodata", byName, 3, /nodata\/s_20230603\.tif: has nodata 0, the first has -9999/],
    [
      "scale",
      byName,
      3,
      /scale\/s_20230603\.tif: has band scale_factor, add_offset, units \[\{"scale_factor":0\.5,"add_offset":0\},\{"scale_factor":0\.5,"add_offset":0\}\], the first has \[\{\},\{\}\]/,
    ],
    ["nodate", [], 3, /nodate\/b\.tif: no TIFFTAG_DATETIME: give a pattern for the date in its name/],
    [
      "dup",
      [],
      3,
      /dup\/b\.tif: the same time as .*dup\/a\.tif \(2023-06-01\); a series needs each time once/,
    ],
    ["nomatch", byName, 2, /nomatch\/s_june2\.tif: its name does not match the time pattern/],
  ])("%s: one line, nothing written", async (dir, extra, code, message) => {
    const out = join(root, `refused-${dir}.zarr`);
    const r = await runCli("convert", join(root, dir, "*.tif"), out, "--concat", "time", ...extra);
    expect(r.code).toBe(code);
    expectOneLine(r.stderr, message, code === 2 ? "convert" : undefined);
    expect(existsSync(out)).toBe(false);
  });

  it("a NetCDF granule among scenes, and --time-from for NetCDF granules", async () => {
    const nc = join(inject("seriesGranules"), "days", "c_0601.nc");
    const tif = join(root, "named", "b_20230601.tif");
    const out = join(root, "refused-mixed.zarr");
    const mixed = await runCli("convert", nc, tif, out, "--concat", "time", "--time-from", PATTERN);
    expect(mixed.code).toBe(2);
    expectOneLine(
      mixed.stderr,
      /c_0601\.nc: timeFrom \(the date in a file name\) applies to GeoTIFF scenes/,
      "convert",
    );
    const r = await runCli("convert", nc, join(root, "tagged", "a.tif"), out, "--concat", "time");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /tagged\/a\.tif: is a GeoTIFF scene, c_0601\.nc a NetCDF granule$/);
    expect(existsSync(out)).toBe(false);
  });

  it("--time-from without --concat", async () => {
    const one = await runCli(
      "convert",
      join(root, "tagged", "a.tif"),
      join(root, "x.zarr"),
      "--time-from",
      "x",
    );
    expect(one.code).toBe(2);
    expectOneLine(one.stderr, /--time-from applies to time series of GeoTIFF scenes/, "convert");
  });
});

describe("appended and resumed: the store of a run in one go", () => {
  const all = join(root, "all", "s.zarr");
  const args = (out: string, files: string[]) => [
    "convert",
    ...files,
    out,
    "--concat",
    "time",
    "--time-from",
    PATTERN,
  ];
  const files = () => NAMED.map((n) => join(root, "named", n));
  beforeAll(async () => {
    mkdirSync(join(root, "all"), { recursive: true });
    const r = await runCliProcess(args(all, files()), EPOCH);
    expect(r.code).toBe(0);
  }, 60_000);

  /** The store's files, the root documents without their history (it names the command). */
  const content = (store: string) => {
    const out = new Map(treeFingerprint(store));
    for (const key of ["zarr.json"]) {
      const doc = JSON.parse(readFileSync(join(store, key), "utf8"));
      delete doc.attributes.history;
      for (const m of Object.values(doc.consolidated_metadata?.metadata ?? {}) as { attributes?: object }[])
        delete (m.attributes as { history?: string } | undefined)?.history;
      out.set(key, JSON.stringify(doc));
    }
    return out;
  };

  it("--append of one more scene equals converting all at once", async () => {
    const out = join(root, "appended", "s.zarr");
    mkdirSync(join(root, "appended"), { recursive: true });
    // The first three in time (b, d, a), then the last (c, 06-05).
    const [a, b, c, d] = files() as [string, string, string, string];
    expect((await runCliProcess(args(out, [a, b, d]), EPOCH)).code).toBe(0);
    const r = await runCliProcess(["convert", c, out, "--append", "time", "--time-from", PATTERN], EPOCH);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(content(out)).toEqual(content(all));
  }, 60_000);

  it("--append of a scene on another grid is refused, the store unchanged", async () => {
    const out = join(root, "appended-bad", "s.zarr");
    mkdirSync(join(root, "appended-bad"), { recursive: true });
    expect((await runCliProcess(args(out, files()), EPOCH)).code).toBe(0);
    const before = treeFingerprint(out);
    const late = join(root, "late", "s_20230610.tif");
    const r = await runCli("convert", late, out, "--append", "time", "--time-from", PATTERN);
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /late\/s_20230610\.tif: has a grid of 21 x 30 cells, the first has 20 x 30 \(b_20230601\.tif\)/,
    );
    expect(treeFingerprint(out)).toEqual(before);
  }, 60_000);

  it("kill -9 in the middle, then --resume: byte for byte the uninterrupted store", async () => {
    const dir = join(root, "killed");
    mkdirSync(dir, { recursive: true });
    const out = join(dir, "s.zarr");
    // One chunk per band per task: the 5th encode is in the 3rd task, 2 tasks recorded.
    const killed = await runCliProcess([...args(out, files()), "--workers", "0"], {
      ...EPOCH,
      GEOZARR_FAULT: "task:encode-chunk:kill:5",
    });
    expect(killed.code).toBe(137);
    expect(existsSync(out)).toBe(false);
    const resumed = await runCliProcess([...args(out, files()), "--resume", "--json"], EPOCH);
    expect(resumed.code).toBe(0);
    const s = JSON.parse(resumed.stdout);
    expect(s.plan).toMatchObject({ tasks: 4, skipped: 2, done: 2 });
    expect(treeFingerprint(out)).toEqual(treeFingerprint(all));
  }, 60_000);
});
