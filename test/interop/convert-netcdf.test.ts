/**
 * NetCDF -> GeoZarr, checked with real clients: xarray opens our v2 output and decodes the values
 * xarray decodes from the source; rioxarray finds EPSG:4326 and the right transform; the v3
 * documents carry the conventions, and zarrita reads back the source's values.
 */

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import * as zarr from "zarrita";
import { convert } from "../../src/node.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { firstDifference } from "../helpers/fixtures.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const dir = tmpDir("nc");
const nc = (name: string) => join(inject("netcdfFiles"), name);

/** xarray's decoding as the notebook gets it (float64: the peer script's patch for Debian's xarray). */
const XR_F64 = `
import numpy as np, xarray.coding.variables as xcv
xcv._choose_float_dtype = lambda dtype, has_offset: np.float64
`;

describe("the MUR-like sample as Zarr v2 (GeoZarr v0.4)", () => {
  const packed = join(dir, "mur-v2.zarr");
  const unpacked = join(dir, "mur-v2-f64.zarr");
  beforeAll(async () => {
    await convert(SAMPLE, packed, { zarrFormat: 2, requireStandardName: true, workers: 2 });
    await convert(SAMPLE, unpacked, {
      zarrFormat: 2,
      requireStandardName: true,
      unpack: "float64",
      workers: 2,
    });
  });

  it("xarray decodes the same values from our store as from the source (packed and --unpack float64)", () => {
    const out = pythonJson<Record<string, boolean | string>>(
      `${XR_F64}
import json, sys, xarray as xr
src = xr.open_dataset(sys.argv[1])
res = {}
for store in sys.argv[2:]:
    ds = xr.open_zarr(store)
    for v in ["analysed_sst", "sea_ice_fraction"]:
        a, b = ds[v].values, src[v].values
        res[store.split("/")[-1] + ":" + v] = bool(np.array_equal(a, b, equal_nan=True)) and a.dtype == b.dtype
    res[store.split("/")[-1] + ":vars"] = " ".join(sorted(ds.variables))
print(json.dumps(res))`,
      [SAMPLE, packed, unpacked],
    );
    expect(out).toEqual({
      "mur-v2.zarr:analysed_sst": true,
      "mur-v2.zarr:sea_ice_fraction": true,
      "mur-v2.zarr:vars": "analysed_sst lat lon sea_ice_fraction spatial_ref time",
      "mur-v2-f64.zarr:analysed_sst": true,
      "mur-v2-f64.zarr:sea_ice_fraction": true,
      "mur-v2-f64.zarr:vars": "analysed_sst lat lon sea_ice_fraction spatial_ref time",
    });
  });

  it("rioxarray reads EPSG:4326 and the grid's transform (south-up: positive y step)", () => {
    const r = pythonJson<{ crs: number; transform: number[] }>(
      `import json, sys, xarray as xr, rioxarray
ds = xr.open_zarr(sys.argv[1], decode_coords="all")
print(json.dumps({"crs": ds.analysed_sst.rio.crs.to_epsg(), "transform": list(ds.analysed_sst.rio.transform())[:6]}))`,
      [packed],
    );
    expect(r).toEqual({ crs: 4326, transform: [0.25, 0, -179.875, 0, 0.25, -89.875] });
  });

  it("writes GeoZarr v0.4 metadata: _ARRAY_DIMENSIONS, grid_mapping, the spatial_ref variable, fill NaN when unpacked", () => {
    const zattrs = (s: string, v: string) => JSON.parse(readFileSync(join(s, v, ".zattrs"), "utf8"));
    const zarray = (s: string, v: string) => JSON.parse(readFileSync(join(s, v, ".zarray"), "utf8"));
    const sst = zattrs(packed, "analysed_sst");
    expect(sst).toMatchObject({
      _ARRAY_DIMENSIONS: ["time", "lat", "lon"],
      grid_mapping: "spatial_ref",
      standard_name: "sea_surface_foundation_temperature",
      scale_factor: 0.001,
      add_offset: 298.15,
    });
    expect(sst.coordinates).toBeUndefined();
    expect(sst._FillValue).toBeUndefined();
    expect(zarray(packed, "analysed_sst")).toMatchObject({
      dtype: "<i2",
      fill_value: -32768,
      chunks: [1, 719, 1440],
      compressor: { id: "zstd", level: 1 },
    });
    expect(zarray(unpacked, "analysed_sst")).toMatchObject({ dtype: "<f8", fill_value: "NaN" });
    const f64 = zattrs(unpacked, "analysed_sst");
    expect(f64.scale_factor).toBeUndefined();
    expect(f64.valid_min).toBeCloseTo(-32.767 + 298.15, 9);
    expect(f64.valid_max).toBeCloseTo(32.767 + 298.15, 9);
    const sr = zattrs(packed, "spatial_ref");
    expect(Object.keys(sr)).toEqual([
      "crs_wkt",
      "semi_major_axis",
      "semi_minor_axis",
      "inverse_flattening",
      "reference_ellipsoid_name",
      "longitude_of_prime_meridian",
      "prime_meridian_name",
      "geographic_crs_name",
      "horizontal_datum_name",
      "grid_mapping_name",
      "spatial_ref",
      "GeoTransform",
      "_ARRAY_DIMENSIONS",
    ]);
    expect(sr.GeoTransform).toBe("-179.875 0.25 0 -89.875 0 0.25");
    expect(sr._ARRAY_DIMENSIONS).toEqual([]);
    const root = JSON.parse(readFileSync(join(packed, ".zmetadata"), "utf8")).metadata[".zattrs"];
    expect(root.Conventions).toBe("CF-1.7");
    expect(root.history).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ geozarr convert mur_small\.nc mur-v2\.zarr --zarr-format 2 \(geozarr \d+\.\d+\.\d+\)\ncreated at nominal/,
    );
  });
});

describe("the MUR-like sample as Zarr v3", () => {
  const out = join(dir, "mur-v3.zarr");
  beforeAll(() => convert(SAMPLE, out, { unpack: "float32", workers: 2 }));

  it("carries proj: and spatial: declared by UUID, and the CF grid mapping", () => {
    const root = JSON.parse(readFileSync(join(out, "zarr.json"), "utf8"));
    const a = root.attributes;
    expect(a.zarr_conventions.map((c: { uuid: string }) => c.uuid)).toEqual([
      "f17cb550-5864-4468-aeb7-f3180cfb622f",
      "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4",
    ]);
    expect(a["proj:code"]).toBe("EPSG:4326");
    expect(a["proj:wkt2"]).toMatch(/^GEOGCRS\["WGS 84"/);
    expect(a["spatial:dimensions"]).toEqual(["lat", "lon"]);
    expect(a["spatial:transform"]).toEqual([0.25, 0, -179.875, 0, 0.25, -89.875]);
    expect(a["spatial:shape"]).toEqual([719, 1440]);
    expect(a["spatial:bbox"]).toEqual([-179.875, -89.875, 180.125, 89.875]);
    expect(a["spatial:registration"]).toBe("pixel");
    const sst = root.consolidated_metadata.metadata.analysed_sst;
    expect(sst).toMatchObject({
      data_type: "float32",
      fill_value: "NaN",
      dimension_names: ["time", "lat", "lon"],
    });
    expect(sst.attributes.grid_mapping).toBe("spatial_ref");
    expect(sst.attributes._ARRAY_DIMENSIONS).toBeUndefined();
    expect(root.consolidated_metadata.metadata.spatial_ref).toMatchObject({
      shape: [],
      data_type: "int64",
      fill_value: 0,
    });
  });

  it("zarrita reads back the source's values (decoded in float32 like numpy)", async () => {
    const arr = await zarr.open.v3(zarr.root(new FileSystemStore(out)).resolve("analysed_sst"), {
      kind: "array",
    });
    const got = (await zarr.get(arr)).data as Float32Array;
    const b64 = python(
      `import sys, base64, netCDF4, numpy as np
d = netCDF4.Dataset(sys.argv[1]); v = d["analysed_sst"]; v.set_auto_maskandscale(False); raw = v[...]
x = raw.astype("f4") * np.float32(v.scale_factor) + np.float32(v.add_offset)
x[raw == v._FillValue] = np.nan
sys.stdout.write(base64.b64encode(x.astype("<f4").tobytes()).decode())`,
      [SAMPLE],
    );
    const buf = Buffer.from(b64, "base64");
    expect(firstDifference(got, new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4))).toBe(-1);
  });
});

describe("other inputs", () => {
  it("NetCDF classic with a record dimension", async () => {
    const out = join(dir, "classic.zarr");
    await convert(nc("classic.nc"), out, { zarrFormat: 2 });
    const ok = python(
      `import sys, numpy as np, xarray as xr
a, b = xr.open_zarr(sys.argv[1]), xr.open_dataset(sys.argv[2])
print(all(np.array_equal(a[v].values, b[v].values, equal_nan=True) for v in ["tas", "pr", "flag", "time", "lat"]))`,
      [out, nc("classic.nc")],
    );
    expect(ok.trim()).toBe("True");
  });

  it("a projected grid takes its CRS from the source's grid mapping (EPSG:32633, north-up)", async () => {
    const out = join(dir, "utm.zarr");
    const s = await convert(nc("utm.nc"), out, { zarrFormat: 2 });
    expect(s.georef).toEqual([{ group: "/", crs: "EPSG:32633", from: "grid_mapping", regular: true }]);
    const sr = JSON.parse(readFileSync(join(out, "spatial_ref", ".zattrs"), "utf8"));
    expect(sr).toMatchObject({
      grid_mapping_name: "transverse_mercator",
      longitude_of_central_meridian: 15,
      GeoTransform: "500000 30 0 5000000 0 -30",
    });
    expect(JSON.parse(readFileSync(join(out, "band", ".zattrs"), "utf8")).grid_mapping).toBe("spatial_ref");
    // The source's own grid-mapping variable is replaced by spatial_ref.
    expect(s.arrays.map((a) => a.path).sort()).toEqual(["/band", "/spatial_ref", "/x", "/y"]);
    const r = python(
      `import sys, xarray as xr, rioxarray\nprint(xr.open_zarr(sys.argv[1], decode_coords="all").band.rio.crs.to_epsg())`,
      [out],
    );
    expect(r.trim()).toBe("32633");
  });

  it("an irregular grid is georeferenced without a GeoTransform", async () => {
    const out = join(dir, "irregular.zarr");
    const s = await convert(nc("irregular.nc"), out);
    expect(s.georef).toEqual([
      { group: "/", crs: "EPSG:4326", from: "latitude/longitude grid", regular: false },
    ]);
    const root = JSON.parse(readFileSync(join(out, "zarr.json"), "utf8"));
    expect(root.attributes["proj:code"]).toBe("EPSG:4326");
    expect(root.attributes["spatial:transform"]).toBeUndefined();
    expect(root.consolidated_metadata.metadata.spatial_ref.attributes.GeoTransform).toBeUndefined();
  });

  it("--crs georeferences a grid without a CRS", async () => {
    const out = join(dir, "nocrs.zarr");
    const s = await convert(nc("nocrs.nc"), out, { crs: "EPSG:3413" });
    expect(s.georef[0]).toMatchObject({ crs: "EPSG:3413", from: "--crs" });
    const sr = JSON.parse(readFileSync(join(out, "spatial_ref", "zarr.json"), "utf8")).attributes;
    expect(sr).toMatchObject({
      grid_mapping_name: "polar_stereographic",
      straight_vertical_longitude_from_pole: -45,
      GeoTransform: "-50 100 0 -50 0 100",
    });
  });

  it("NetCDF-4 groups become Zarr groups, each with its grid mapping", async () => {
    const out = join(dir, "groups.zarr");
    const s = await convert(nc("groups.nc"), out, { zarrFormat: 2 });
    expect(s.arrays.map((a) => a.path).sort()).toEqual([
      "/forecast/hs",
      "/forecast/spatial_ref",
      "/forecast/step",
      "/lat",
      "/lon",
      "/spatial_ref",
      "/sst",
      "/time",
    ]);
    const hs = JSON.parse(readFileSync(join(out, "forecast", "hs", ".zattrs"), "utf8"));
    expect(hs.grid_mapping).toBe("spatial_ref");
  });
});
