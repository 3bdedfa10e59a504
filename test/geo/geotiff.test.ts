/**
 * GeoTIFF georeferencing: the raster-to-model transform (GeoTIFF 1.1 clause 7.3, PixelIsArea vs
 * PixelIsPoint) against GDAL's GeoTransform, and the CRS from GeoKeys: EPSG codes through the
 * table, user-defined CRSs rebuilt as WKT2 and compared with GDAL's reading by pyproj.
 */

import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { crsFromGeoKeys, PIXEL_IS_AREA, PIXEL_IS_POINT, tiffTransform } from "../../src/geo/geotiff.js";
import { openGeoTiff } from "../../src/readers/geotiff.js";
import { pythonJson } from "../helpers/python.js";

const dir = inject("geotiffs");
const none = { pixelScale: null, tiepoints: null, transformation: null };

describe("tiffTransform", () => {
  it("a tie point and a pixel scale; the tie point need not be the first pixel", () => {
    const t = tiffTransform(
      "f",
      { ...none, tiepoints: [0, 0, 0, 500000, 5200000, 0], pixelScale: [30, 30, 0] },
      PIXEL_IS_AREA,
    );
    expect(t).toEqual([30, 0, 500000, 0, -30, 5200000]);
    const u = tiffTransform(
      "f",
      { ...none, tiepoints: [10, 20, 0, 500300, 5199400, 0], pixelScale: [30, 30, 0] },
      PIXEL_IS_AREA,
    );
    expect(u).toEqual([30, 0, 500000, 0, -30, 5200000]);
  });

  it("PixelIsPoint: the tie point is the first pixel's centre, half a pixel inside the grid's corner", () => {
    const t = tiffTransform(
      "f",
      { ...none, tiepoints: [0, 0, 0, 500015, 5199985, 0], pixelScale: [30, 30, 0] },
      PIXEL_IS_POINT,
    );
    expect(t).toEqual([30, 0, 500000, 0, -30, 5200000]);
    // With a rotation the shift follows the rows and columns.
    const m = [25, 10, 0, 500000, 8, -25, 0, 5200000, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(tiffTransform("f", { ...none, transformation: m }, PIXEL_IS_POINT)).toEqual([
      25,
      10,
      500000 - 17.5,
      8,
      -25,
      5200000 + 8.5,
    ]);
  });

  it("ModelTransformation: rotation kept; Z terms refused", () => {
    const m = [25, 10, 0, 500000, 8, -25, 0, 5200000, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(tiffTransform("f", { ...none, transformation: m }, PIXEL_IS_AREA)).toEqual([
      25, 10, 500000, 8, -25, 5200000,
    ]);
    const z = [...m];
    z[2] = 1;
    expect(() => tiffTransform("f", { ...none, transformation: z }, PIXEL_IS_AREA)).toThrow(
      "f: a ModelTransformation with a Z component is not supported",
    );
  });

  it("ground control points and degenerate scales are refused; no tags is no transform", () => {
    const gcps = [0, 0, 0, 1, 2, 0, 10, 0, 0, 3, 4, 0, 0, 10, 0, 5, 6, 0];
    expect(() => tiffTransform("f", { ...none, tiepoints: gcps }, PIXEL_IS_AREA)).toThrow(
      "f: georeferenced by 3 ground control points, not an affine transform",
    );
    expect(() =>
      tiffTransform("f", { ...none, tiepoints: [0, 0, 0, 1, 2, 0], pixelScale: [0, 1, 0] }, PIXEL_IS_AREA),
    ).toThrow("f: degenerate raster-to-model transform");
    expect(tiffTransform("f", none, PIXEL_IS_AREA)).toBeNull();
  });

  it.each(["pixel_is_point.tif", "rotated.tif", "south_up.tif", "uint16_lzw_striped.tif", "cog_4ovr.tif"])(
    "%s: GDAL's GeoTransform",
    async (name) => {
      const file = join(dir, name);
      const t = await openGeoTiff(file);
      const [a, b, c, d, e, f] = tiffTransform(file, t.tags, Number(t.geoKeys?.GTRasterTypeGeoKey ?? 1))!;
      const gdal = pythonJson<number[]>(
        "import sys, json; from osgeo import gdal; print(json.dumps(gdal.Open(sys.argv[1]).GetGeoTransform()))",
        [file],
      );
      expect([c, a, b, f, d, e]).toEqual(gdal);
    },
  );
});

/** Whether pyproj finds our WKT2 equivalent to the CRS GDAL reads from the file. */
function sameAsGdal(file: string, wkt: string): boolean {
  return pythonJson<boolean>(
    `
import sys, json, warnings; warnings.filterwarnings("ignore")
from osgeo import gdal; from pyproj import CRS
ref = CRS.from_wkt(gdal.Open(sys.argv[1]).GetProjection())
print(json.dumps(ref.equals(CRS.from_wkt(sys.argv[2]), ignore_axis_order=True)))`,
    [file, wkt],
  );
}

describe("crsFromGeoKeys", () => {
  it("EPSG codes of projected and geographic CRSs, through the table", () => {
    expect(crsFromGeoKeys("f", { GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32633 })?.code).toBe(
      "EPSG:32633",
    );
    expect(crsFromGeoKeys("f", { GTModelTypeGeoKey: 2, GeographicTypeGeoKey: 4326 })?.code).toBe("EPSG:4326");
    expect(crsFromGeoKeys("f", { ProjectedCSTypeGeoKey: 3031 })?.code).toBe("EPSG:3031");
    for (const code of [32661, 32761, 3413, 3035, 2154, 27700, 25832, 32601, 32760])
      expect(crsFromGeoKeys("f", { GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: code })?.code).toBe(
        `EPSG:${code}`,
      );
    expect(crsFromGeoKeys("f", null)).toBeNull();
    expect(crsFromGeoKeys("f", { GTRasterTypeGeoKey: 1 })).toBeNull();
  });

  it("an EPSG code outside the table, an unsupported method or geocentric space: a clear error", () => {
    expect(() => crsFromGeoKeys("f.tif", { GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 2000 })).toThrow(
      "f.tif: its GeoKeys name EPSG:2000, which is not in geozarr's CRS table: pass --crs with its WKT",
    );
    expect(() =>
      crsFromGeoKeys("f.tif", {
        GTModelTypeGeoKey: 1,
        ProjectedCSTypeGeoKey: 32767,
        GeographicTypeGeoKey: 4326,
        ProjCoordTransGeoKey: 23,
      }),
    ).toThrow(
      "f.tif: user-defined CRS in the GeoKeys (projection method ProjCoordTransGeoKey 23 is not one geozarr rebuilds): pass --crs EPSG:<code> or a WKT string",
    );
    expect(() =>
      crsFromGeoKeys("f.tif", {
        GTModelTypeGeoKey: 1,
        ProjectedCSTypeGeoKey: 32767,
        GeographicTypeGeoKey: 4326,
        ProjCoordTransGeoKey: 1,
        ProjLinearUnitsGeoKey: 9002,
      }),
    ).toThrow("linear units other than metres");
    expect(() => crsFromGeoKeys("f.tif", { GTModelTypeGeoKey: 3 })).toThrow("geocentric model space");
  });

  it.each(["user_laea.tif", "user_tm.tif", "user_lcc.tif", "user_stere.tif"])(
    "%s: the user-defined CRS rebuilt from its keys equals GDAL's reading (pyproj)",
    async (name) => {
      const file = join(dir, name);
      const t = await openGeoTiff(file);
      expect(t.geoKeys?.ProjectedCSTypeGeoKey).toBe(32767);
      const crs = crsFromGeoKeys(file, t.geoKeys)!;
      expect(crs.code).toBeNull();
      expect(crs.kind).toBe("projected");
      expect(sameAsGdal(file, crs.wkt2!)).toBe(true);
      expect(crs.cf.grid_mapping_name).toMatch(
        /^(lambert_azimuthal_equal_area|transverse_mercator|lambert_conformal_conic|polar_stereographic)$/,
      );
    },
  );

  it("a user-defined geographic CRS on a known datum", () => {
    const crs = crsFromGeoKeys("f", {
      GTModelTypeGeoKey: 2,
      GeographicTypeGeoKey: 32767,
      GeogGeodeticDatumGeoKey: 6258,
    })!;
    expect(crs.kind).toBe("geographic");
    expect(crs.wkt2).toContain(
      'DATUM["European Terrestrial Reference System 1989",ELLIPSOID["GRS 1980",6378137,298.257222101',
    );
    expect(crs.cf).toMatchObject({ grid_mapping_name: "latitude_longitude", semi_major_axis: 6378137 });
  });
});
