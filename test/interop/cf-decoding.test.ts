/**
 * CF decoding and fill semantics that every reader agrees on (issue 11, items 2 and 3). Sources are
 * made by the real tools (GDAL's netCDF driver for a classic Byte raster with `_Unsigned`;
 * netCDF4-python for GOES-like `_Unsigned` packed data, 64-bit fills and several missing values);
 * the reference is xarray's decoding of the source, compared NaN-aware with:
 * - Debian's xarray (2023.01) reading our Zarr v2 output (fill_value is `_FillValue`), and
 * - our Zarr v3 output read by the rule current xarray documents for v3
 *   (`use_zarr_fill_value_as_mask=False`: only the `_FillValue` and `missing_value` attributes
 *   mask, `_FillValue` of floats base64-encoded), applied here to the raw values zarrita reads.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { computeStats, convert, openStore, validateStore, WorkerPool } from "../../src/node.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("cfdec");
const f = (name: string) => join(dir, name);

/** xarray's decoding of a variable in the source and in our v2 store: equal NaN-aware, same dtype kind. */
const COMPARE_V2 = `
import json, sys, numpy as np, xarray as xr
src = xr.open_dataset(sys.argv[1])
ours = xr.open_zarr(sys.argv[2])
out = {}
for v in sys.argv[3].split(","):
    a, b = src[v].values, ours[v].values
    out[v] = bool(a.shape == b.shape and np.allclose(a.astype("f8"), b.astype("f8"), equal_nan=True, rtol=1e-6, atol=0))
print(json.dumps(out))
`;

/** The source decoded by xarray, as lists (NaN as null). */
const DECODED = `
import json, sys, numpy as np, xarray as xr
src = xr.open_dataset(sys.argv[1])
print(json.dumps({v: [None if np.isnan(x) else float(x) for x in src[v].values.astype("f8").ravel()] for v in sys.argv[2].split(",")}))
`;

/** Decode a v3 array as current xarray does: attributes mask, fill_value does not. */
async function decodeV3Like(store: string, name: string): Promise<(number | null)[]> {
  const arr = await zarr.open.v3(zarr.root(new FileSystemStore(store)).resolve(name), { kind: "array" });
  const raw = Array.from((await zarr.get(arr)).data as ArrayLike<number | bigint>, Number);
  const attrs = arr.attrs as Record<string, unknown>;
  const masked = new Set<number>();
  const fv = attrs._FillValue;
  if (typeof fv === "number") masked.add(fv);
  if (typeof fv === "string") masked.add(Buffer.from(fv, "base64").readDoubleLE(0));
  const mv = attrs.missing_value;
  for (const m of Array.isArray(mv) ? mv : mv === undefined ? [] : [mv]) masked.add(Number(m));
  const scale = typeof attrs.scale_factor === "number" ? attrs.scale_factor : 1;
  const offset = typeof attrs.add_offset === "number" ? attrs.add_offset : 0;
  return raw.map((x) => (masked.has(x) || Number.isNaN(x) ? null : x * scale + offset));
}

function closeEnough(a: (number | null)[], b: (number | null)[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) =>
      x === null ? b[i] === null : b[i] !== null && Math.abs(x - b[i]!) <= 1e-6 * Math.abs(x),
    )
  );
}

describe("_Unsigned = true", () => {
  beforeAll(() => {
    python(
      `
import sys, numpy as np, netCDF4
from osgeo import gdal
gdal.UseExceptions()
# GDAL writes a Byte raster to classic NetCDF as NC_BYTE with _Unsigned = "true"
d = gdal.GetDriverByName("MEM").Create("", 16, 4, 1, gdal.GDT_Byte)
d.SetGeoTransform([0, 1, 0, 4, 0, -1])
b = d.GetRasterBand(1); b.SetNoDataValue(255)
b.WriteArray(np.arange(64).reshape(4, 16).astype("u1") * 4 + 3)
gdal.Translate(sys.argv[1], d, format="netCDF", creationOptions=["FORMAT=NC"], outputSRS="EPSG:4326")
# GOES-R ABI's layout: int16 storage of unsigned values, packed, _FillValue -1, valid_range in signed terms
with netCDF4.Dataset(sys.argv[2], "w") as ds:
    ds.createDimension("y", 3); ds.createDimension("x", 4)
    v = ds.createVariable("HT", "i2", ("y", "x"), fill_value=np.int16(-1))
    v._Unsigned = "true"; v.scale_factor = np.float32(0.2384186); v.add_offset = np.float32(0.0)
    v.units = "m"; v.valid_range = np.array([0, -6], dtype="i2")
    v.set_auto_maskandscale(False)
    raw = np.array([[0, 100, 30000, -2], [-1, 5, -30000, 64000 - 65536], [1, 2, 3, -1]], dtype="i2")
    v[:] = raw
`,
      [f("byte_unsigned.nc"), f("goes_ht.nc")],
    );
  });

  it("GDAL's classic Byte: stored as uint8 with fill 255, xarray reads what it reads from the source", async () => {
    const header = python(
      "import sys,subprocess;print(subprocess.run(['ncdump','-h',sys.argv[1]],capture_output=True,text=True).stdout)",
      [f("byte_unsigned.nc")],
    );
    expect(header).toMatch(/byte Band1\(lat, lon\)/);
    expect(header).toMatch(/Band1:_Unsigned = "true"/);
    const out = f("byte_unsigned.zarr");
    await convert(f("byte_unsigned.nc"), out, { zarrFormat: 2, workers: 0 });
    const zarray = JSON.parse(readFileSync(join(out, "Band1", ".zarray"), "utf8"));
    const zattrs = JSON.parse(readFileSync(join(out, "Band1", ".zattrs"), "utf8"));
    expect([zarray.dtype, zarray.fill_value]).toEqual(["|u1", 255]);
    expect(zattrs._Unsigned).toBeUndefined();
    expect(pythonJson(COMPARE_V2, [f("byte_unsigned.nc"), out, "Band1"])).toEqual({ Band1: true });
  });

  it("GOES-like packed int16: packed v2 and --unpack float32 read as xarray decodes the source (0 to 15258 m, not negative)", async () => {
    const packed = f("goes_packed.zarr");
    const unpacked = f("goes_f32.zarr");
    await convert(f("goes_ht.nc"), packed, { zarrFormat: 2, workers: 0 });
    await convert(f("goes_ht.nc"), unpacked, { zarrFormat: 2, workers: 0, unpack: "float32" });
    expect(pythonJson(COMPARE_V2, [f("goes_ht.nc"), packed, "HT"])).toEqual({ HT: true });
    expect(pythonJson(COMPARE_V2, [f("goes_ht.nc"), unpacked, "HT"])).toEqual({ HT: true });
    const p = JSON.parse(readFileSync(join(packed, "HT", ".zattrs"), "utf8"));
    const u = JSON.parse(readFileSync(join(unpacked, "HT", ".zattrs"), "utf8"));
    const pz = JSON.parse(readFileSync(join(packed, "HT", ".zarray"), "utf8"));
    expect([pz.dtype, pz.fill_value, p.valid_range, p._Unsigned]).toEqual([
      "<u2",
      65535,
      [0, 65530],
      undefined,
    ]);
    expect(u.valid_range[0]).toBe(0);
    expect(u.valid_range[1]).toBeCloseTo(65530 * 0.2384186, 2);
    expect(u._Unsigned).toBeUndefined();
    const values = pythonJson<{ HT: (number | null)[] }>(DECODED, [f("goes_ht.nc"), "HT"]).HT;
    expect(Math.min(...values.filter((x): x is number => x !== null))).toBe(0);
  });
});

describe("64-bit fills and several missing values", () => {
  beforeAll(() => {
    python(
      `
import sys, numpy as np, netCDF4
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("n", 6)
    a = ds.createVariable("count", "i8", ("n",), fill_value=np.int64(-9223372036854775806))
    a.scale_factor = 0.5
    a[:] = np.ma.masked_array([1, 2, 3, 4, 5, 6], mask=[0, 1, 0, 0, 0, 0])
    b = ds.createVariable("ids", "u8", ("n",), fill_value=np.uint64(18446744073709551614))
    b.set_auto_maskandscale(False)
    b[:] = np.array([1, 18446744073709551614, 2**60 + 1, 0, 7, 9], dtype="u8")
    c = ds.createVariable("obs", "f4", ("n",))
    c.missing_value = np.array([-999, -998], dtype="f4")
    c[:] = np.array([1.5, -999, 2.5, -998, 3.5, 0], dtype="f4")
`,
      [f("fills.nc")],
    );
  });

  it("--unpack float64 of int64 with _FillValue: no crash, xarray's values", async () => {
    const out = f("fills_f64.zarr");
    await convert(f("fills.nc"), out, { zarrFormat: 2, workers: 0, unpack: "float64" });
    expect(pythonJson(COMPARE_V2, [f("fills.nc"), out, "count,obs"])).toEqual({ count: true, obs: true });
  });

  it("a uint64 _FillValue beyond 2^53 is kept exactly (v2 fill_value, v3 fill_value and attribute)", async () => {
    const v2 = f("fills_v2.zarr");
    const v3 = f("fills_v3.zarr");
    await convert(f("fills.nc"), v2, { zarrFormat: 2, workers: 0 });
    await convert(f("fills.nc"), v3, { zarrFormat: 3, workers: 0 });
    expect(readFileSync(join(v2, "ids", ".zarray"), "utf8")).toMatch(/"fill_value": 18446744073709551614\b/);
    const doc = readFileSync(join(v3, "ids", "zarr.json"), "utf8");
    expect(doc).toMatch(/"fill_value": 18446744073709551614\b/);
    expect(doc).toMatch(/"_FillValue": 18446744073709551614\b/);
    expect(pythonJson(COMPARE_V2, [f("fills.nc"), v2, "ids,obs"])).toEqual({ ids: true, obs: true });
  });
});

describe("fill semantics: v3 read the way current xarray reads it", () => {
  beforeAll(() => {
    python(
      `
import sys, numpy as np, netCDF4
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("time", 10); ds.createDimension("lat", 3); ds.createDimension("lon", 4)
    t = ds.createVariable("time", "i4", ("time",)); t.units = "days since 2000-01-01"; t[:] = np.arange(10)
    la = ds.createVariable("lat", "f4", ("lat",)); la.units = "degrees_north"; la[:] = [0, 1, 2]
    lo = ds.createVariable("lon", "f4", ("lon",)); lo.units = "degrees_east"; lo[:] = [0, 1, 2, 3]
    s = ds.createVariable("sst", "i2", ("time", "lat", "lon"), fill_value=np.int16(-32768))
    s.scale_factor = 0.01; s.add_offset = 273.15; s.standard_name = "sea_surface_temperature"
    s.set_auto_maskandscale(False)
    raw = (np.arange(120).reshape(10, 3, 4) * 10).astype("i2"); raw[0, 0, :2] = -32768
    s[:] = raw
    g = ds.createVariable("elev", "f4", ("lat", "lon"), fill_value=np.float32(-9999))
    g[:] = np.ma.masked_array(np.arange(12, dtype="f4").reshape(3, 4), mask=[[1, 0, 0, 0]] * 3)
`,
      [f("fills3.nc")],
    );
  });

  it("packed and float data with a _FillValue: the v3 attributes mask what xarray masks in the source", async () => {
    const out = f("fills3_v3.zarr");
    await convert(f("fills3.nc"), out, { zarrFormat: 3, workers: 0 });
    const want = pythonJson<Record<string, (number | null)[]>>(DECODED, [f("fills3.nc"), "sst,elev"]);
    for (const v of ["sst", "elev"]) expect(closeEnough(await decodeV3Like(out, v), want[v]!), v).toBe(true);
    const elev = JSON.parse(readFileSync(join(out, "elev", "zarr.json"), "utf8"));
    expect([elev.fill_value, elev.attributes._FillValue]).toEqual([
      -9999,
      "AAAAAICHw8A=" /* base64 of float64 -9999 */,
    ]);
  });

  it("an integer without _FillValue: v3 fill_value is netCDF-C's default, not 0, and stats count every 0 as valid", async () => {
    const out = f("fills3_time.zarr");
    await convert(f("fills3.nc"), out, { zarrFormat: 3, workers: 0 });
    const doc = JSON.parse(readFileSync(join(out, "time", "zarr.json"), "utf8"));
    expect(doc.fill_value).toBe(-2147483647);
    expect(doc.attributes._FillValue).toBeUndefined();
    const pool = new WorkerPool(0);
    const s = await computeStats(await openStore(out), "/time", pool);
    await pool.close();
    expect([s.valid, s.missing, s.min]).toEqual([10, 0, 0]);
  });

  it("coordinates get the standard names they were recognised by: only the unnamed data variable fails G4-04", async () => {
    const out = f("fills3_g404.zarr");
    await convert(f("fills3.nc"), out, { zarrFormat: 3, workers: 0 });
    const report = await validateStore(new FileSystemStore(out), out, { rules: ["G4-04"] });
    expect(report.findings.map((x) => x.path)).toEqual(["/elev"]);
    const sn = (v: string) =>
      JSON.parse(readFileSync(join(out, v, "zarr.json"), "utf8")).attributes.standard_name;
    expect([sn("time"), sn("lat"), sn("lon")]).toEqual(["time", "latitude", "longitude"]);
  });

  it("v2 (xarray 2023.01 on Debian) reads the same values from our v2 output as from the source", async () => {
    const out = f("fills3_v2.zarr");
    await convert(f("fills3.nc"), out, { zarrFormat: 2, workers: 0 });
    expect(pythonJson(COMPARE_V2, [f("fills3.nc"), out, "sst,elev,time"])).toEqual({
      sst: true,
      elev: true,
      time: true,
    });
  });
});
