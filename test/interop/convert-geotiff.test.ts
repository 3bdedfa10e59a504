/**
 * GeoTIFF -> GeoZarr, checked with real clients (issue 17 "Done when"): rioxarray reading our v2
 * output gives the CRS, `rio.transform()` and values rioxarray reads from the TIFF; `gdalinfo` of
 * our v2 output agrees with `gdalinfo` of the TIFF on size, geotransform and nodata; a COG's
 * overviews become multiscale levels whose values are GDAL's overviews; the v3 output validates.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { planGeotiff } from "../../src/convert/geotiff/plan.js";
import { convert, FileSystemStore, openStore, validateStore, WorkerPool } from "../../src/node.js";
import { readRegion } from "../../src/parallel/read-region.js";
import { openGeoTiff } from "../../src/readers/geotiff.js";
import { codecChoiceOf } from "../../src/zarr/codecs/choice.js";
import { getNode } from "../../src/zarr/hierarchy.js";
import { firstDifference } from "../helpers/fixtures.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("tif");
const tif = (name: string) => join(inject("geotiffs"), name);

/** The files of the "Done when": types, band counts, CRSs, PixelIsPoint, rotation, nodata, layouts. */
const CASES = [
  "uint8_deflate_tiled.tif",
  "int16_deflate_pred2.tif",
  "uint16_lzw_striped.tif",
  "float32_deflate_pred3.tif",
  "float32_zstd_nan.tif",
  "uint16_zstd_bigendian.tif",
  "rgb_pixel_deflate.tif",
  "int16x3_band_lzw.tif",
  "float32x3_band_striped.tif",
  "pixel_is_point.tif",
  "rotated.tif",
  "south_up.tif",
  "user_laea.tif",
  "cog_4ovr.tif",
  "cog_rgb.tif",
];
const out = (name: string, suffix = "v2") => join(dir, `${name.replace(/\.tif$/, "")}-${suffix}.zarr`);

beforeAll(async () => {
  for (const name of CASES) await convert(tif(name), out(name), { zarrFormat: 2, workers: 2 });
}, 120_000);

describe("rioxarray reads our v2 output as it reads the TIFF", () => {
  it.each(CASES)("%s: CRS, transform and values", (name) => {
    const r = pythonJson<{
      crs: boolean;
      wkt: string;
      transform: [number[], number[]];
      values: boolean;
      shape: number[];
      dtype: string[];
    }>(
      `
import sys, json, warnings; warnings.filterwarnings("ignore")
import numpy as np, rioxarray, xarray as xr
a = rioxarray.open_rasterio(sys.argv[1], mask_and_scale=False)
v = xr.open_zarr(sys.argv[2], decode_coords="all", mask_and_scale=False)["band_data"]
print(json.dumps({
  "crs": bool(a.rio.crs == v.rio.crs), "wkt": v.rio.crs.to_wkt() if v.rio.crs else "",
  "transform": [list(a.rio.transform())[:6], list(v.rio.transform())[:6]],
  "values": bool(np.array_equal(a.values, v.values, equal_nan=True)),
  "shape": list(v.shape), "dtype": [str(a.dtype), str(v.dtype)]}))`,
      [tif(name), out(name)],
    );
    expect(r.crs, r.wkt).toBe(true);
    for (let i = 0; i < 6; i++) expect(r.transform[1][i]).toBeCloseTo(r.transform[0][i]!, 6);
    expect(r.dtype[1]).toBe(r.dtype[0]);
    expect(r.values).toBe(true);
  });
});

describe("gdalinfo of our v2 output agrees with gdalinfo of the TIFF", () => {
  // GDAL 3.6's Zarr driver derives the transform from 1-D coordinates: a rotated grid has none.
  it.each(CASES.filter((n) => n !== "rotated.tif"))("%s: size, geotransform, nodata", (name) => {
    const info = (path: string) =>
      JSON.parse(
        python(
          `import sys, subprocess; print(subprocess.run(["gdalinfo", "-json", sys.argv[1]], check=True, capture_output=True, text=True).stdout)`,
          [path],
        ),
      );
    const a = info(tif(name));
    const b = info(`ZARR:"${out(name)}":/band_data:0`);
    expect(b.size).toEqual(a.size);
    for (let i = 0; i < 6; i++) expect(b.geoTransform[i]).toBeCloseTo(a.geoTransform[i], 6);
    expect(String(b.bands[0].noDataValue)).toBe(String(a.bands[0].noDataValue));
  });

  it("a rotated grid: spatial:transform and GeoTransform carry the rotation, no x/y coordinates", async () => {
    const h = await openStore(out("rotated.tif"));
    expect([...h.nodes.keys()].sort()).toEqual(["/", "/band_data", "/spatial_ref"]);
    expect(getNode(h, "/spatial_ref").meta.attributes.GeoTransform).toBe("500000 25 10 5200000 8 -25");
    const v3 = out("rotated.tif", "v3");
    await convert(tif("rotated.tif"), v3, { zarrFormat: 3, workers: 0 });
    const h3 = await openStore(v3);
    expect(getNode(h3, "/band_data").meta.attributes["spatial:transform"]).toEqual([
      25, 10, 500000, 8, -25, 5200000,
    ]);
  });
});

/** GDAL's values of overview `k` (0-based) of band 1..n, (band, y, x) in C order. */
function gdalOverview(file: string, k: number): { shape: number[]; hex: string } {
  return pythonJson(
    `
import sys, json; from osgeo import gdal; import numpy as np
ds = gdal.Open(sys.argv[1]); k = int(sys.argv[2])
a = np.stack([ds.GetRasterBand(b + 1).GetOverview(k).ReadAsArray() for b in range(ds.RasterCount)])
print(json.dumps({"shape": list(a.shape), "hex": a.astype(a.dtype.newbyteorder("<")).tobytes().hex()}))`,
    [file, String(k)],
  );
}

async function levelValues(store: string, path: string): Promise<{ shape: number[]; bytes: Uint8Array }> {
  const h = await openStore(store);
  const { data, shape } = await readRegion(h, path, new WorkerPool(0));
  return { shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Validation errors other than the one a GeoTIFF cannot avoid: data without a CF standard_name. */
async function errorsOf(store: string) {
  const report = await validateStore(new FileSystemStore(store), store);
  return report.findings.filter(
    (f) => f.severity === "error" && !(f.rule === "G4-04" && /band_data$/.test(f.path)),
  );
}

describe("a COG's overviews as multiscale levels", () => {
  for (const format of [2, 3] as const) {
    it(`4 overviews give levels 1-4 with GDAL's overview values (Zarr v${format})`, async () => {
      const store = out("cog_4ovr.tif", `ms${format}`);
      const s = await convert(tif("cog_4ovr.tif"), store, {
        zarrFormat: format,
        workers: 2,
        multiscales: { tileSize: 256 },
      });
      const levels = s.multiscales;
      expect(s.sourceLevels).toBe(4);
      // GDAL's COG overview sizes (325 / 2 = 162, not 163): the levels keep them.
      expect(levels!.levels.map((l) => l.shape)).toEqual([
        [1100, 1300],
        [550, 650],
        [275, 325],
        [137, 162],
        [68, 81],
      ]);
      for (let k = 1; k <= 4; k++) {
        const want = gdalOverview(tif("cog_4ovr.tif"), k - 1);
        const got = await levelValues(store, `/${k}/band_data`);
        expect(got.shape).toEqual(want.shape);
        expect(firstDifference(got.bytes, Buffer.from(want.hex, "hex"))).toBe(-1);
      }
      if (format === 3) {
        const ms = JSON.parse(readFileSync(join(store, "zarr.json"), "utf8")).attributes.multiscales;
        // GDAL 3.6 does not record how it made the overviews: no resampling_method is claimed for them.
        expect(ms.layout.slice(1).map((l: Record<string, unknown>) => "resampling_method" in l)).toEqual([
          false,
          false,
          false,
          false,
        ]);
        expect(ms.layout[3].transform.scale).toEqual([275 / 137, 325 / 162]);
        expect(await errorsOf(store)).toEqual([]);
      }
    });
  }

  it("levels past the COG's overviews are computed from the last one", async () => {
    const store = out("cog_1ovr.tif", "ms3");
    const { multiscales: levels } = await convert(tif("cog_1ovr.tif"), store, {
      zarrFormat: 3,
      workers: 2,
      multiscales: { tileSize: 256, resampling: "nearest" },
    });
    expect(levels!.levels.map((l) => l.shape)).toEqual([
      [1100, 1300],
      [550, 650],
      [275, 325],
      [138, 163],
    ]);
    const want = gdalOverview(tif("cog_1ovr.tif"), 0);
    const l1 = await levelValues(store, "/1/band_data");
    expect(firstDifference(l1.bytes, Buffer.from(want.hex, "hex"))).toBe(-1);
    // Level 2 is level 1 reduced by 2 x 2 nearest: the lower-right of the centre pixels, as GDAL's NEAREST.
    const l2 = await levelValues(store, "/2/band_data");
    const a = new Int16Array(l1.bytes.buffer, l1.bytes.byteOffset, l1.bytes.byteLength / 2);
    const b = new Int16Array(l2.bytes.buffer, l2.bytes.byteOffset, l2.bytes.byteLength / 2);
    for (const [y, x] of [
      [0, 0],
      [10, 17],
      [137, 100],
      [274, 324],
    ] as const)
      expect(b[y * 325 + x]).toBe(a[Math.min(549, 2 * y + 1) * 650 + Math.min(649, 2 * x + 1)]);
    const ms = JSON.parse(readFileSync(join(store, "zarr.json"), "utf8")).attributes.multiscales;
    expect(ms.layout.map((l: Record<string, unknown>) => l.resampling_method)).toEqual([
      undefined,
      undefined,
      "nearest",
      "nearest",
    ]);
  });
});

describe("--bands-as-variables", () => {
  it("one (y, x) variable per band, named by its description, with its metadata", async () => {
    const store = out("rgb_pixel_deflate.tif", "bands");
    await convert(tif("rgb_pixel_deflate.tif"), store, { zarrFormat: 2, bandsAsVariables: true, workers: 2 });
    const r = pythonJson<Record<string, { dims: string[]; equal: boolean; attrs: Record<string, unknown> }>>(
      `
import sys, json, warnings; warnings.filterwarnings("ignore")
import numpy as np, rioxarray, xarray as xr
a = rioxarray.open_rasterio(sys.argv[1], mask_and_scale=False)
ds = xr.open_zarr(sys.argv[2], decode_coords="all", mask_and_scale=False)
print(json.dumps({n: {"dims": list(ds[n].dims), "equal": bool(np.array_equal(a.values[i], ds[n].values)),
  "attrs": {k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in ds[n].attrs.items()}}
  for i, n in enumerate(["red", "green", "blue"])}))`,
      [tif("rgb_pixel_deflate.tif"), store],
    );
    for (const [name, v] of Object.entries(r)) {
      expect(v.dims).toEqual(["y", "x"]);
      expect(v.equal).toBe(true);
      expect(v.attrs).toMatchObject({ long_name: name, units: "m", scale_factor: 0.01, add_offset: -5 });
    }
  });

  it("band_data on bands whose scale differs is refused, naming the option", async () => {
    const t = await openGeoTiff(tif("int16x3_band_lzw.tif"));
    const opts = { zarrFormat: 2 as const, codec: codecChoiceOf("zstd:1"), history: "h" };
    expect(planGeotiff(t, opts).nodes.find((n) => n.path === "/band_data")).toBeDefined();
    t.metadata.bands[1]!.SCALE = "0.5";
    expect(() => planGeotiff(t, opts)).toThrow(
      `${tif("int16x3_band_lzw.tif")}: its bands differ in scale_factor (0.01, 0.5, 0.01), which one band_data variable cannot say: use bandsAsVariables (--bands-as-variables)`,
    );
    const split = planGeotiff(t, { ...opts, bandsAsVariables: true });
    expect(
      split.nodes
        .filter((n) => n.kind === "array")
        .map((n) => [n.path, n.kind === "array" && n.spec.attributes.scale_factor]),
    ).toEqual([
      ["/spatial_ref", undefined],
      ["/x", undefined],
      ["/y", undefined],
      ["/red", 0.01],
      ["/green", 0.5],
      ["/blue", 0.01],
    ]);
  });
});

describe("overview resampling from GDAL's metadata", () => {
  it("an overview's RESAMPLING item names its level's method; without one, none is claimed", async () => {
    const t = await openGeoTiff(tif("cog_4ovr.tif"));
    t.overviews[0]!.metadata.RESAMPLING = "AVERAGE";
    t.overviews[1]!.metadata.RESAMPLING = "NEAR";
    const plan = planGeotiff(t, { zarrFormat: 3, codec: codecChoiceOf("zstd:1"), history: "h" });
    expect(plan.levels.map((l) => [l.shape, l.resampling])).toEqual([
      [[550, 650], "average"],
      [[275, 325], "nearest"],
      [[137, 162], undefined],
      [[68, 81], undefined],
    ]);
    expect(Object.keys(plan.levels[0]!.arrays)).toEqual(["/band_data"]);
  });
});

describe("GDAL metadata and nodata in the v3 output", () => {
  it("one band: description, scale, offset, units as CF attributes; nodata as fill_value; proj: and spatial:", async () => {
    const store = out("uint16_meta.tif", "v3");
    await convert(tif("uint16_meta.tif"), store, { zarrFormat: 3, workers: 0 });
    const doc = JSON.parse(readFileSync(join(store, "band_data", "zarr.json"), "utf8"));
    expect(doc.fill_value).toBe(65535);
    expect(doc.dimension_names).toEqual(["band", "y", "x"]);
    expect(doc.attributes).toMatchObject({
      long_name: "elevation",
      scale_factor: 0.01,
      add_offset: -5,
      units: "m",
      grid_mapping: "spatial_ref",
      AREA_OR_POINT: "Area",
      "proj:code": "EPSG:32633",
      "spatial:dimensions": ["y", "x"],
      "spatial:transform": [30, 0, 500000, 0, -30, 5200000],
      "spatial:shape": [120, 160],
    });
    const root = JSON.parse(readFileSync(join(store, "zarr.json"), "utf8")).attributes;
    expect(root).toMatchObject({
      Conventions: "CF-1.11",
      TIFFTAG_DATETIME: "2023:06:15 10:30:21",
      "proj:code": "EPSG:32633",
    });
    expect(await errorsOf(store)).toEqual([]);
  });
});
