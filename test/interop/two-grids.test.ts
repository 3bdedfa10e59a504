/**
 * Several grids in one group (issue 11, item 6): a staggered ocean-model layout written by
 * netCDF4-python, tracers on (lat, lon) and velocities on (lat_u, lon_u) half a cell away. Each
 * data variable gets the grid mapping and chunking of its own grid, and rioxarray reads the right
 * transform for each.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { convert } from "../../src/node.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("grids");
const src = join(dir, "staggered.nc");

beforeAll(() => {
  python(
    `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    for name, n, first in [("lat", 4, 10.5), ("lon", 6, 20.5), ("lat_u", 4, 11.0), ("lon_u", 6, 21.0)]:
        ds.createDimension(name, n)
        v = ds.createVariable(name, "f8", (name,))
        v.units = "degrees_north" if name.startswith("lat") else "degrees_east"
        v[:] = first + np.arange(n)
    t = ds.createVariable("temp", "f4", ("lat", "lon")); t.standard_name = "sea_water_temperature"
    t[:] = np.arange(24, dtype="f4").reshape(4, 6)
    u = ds.createVariable("u", "f4", ("lat_u", "lon_u")); u.standard_name = "sea_water_x_velocity"
    u[:] = -np.arange(24, dtype="f4").reshape(4, 6)
`,
    [src],
  );
});

describe("two grids in one group", () => {
  it("each variable names its own grid mapping, with its own GeoTransform, and rioxarray reads both", async () => {
    const out = join(dir, "staggered.zarr");
    const s = await convert(src, out, { zarrFormat: 2, workers: 0 });
    expect(s.georef.map((g) => g.crs)).toEqual(["EPSG:4326", "EPSG:4326"]);
    const attrs = (v: string) => JSON.parse(readFileSync(join(out, v, ".zattrs"), "utf8"));
    expect(attrs("temp").grid_mapping).toBe("spatial_ref");
    expect(attrs("u").grid_mapping).toBe("spatial_ref_lat_u_lon_u");
    expect(attrs("spatial_ref_lat_u_lon_u").GeoTransform).toBe("20.5 1 0 10.5 0 1");
    const r = pythonJson<Record<string, { epsg: number; gt: number[] }>>(
      `
import json, sys, xarray as xr, rioxarray
ds = xr.open_zarr(sys.argv[1], decode_coords="all")
print(json.dumps({v: {"epsg": ds[v].rio.crs.to_epsg(), "gt": list(ds[v].rio.transform().to_gdal())} for v in ["temp", "u"]}))
`,
      [out],
    );
    expect(r).toEqual({
      temp: { epsg: 4326, gt: [20, 1, 0, 10, 0, 1] },
      u: { epsg: 4326, gt: [20.5, 1, 0, 10.5, 0, 1] },
    });
  });

  it("Zarr v3: each array's spatial: transform is its own grid's", async () => {
    const out = join(dir, "staggered3.zarr");
    await convert(src, out, { zarrFormat: 3, workers: 0 });
    const doc = (v: string) => JSON.parse(readFileSync(join(out, v, "zarr.json"), "utf8")).attributes;
    expect(doc("temp")["spatial:transform"]).toEqual([1, 0, 20, 0, 1, 10]);
    expect(doc("u")["spatial:transform"]).toEqual([1, 0, 20.5, 0, 1, 10.5]);
    expect(doc("u")["spatial:dimensions"]).toEqual(["lat_u", "lon_u"]);
  });
});
