/**
 * The converter's own findings of issue 11's validation sweep (docs/compatibility.md, "Validation
 * sweep"): patterns of GDAL's and others' test files, rebuilt small with netCDF4-python, converted
 * to v2 and v3, compared with what xarray (and GDAL) read, and validated.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { convert, FileSystemStore, validateStore } from "../../src/node.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";
import { zarritaRead } from "../helpers/zarrita.js";

const dir = tmpDir("findings");
const f = (name: string) => join(dir, name);
const meta = (store: string, v: string, format: 2 | 3) =>
  format === 2
    ? {
        ...JSON.parse(readFileSync(join(store, v, ".zarray"), "utf8")),
        attributes: JSON.parse(readFileSync(join(store, v, ".zattrs"), "utf8")),
      }
    : JSON.parse(readFileSync(join(store, v, "zarr.json"), "utf8"));
const errors = async (store: string, rules: string[]) =>
  (await validateStore(new FileSystemStore(store), store, { rules })).findings
    .filter((x) => x.severity === "error")
    .map((x) => `${x.rule} ${x.path}`);

describe("a dimension coordinate in the root, used only by a sub-group's data (CF §2.7, §4)", () => {
  // GDAL's y_x_other_dim_thanks_to_geolocation.nc: int baz(baz) in the root, rhos(foo, bar, baz)
  // in /geophysical_data, its lat/lon in /navigation_data.
  beforeAll(() => {
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("foo", 2); ds.createDimension("bar", 3); ds.createDimension("baz", 4)
    ds.createDimension("unused", 2)
    b = ds.createVariable("baz", "i4", ("baz",)); b[:] = [10, 20, 30, 40]
    u = ds.createVariable("unused", "i4", ("unused",)); u[:] = [1, 2]
    g = ds.createGroup("geophysical_data")
    r = g.createVariable("rhos", "f4", ("foo", "bar", "baz")); r[:] = np.arange(24, dtype="f4").reshape(2, 3, 4)
`,
      [f("subgroup.nc")],
    );
  });

  for (const format of [2, 3] as const) {
    it(`v${format}: baz(baz) is written with xarray's values; the unused one is dropped with its reason`, async () => {
      const out = f(`subgroup${format}.zarr`);
      const s = await convert(f("subgroup.nc"), out, { zarrFormat: format, workers: 0 });
      expect(s.dropped).toEqual([{ name: "unused", reason: "no kept variable uses its dimension" }]);
      const want = pythonJson<number[]>(
        `import sys, json, xarray as xr; print(json.dumps(xr.open_dataset(sys.argv[1])["baz"].values.tolist()))`,
        [f("subgroup.nc")],
      );
      expect(want).toEqual([10, 20, 30, 40]);
      // zarr-python 2 (Debian) reads v2, zarrita v3.
      const got =
        format === 2
          ? pythonJson<number[]>(
              `import sys, json, zarr; print(json.dumps(zarr.open_array(sys.argv[1] + "/baz", mode="r")[:].tolist()))`,
              [out],
            )
          : zarritaRead(out, ["baz"]).baz!.values;
      expect(got).toEqual(want);
      expect(meta(out, "baz", format).attributes).not.toHaveProperty("_FillValue");
      expect(await errors(out, ["CF-04", "CF-05"])).toEqual([]);
    });
  }
});

describe("a rotated-pole grid mapping without grid_mapping_name (CF Appendix F)", () => {
  // GDAL's rotated_pole.nc: a float `projection` with the pole parameters and an ellipsoid only.
  beforeAll(() => {
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("y", 3); ds.createDimension("x", 4)
    x = ds.createVariable("x", "f4", ("x",)); x.standard_name = "grid_longitude"; x.units = "degrees"
    x[:] = -35.47 + 0.44 * np.arange(4)
    y = ds.createVariable("y", "f4", ("y",)); y.standard_name = "grid_latitude"; y.units = "degrees"
    y[:] = -23.87 + 0.44 * np.arange(3)
    p = ds.createVariable("projection", "f4", ())
    p.grid_north_pole_longitude = np.float32(-162); p.grid_north_pole_latitude = np.float32(39.25)
    p.north_pole_grid_longitude = np.float32(0)
    p.semi_major_axis = np.float32(6367470); p.semi_minor_axis = np.float32(6356756)
    t = ds.createVariable("tg", "i2", ("y", "x"), fill_value=-9999); t.scale_factor = np.float32(0.01)
    t.standard_name = "air_temperature"; t.units = "Celsius"; t.grid_mapping = "projection"
    t[:] = np.arange(12).reshape(3, 4)
    ds.Conventions = "CF-1.4"
`,
      [f("rotated.nc")],
    );
  });

  for (const format of [2, 3] as const) {
    it(`v${format}: the CRS is GDAL's rotated pole, grid_mapping_name is written, a note says it was inferred`, async () => {
      const out = f(`rotated${format}.zarr`);
      const s = await convert(f("rotated.nc"), out, { zarrFormat: format, workers: 0 });
      expect(s.notes).toContain(
        "projection has no grid_mapping_name: rotated_latitude_longitude inferred from its parameters (CF Appendix F), as GDAL does, and written in the output's grid mapping",
      );
      const gm = meta(out, "spatial_ref", format).attributes;
      expect(gm.grid_mapping_name).toBe("rotated_latitude_longitude");
      expect([gm.grid_north_pole_latitude, gm.grid_north_pole_longitude]).toEqual([39.25, -162]);
      // GDAL's reading of the source and of our crs_wkt: the same PROJ definition, the same points.
      const r = pythonJson<{ gdal: string; ours: string; far: number }>(
        `
import sys, json
from osgeo import gdal, osr
gdal.UseExceptions()
src = osr.SpatialReference(wkt=gdal.Open(sys.argv[1]).GetProjection())
ours = osr.SpatialReference(wkt=json.loads(sys.argv[2]))
for s in (src, ours): s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
def lonlat(s):
    t = osr.CoordinateTransformation(s, s.CloneGeogCS())
    return [t.TransformPoint(x, y)[:2] for x in (-30, 0, 20) for y in (-20, 0, 20)]
far = max(abs(a - b) for p, q in zip(lonlat(src), lonlat(ours)) for a, b in zip(p, q))
print(json.dumps({"gdal": src.ExportToProj4(), "ours": ours.ExportToProj4(), "far": far}))
`,
        [f("rotated.nc"), JSON.stringify(gm.crs_wkt)],
      );
      expect(r.ours).toBe(r.gdal);
      expect(r.gdal).toBe(
        "+proj=ob_tran +o_proj=longlat +o_lon_p=0 +o_lat_p=39.25 +lon_0=18 +a=6367470 +rf=594.313048347956 +no_defs",
      );
      expect(r.far).toBeLessThan(1e-9);
      expect(await errors(out, ["CF-07"])).toEqual([]);
    });
  }
});

describe("missing_value not of the variable's type (CF §2.5.1, CF-09)", () => {
  // GDAL's missing_value_text_numeric.nc ("12" on a byte), its orog_CRCM*.nc (a float 1e20 on an
  // int beside an int _FillValue), netcdf4-python's issue1152.nc (the text "-1.e+34f" on an int).
  beforeAll(() => {
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("y", 2); ds.createDimension("x", 3)
    # Values first, attributes by setncattr: netCDF4-python's own masking and its attribute setter
    # would cast the missing values to the variable's type.
    b = ds.createVariable("b", "i1", ("y", "x")); b[:] = [[1, 12, 3], [4, 5, 12]]
    o = ds.createVariable("orog", "i4", ("y", "x"), fill_value=-2147483648)
    o[:] = [[100, 200, 300], [400, 500, 600]]
    t = ds.createVariable("t", "i4", ("y", "x")); t[:] = [[1, 2, 3], [4, 5, 6]]
    b.setncattr("missing_value", "12"); o.setncattr("missing_value", np.float32(1e20))
    t.setncattr("missing_value", "-1.e+34f")
`,
      [f("missing.nc")],
    );
  });

  it("xarray casts the numeric text on encode and refuses the others; GDAL takes 12 as nodata", () => {
    const r = pythonJson<Record<string, unknown>>(
      `
import sys, json, xarray as xr
out = {}
for v in ["b", "orog", "t"]:
    try:
        xr.open_dataset(sys.argv[1])[[v]].to_zarr(sys.argv[2] + v, mode="w")
        out[v] = json.load(open(sys.argv[2] + v + "/" + v + "/.zattrs")).get("missing_value")
    except ValueError:
        out[v] = "ValueError"
print(json.dumps(out))
`,
      [f("missing.nc"), f("xr_missing_")],
    );
    expect(r).toEqual({ b: 12, orog: "ValueError", t: "ValueError" });
    const nodata = pythonJson(
      `
import sys, json
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open('NETCDF:"%s":b' % sys.argv[1])  # held: a band outlives no dataset
print(json.dumps(ds.GetRasterBand(1).GetNoDataValue()))
`,
      [f("missing.nc")],
    );
    expect(nodata).toBe(12);
  });

  for (const format of [2, 3] as const) {
    it(`v${format}: "12" written as 12, 1e20 and "-1.e+34f" left out, each with a note; no CF-09`, async () => {
      const out = f(`missing${format}.zarr`);
      const s = await convert(f("missing.nc"), out, { zarrFormat: format, workers: 0 });
      expect(s.notes.filter((n) => n.includes("missing_value"))).toEqual([
        `b: missing_value "12" written as 12, of the variable's type int8 (CF §2.5.1; as xarray encodes it)`,
        "orog: missing_value 1.0000000200408773e+20 left out: not a value of the variable's type int32 (CF §2.5.1), so no value equals it (xarray refuses to write it)",
        `t: missing_value "-1.e+34f" left out: not a value of the variable's type int32 (CF §2.5.1), so no value equals it (xarray refuses to write it)`,
      ]);
      const b = meta(out, "b", format);
      const o = meta(out, "orog", format);
      // v2 carries the missing value in fill_value (xarray's and GDAL's nodata); v3 keeps the attribute too.
      expect([b.fill_value, b.attributes.missing_value]).toEqual(format === 2 ? [12, undefined] : [12, 12]);
      expect([o.fill_value, o.attributes.missing_value]).toEqual([-2147483648, undefined]);
      expect(meta(out, "t", format).attributes.missing_value).toBeUndefined();
      expect(await errors(out, ["CF-09"])).toEqual([]);
    });
  }
});

describe("a coordinate variable's _FillValue (CF §5, CF-04 in v3)", () => {
  // GDAL's invalid_valid_min_valid_max.nc: x(x), y(y) doubles with _FillValue NaN; netcdf4-python's
  // netcdf_dummy_file.nc: z(z) with _FillValue -9999.9, a real missing value the source declares.
  beforeAll(() => {
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("y", 2); ds.createDimension("x", 3); ds.createDimension("z", 2)
    x = ds.createVariable("x", "f8", ("x",), fill_value=np.nan); x.units = "degrees_east"; x[:] = [10, 11, 12]
    y = ds.createVariable("y", "f8", ("y",), fill_value=np.nan); y.units = "degrees_north"; y[:] = [50, 49]
    z = ds.createVariable("z", "f8", ("z",), fill_value=-9999.9); z.units = "m"; z.positive = "down"; z[:] = [1, 2]
    v = ds.createVariable("ndvi", "i4", ("z", "y", "x"), fill_value=-9999); v.standard_name = "normalized_difference_vegetation_index"
    v[:] = np.arange(12).reshape(2, 2, 3)
`,
      [f("coordfill.nc")],
    );
  });

  it("v3: x/y's _FillValue NaN is not kept (a no-op, with a note), z's -9999.9 is: the source's, as v2's fill_value", async () => {
    const out3 = f("coordfill3.zarr");
    const out2 = f("coordfill2.zarr");
    const s = await convert(f("coordfill.nc"), out3, { zarrFormat: 3, workers: 0 });
    await convert(f("coordfill.nc"), out2, { zarrFormat: 2, workers: 0 });
    expect(s.notes.filter((n) => n.includes("_FillValue"))).toEqual(
      ["x", "y"].map(
        (c) =>
          `${c}: _FillValue NaN not kept as an attribute: a coordinate variable has no missing values (CF §5), and NaN masks only NaN`,
      ),
    );
    for (const c of ["x", "y"]) {
      expect(meta(out3, c, 3).fill_value).toBe("NaN");
      expect(meta(out3, c, 3).attributes).not.toHaveProperty("_FillValue");
      expect(meta(out2, c, 2).fill_value).toBe("NaN");
    }
    // z's fill is the source's declaration, in both formats: v2 in fill_value (which xarray masks), v3 also as the attribute.
    expect(meta(out2, "z", 2).fill_value).toBe(-9999.9);
    expect(meta(out3, "z", 3).attributes._FillValue).toBe("MzMzM/OHw8A=" /* base64 of float64 -9999.9 */);
    // The values are xarray's decoding of the source.
    const want = pythonJson<Record<string, number[]>>(
      `import sys, json, xarray as xr; ds = xr.open_dataset(sys.argv[1]); print(json.dumps({c: ds[c].values.tolist() for c in "xyz"}))`,
      [f("coordfill.nc")],
    );
    const got = zarritaRead(out3, ["x", "y", "z"]);
    expect({ x: got.x!.values, y: got.y!.values, z: got.z!.values }).toEqual(want);
    expect(await errors(out3, ["CF-04"])).toEqual(["CF-04 /z"]);
    expect(await errors(out2, ["CF-04"])).toEqual([]);
  });
});
