/**
 * Grid mappings as their producers write them (issue 11, item 1 and the coordinate part of item 2):
 * GDAL's netCDF driver keeps the CRS in a `char` variable; CF-only parameters without WKT; GDAL's
 * GeoTransform without coordinate variables; packed (scale/offset) and geostationary x/y. Each
 * source is made by the real tool and our output is read back by GDAL and rioxarray, which must
 * find the source's CRS (EPSG, or the same projection on the same ellipsoid) and transform.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { convert } from "../../src/node.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("gm");
const f = (name: string) => join(dir, name);

/** gdalinfo's geotransform and EPSG code of a raster (a NetCDF variable or a Zarr array). */
const GDAL_INFO = `
import json, sys
from osgeo import gdal, osr
gdal.UseExceptions()
d = gdal.Open(sys.argv[1])
srs = d.GetSpatialRef()
srs.AutoIdentifyEPSG() if srs is not None else None
print(json.dumps({"gt": list(d.GetGeoTransform()), "epsg": srs.GetAuthorityCode(None) if srs else None,
  "semi_major": srs.GetSemiMajor() if srs else None, "inv_flat": srs.GetInvFlattening() if srs else None}))
`;

/**
 * rioxarray's CRS (EPSG) and transform of an array of our v2 output, in GDAL's order. (Debian's
 * GDAL 3.6 Zarr driver reads neither CF grid mappings nor GeoTransform: GDAL reads the sources.)
 */
const RIO = `
import json, sys, xarray as xr, rioxarray
from pyproj import CRS
ds = xr.open_zarr(sys.argv[1], decode_coords="all", mask_and_scale=False)
v = ds[sys.argv[2]]
crs = CRS.from_wkt(v.rio.crs.to_wkt()) if v.rio.crs else None
print(json.dumps({"epsg": crs.to_epsg() if crs else None, "gt": list(v.rio.transform().to_gdal()),
  "semi_major": crs.ellipsoid.semi_major_metre if crs else None}))
`;

describe("GDAL's netCDF driver: the CRS in a char grid-mapping variable", () => {
  beforeAll(() => {
    python(
      `
import sys, numpy as np
from osgeo import gdal, osr
gdal.UseExceptions()
d = gdal.GetDriverByName("MEM").Create("", 7, 5, 1, gdal.GDT_Int16)
d.SetGeoTransform([440720, 60, 0, 3751320, 0, -60])
s = osr.SpatialReference(); s.ImportFromEPSG(26711)  # NAD27 / UTM 11N: not WGS 84
d.SetProjection(s.ExportToWkt())
d.GetRasterBand(1).WriteArray(np.arange(35).reshape(5, 7).astype("i2"))
gdal.Translate(sys.argv[1], d, format="netCDF", creationOptions=["FORMAT=NC4C"])
gdal.Translate(sys.argv[2], d, format="netCDF", creationOptions=["FORMAT=NC"])
`,
      [f("gdal-nc4c.nc"), f("gdal-nc3.nc")],
    );
  });

  it.each(["gdal-nc4c.nc", "gdal-nc3.nc"])(
    "%s: the char variable's CRS and GeoTransform survive, as GDAL and rioxarray read them",
    async (name) => {
      const header = python(
        "import sys, subprocess; print(subprocess.run(['ncdump', '-h', sys.argv[1]], capture_output=True, text=True).stdout)",
        [f(name)],
      );
      expect(header).toMatch(/char transverse_mercator ;/);
      const out = f(`${name}.zarr`);
      const summary = await convert(f(name), out, { zarrFormat: 2, workers: 0 });
      expect(summary.georef).toEqual([expect.objectContaining({ crs: "EPSG:26711", from: "grid_mapping" })]);
      const src = pythonJson<{ gt: number[]; epsg: string }>(GDAL_INFO, [f(name)]);
      expect(src).toMatchObject({ epsg: "26711", gt: [440720, 60, 0, 3751320, 0, -60] });
      const rio = pythonJson<{ epsg: number; gt: number[]; semi_major: number }>(RIO, [out, "Band1"]);
      // GDAL stores the rows south-up (y ascending) and flips them when reading; we keep the
      // stored order, so the same cells have the transform of the flipped grid.
      expect(rio).toEqual({
        epsg: 26711,
        gt: [440720, 60, 0, 3751320 - 5 * 60, 0, 60],
        semi_major: 6378206.4,
      });
      const same = python(
        `import sys, numpy as np, xarray as xr
from osgeo import gdal
g = gdal.Open(sys.argv[1]).ReadAsArray()
z = xr.open_zarr(sys.argv[2], mask_and_scale=False).Band1.values
print(bool(np.array_equal(g[::-1], z)))`,
        [f(name), out],
      );
      expect(same.trim()).toBe("True");
    },
  );
});

describe("CF parameters only (no crs_wkt, no spatial_ref): the CRS is built from them, on the source's ellipsoid", () => {
  const ATTRS = {
    grid_mapping_name: "lambert_conformal_conic",
    standard_parallel: [33.0, 45.0],
    longitude_of_central_meridian: -97.0,
    latitude_of_projection_origin: 40.0,
    false_easting: 0.0,
    false_northing: 0.0,
    semi_major_axis: 6371229.0,
    inverse_flattening: 0.0,
  };
  beforeAll(() => {
    python(
      `
import sys, json, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("y", 4); ds.createDimension("x", 6)
    y = ds.createVariable("y", "f8", ("y",)); y.standard_name = "projection_y_coordinate"; y.units = "m"
    y[:] = 500000 - 3000.0 * np.arange(4)
    x = ds.createVariable("x", "f8", ("x",)); x.standard_name = "projection_x_coordinate"; x.units = "m"
    x[:] = -200000 + 3000.0 * np.arange(6)
    gm = ds.createVariable("lambert", "i4", ())
    gm.setncatts(json.loads(sys.argv[2]))
    t = ds.createVariable("t2m", "f4", ("y", "x")); t.grid_mapping = "lambert"; t.standard_name = "air_temperature"
    t[:] = np.arange(24, dtype="f4").reshape(4, 6)
`,
      [f("lcc.nc"), JSON.stringify(ATTRS)],
    );
  });

  it("rioxarray reads a CRS that projects like pyproj's CRS.from_cf of the source, and the transform", async () => {
    const out = f("lcc.zarr");
    await convert(f("lcc.nc"), out, { zarrFormat: 2, workers: 0 });
    const r = pythonJson<{ same: boolean; transform: number[]; semi_major: number }>(
      `
import json, sys, xarray as xr, rioxarray
from pyproj import CRS, Transformer
ds = xr.open_zarr(sys.argv[1], decode_coords="all")
crs = CRS.from_wkt(ds.t2m.rio.crs.to_wkt())
ref = CRS.from_cf(json.loads(sys.argv[2]))
pts = [(-97 + dx, 40 + dy) for dx in (-3, 0, 3) for dy in (-3, 0, 3)]
a = [Transformer.from_crs(ref.geodetic_crs, ref, always_xy=True).transform(*p) for p in pts]
b = [Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True).transform(*p) for p in pts]
print(json.dumps({"same": all(abs(p[0] - q[0]) < 1e-3 and abs(p[1] - q[1]) < 1e-3 for p, q in zip(a, b)),
  "transform": list(ds.t2m.rio.transform())[:6], "semi_major": crs.ellipsoid.semi_major_metre}))
`,
      [out, JSON.stringify(ATTRS)],
    );
    expect(r).toEqual({ same: true, transform: [3000, 0, -201500, 0, -3000, 501500], semi_major: 6371229 });
  });
});

describe("GDAL's GeoTransform without coordinate variables", () => {
  beforeAll(() => {
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("y", 3); ds.createDimension("x", 4)
    gm = ds.createVariable("crs", "S1", ())
    gm.grid_mapping_name = "latitude_longitude"
    gm.spatial_ref = 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
    gm.GeoTransform = "10 0.5 0 50 0 -0.5 "
    v = ds.createVariable("z", "f4", ("y", "x")); v.grid_mapping = "crs"
    v[:] = np.arange(12, dtype="f4").reshape(3, 4)
`,
      [f("gt.nc")],
    );
  });

  it("places the grid by the GeoTransform, as GDAL reads the source", async () => {
    const out = f("gt.zarr");
    const s = await convert(f("gt.nc"), out, { zarrFormat: 2, workers: 0 });
    expect(s.georef).toEqual([expect.objectContaining({ crs: "EPSG:4326", regular: true })]);
    const src = pythonJson<{ gt: number[] }>(GDAL_INFO, [`NETCDF:"${f("gt.nc")}":z`]);
    const ours = pythonJson<{ gt: number[]; epsg: number }>(RIO, [out, "z"]);
    expect(src.gt).toEqual([10, 0.5, 0, 50, 0, -0.5]);
    expect(ours).toMatchObject({ gt: src.gt, epsg: 4326 });
  });
});

describe("packed and geostationary coordinates (GOES-R ABI's layout)", () => {
  beforeAll(() => {
    // x/y: int16 scan angles in radians with scale_factor/add_offset, as GOES-R ABI writes them.
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("y", 5); ds.createDimension("x", 6)
    for name, n, off, step in [("x", 6, -0.101332, 0.000056), ("y", 5, 0.128212, -0.000056)]:
        v = ds.createVariable(name, "i2", (name,))
        v.scale_factor = np.float32(step); v.add_offset = np.float32(off); v.units = "rad"
        v.standard_name = "projection_" + name + "_coordinate"; v.axis = name.upper()
        v.set_auto_maskandscale(False)
        v[:] = np.arange(n, dtype="i2") * 100
    gm = ds.createVariable("goes_imager_projection", "i4", ())
    gm.grid_mapping_name = "geostationary"; gm.perspective_point_height = 35786023.0
    gm.semi_major_axis = 6378137.0; gm.semi_minor_axis = 6356752.31414; gm.inverse_flattening = 298.2572221
    gm.latitude_of_projection_origin = 0.0; gm.longitude_of_projection_origin = -75.0; gm.sweep_angle_axis = "x"
    h = ds.createVariable("HT", "u2", ("y", "x")); h.grid_mapping = "goes_imager_projection"
    h[:] = np.arange(30, dtype="u2").reshape(5, 6)
`,
      [f("goes.nc")],
    );
  });

  it("the GeoTransform is GDAL's (decoded angles times the satellite height, in metres)", async () => {
    const out = f("goes.zarr");
    await convert(f("goes.nc"), out, { zarrFormat: 2, workers: 0 });
    const src = pythonJson<{ gt: number[] }>(GDAL_INFO, [`NETCDF:"${f("goes.nc")}":HT`]);
    // rioxarray cannot place scan-angle coordinates (it takes them as metres): the GeoTransform
    // attribute of our grid mapping is what GDAL reads.
    const gm = JSON.parse(readFileSync(join(out, "spatial_ref", ".zattrs"), "utf8"));
    const ours = (gm.GeoTransform as string).trim().split(/\s+/).map(Number);
    expect(src.gt[1]).toBeCloseTo(0.0056 * 35786023, 0);
    for (let i = 0; i < 6; i++) expect(ours[i]).toBeCloseTo(src.gt[i]!, 3);
    expect(gm.grid_mapping_name).toBe("geostationary");
    expect(gm.crs_wkt).toMatch(/^PROJCRS\[.*METHOD\["Geostationary Satellite \(Sweep X\)"\]/);
  });
});
