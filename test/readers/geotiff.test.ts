/**
 * The GeoTIFF reader against GDAL: every fixture GDAL wrote (scripts/fixtures/geotiffs.py), whole
 * images and overviews, and boxes that cut across tiles and strips into several targets, read
 * value for value as python3-gdal reads them.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeTiffs,
  openGeoTiff,
  parseGdalMetadata,
  parseNodata,
  readTiffInto,
  type TiffImage,
} from "../../src/readers/geotiff.js";
import { isTiffHeader } from "../../src/readers/tiff-source.js";
import { type AnyTypedArray, dataTypeInfo, viewAs } from "../../src/zarr/dtype.js";
import type { Box } from "../../src/zarr/ndarray.js";
import { firstDifference } from "../helpers/fixtures.js";
import { python } from "../helpers/python.js";

const dir = inject("geotiffs");
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
  name: string;
  bands: number;
  dtype: string;
  overviews: number;
  what: string;
}[];
const readable = manifest.filter((m) => !/unsupported/.test(m.what));
afterAll(closeTiffs);

/** GDAL's values of a window of an image (overview -1: full resolution), (band, y, x) little-endian. */
function gdalValues(file: string, ovr: number, box: Box, im: TiffImage): AnyTypedArray {
  const [b0, y0, x0] = box.start as [number, number, number];
  const [nb, ny, nx] = box.shape as [number, number, number];
  const out = python(
    `
import sys; from osgeo import gdal; import numpy as np
ds = gdal.Open(sys.argv[1]); o, b0, y0, x0, nb, ny, nx = map(int, sys.argv[2:])
band = lambda b: ds.GetRasterBand(b + 1) if o < 0 else ds.GetRasterBand(b + 1).GetOverview(o)
a = np.stack([band(b).ReadAsArray(x0, y0, nx, ny) for b in range(b0, b0 + nb)])
print(a.astype(a.dtype.newbyteorder("<")).tobytes().hex())`,
    [file, String(ovr), ...[b0, y0, x0, nb, ny, nx].map(String)],
  );
  return viewAs(im.dataType, new Uint8Array(Buffer.from(out.trim(), "hex")));
}

async function ours(file: string, im: TiffImage, box: Box, targets: Box[] = [box]): Promise<AnyTypedArray> {
  const outs = targets.map((t) => ({
    buffer: new SharedArrayBuffer(t.shape.reduce((a, b) => a * b, 1) * dataTypeInfo(im.dataType).size),
    dataType: im.dataType,
    box: t,
  }));
  const samples = [...Array(im.bands).keys()];
  const bytes = await readTiffInto({ file, image: im, samples, fill: 0 }, box, outs);
  expect(bytes).toBe(box.shape.reduce((a, b) => a * b, 1) * dataTypeInfo(im.dataType).size);
  return viewAs(im.dataType, new Uint8Array(outs[0]!.buffer));
}

describe("GeoTIFF reader: values as GDAL reads them", () => {
  it.each(readable.map((m) => [m.name, m.what] as const))("%s (%s)", async (name, what) => {
    const file = join(dir, name);
    const t = await openGeoTiff(file);
    expect(t.overviews.length).toBe(manifest.find((m) => m.name === name)!.overviews);
    for (const [k, im] of [t.image, ...t.overviews].entries()) {
      const box = { start: [0, 0, 0], shape: [im.bands, im.height, im.width] };
      const got = await ours(file, im, box);
      const want = gdalValues(file, k - 1, box, im);
      if (/JPEG/.test(what)) {
        // Lossy: geotiff.js's decoder upsamples chroma unlike libjpeg; a few levels apart.
        let worst = 0;
        let sum = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(Number(got[i]) - Number(want[i]));
          worst = Math.max(worst, d);
          sum += d;
        }
        expect(worst).toBeLessThanOrEqual(16);
        expect(sum / want.length).toBeLessThan(2);
      } else expect(firstDifference(got, want), `${name} image ${k}`).toBe(-1);
    }
  });

  it.each([
    "int16_deflate_pred2.tif",
    "uint16_lzw_striped.tif",
    "rgb_pixel_deflate.tif",
    "int16x3_band_lzw.tif",
    "float32x3_band_striped.tif",
  ])("%s: a box across blocks, into two targets", async (name) => {
    const file = join(dir, name);
    const { image: im } = await openGeoTiff(file);
    const nb = Math.min(2, im.bands);
    const [y0, ny, x0, nx] = [
      Math.floor(im.height * 0.3),
      Math.floor(im.height * 0.6),
      Math.floor(im.width * 0.3),
      Math.floor(im.width * 0.6),
    ];
    const box = { start: [im.bands - nb, y0, x0], shape: [nb, ny, nx] };
    // Two targets split along y half-way, each larger than its part of the box.
    const cut = Math.floor(im.height / 2);
    const t1 = { start: [0, 0, x0 - 1], shape: [im.bands, cut, nx + 3] };
    const t2 = { start: [0, cut, x0 - 1], shape: [im.bands, im.height - cut, nx + 3] };
    const outs = [t1, t2].map((b) => ({
      buffer: new SharedArrayBuffer(b.shape.reduce((x, y) => x * y, 1) * dataTypeInfo(im.dataType).size),
      dataType: im.dataType,
      box: b,
    }));
    await readTiffInto({ file, image: im, samples: [...Array(im.bands).keys()], fill: 0 }, box, outs);
    for (const o of outs) {
      const t = o.box;
      const ya = Math.max(t.start[1]!, y0);
      const yb = Math.min(t.start[1]! + t.shape[1]!, y0 + ny);
      const part = { start: [im.bands - nb, ya, x0], shape: [nb, yb - ya, nx] };
      const want = gdalValues(file, -1, part, im);
      const got = viewAs(im.dataType, new Uint8Array(o.buffer));
      let checked = 0;
      for (let b = 0; b < nb; b++)
        for (let y = 0; y < yb - ya; y++)
          for (let x = 0; x < nx; x++) {
            const g =
              got[
                ((part.start[0]! + b) * t.shape[1]! + (ya - t.start[1]! + y)) * t.shape[2]! +
                  (x0 - t.start[2]! + x)
              ];
            const w = want[(b * (yb - ya) + y) * nx + x];
            if (g !== w && !(Number.isNaN(g) && Number.isNaN(w)))
              throw new Error(`${name}: band ${b} row ${ya + y} col ${x0 + x}: ${g} != ${w}`);
            checked++;
          }
      expect(checked).toBe(nb * (yb - ya) * nx);
    }
  });

  it("one band of a pixel-interleaved file, as a 2-D (y, x) box", async () => {
    const file = join(dir, "rgb_pixel_deflate.tif");
    const { image: im } = await openGeoTiff(file);
    const box = { start: [0, 0], shape: [im.height, im.width] };
    const out = { buffer: new SharedArrayBuffer(im.height * im.width), dataType: im.dataType, box };
    await readTiffInto({ file, image: im, samples: [2], fill: 0 }, box, [out]);
    const want = gdalValues(file, -1, { start: [2, 0, 0], shape: [1, im.height, im.width] }, im);
    expect(firstDifference(new Uint8Array(out.buffer), want)).toBe(-1);
  });
});

describe("GeoTIFF reader: what it tells about a file", () => {
  it("shape, type, layout, nodata, band metadata", async () => {
    const t = await openGeoTiff(join(dir, "int16x3_band_lzw.tif"));
    expect(t.image).toMatchObject({ width: 330, height: 260, bands: 3, dataType: "int16", tiled: true });
    expect(t.image.layout).toMatchObject({
      compression: 5,
      planar: 2,
      samplesInBlock: 1,
      littleEndian: true,
    });
    expect(t.nodata).toBe(-1);
    expect(t.metadata.bands.map((b) => b.DESCRIPTION)).toEqual(["red", "green", "blue"]);
    expect(t.metadata.bands[0]).toMatchObject({ OFFSET: "-5", UNITTYPE: "m" });
    expect(Number(t.metadata.bands[0]!.SCALE)).toBeCloseTo(0.01, 12);
    expect(t.geoKeys?.ProjectedCSTypeGeoKey).toBe(32633);
    const be = await openGeoTiff(join(dir, "uint16_zstd_bigendian.tif"));
    expect(be.image.layout).toMatchObject({ littleEndian: false, compression: 50000, predictor: 2 });
  });

  it("a COG's overviews, largest first", async () => {
    const t = await openGeoTiff(join(dir, "cog_4ovr.tif"));
    expect([t.image, ...t.overviews].map((o) => [o.width, o.height])).toEqual([
      [1300, 1100],
      [650, 550],
      [325, 275],
      [162, 137],
      [81, 68],
    ]);
  });

  it("GDAL_NODATA text, GDAL_METADATA XML, TIFF signatures", () => {
    expect(parseNodata("-9999\0")).toBe(-9999);
    expect(parseNodata("nan")).toBeNaN();
    expect(parseNodata("-inf")).toBe(-Infinity);
    expect(parseNodata("3.4028234663852886e+38")).toBe(3.4028234663852886e38);
    expect(parseNodata("")).toBeNull();
    expect(parseNodata(undefined)).toBeNull();
    const m = parseGdalMetadata(
      '<GDALMetadata><Item name="TITLE">a &amp; b &lt;c&gt;</Item><Item name="DESCRIPTION" sample="1" role="description">near &#233;</Item><Item name="COMPRESSION" domain="IMAGE_STRUCTURE">DEFLATE</Item><Item name="RESAMPLING" sample="0">AVERAGE_BIT2GRAYSCALE</Item></GDALMetadata>',
    );
    expect(m).toEqual({
      dataset: { TITLE: "a & b <c>" },
      bands: { 1: { DESCRIPTION: "near é" }, 0: { RESAMPLING: "AVERAGE_BIT2GRAYSCALE" } },
    });
    expect(isTiffHeader(new Uint8Array([0x49, 0x49, 0x2a, 0]))).toBe(true);
    expect(isTiffHeader(new Uint8Array([0x4d, 0x4d, 0, 0x2b]))).toBe(true);
    expect(isTiffHeader(new Uint8Array([0x49, 0x49, 0x2a, 1]))).toBe(false);
    expect(isTiffHeader(new Uint8Array([0x89, 0x48, 0x44, 0x46]))).toBe(false);
  });

  it.each([
    ["complex.tif", "complex samples are not supported"],
    ["nbits1.tif", "1-bit samples are not supported"],
    ["lzma.tif", "compression LZMA (Compression=34925) is not supported"],
    ["not_a_tiff.tif", "not a readable TIFF: Invalid byte order value."],
  ])("%s: refused with the cause", async (name, message) => {
    const file = join(dir, name);
    await expect(openGeoTiff(file)).rejects.toThrow(`${file}: ${message}`);
  });

  it("a tile table shorter than the image's tiles is a format error naming the counts", async () => {
    const file = join(dir, "short_tile_table.tif");
    const t = await openGeoTiff(file);
    const box = { start: [0, 0, 0], shape: [1, 1, 1] };
    await expect(ours(file, t.image, box)).rejects.toThrow(
      `${file}: IFD 0: 3 TileOffsets and 3 TileByteCounts for the 4 tiles of a 410 x 300 image`,
    );
  });

  it("a truncated tile is a format error naming the tile and the file's end", async () => {
    const file = join(dir, "truncated.tif");
    const t = await openGeoTiff(file);
    const box = { start: [0, 0, 0], shape: [1, t.image.height, t.image.width] };
    await expect(ours(file, t.image, box)).rejects.toThrow(
      new RegExp(
        `^${file}: truncated file: tile \\d+ of IFD 0 needs bytes \\d+-\\d+ but the file ends at \\d+$`,
      ),
    );
  });
});
