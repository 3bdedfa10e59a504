/**
 * `geozarr convert` on GeoTIFFs from the command line: what it prints, and bad input (issue 17
 * item 5): not a TIFF, a truncated tile, an unsupported compression or sample format, no
 * georeferencing, no CRS, options that do not apply. Each gets one line, its exit code, no stack
 * trace, and no output left behind.
 */

import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("tifcli");
const tif = (name: string) => join(inject("geotiffs"), name);
let n = 0;
const outPath = () => join(dir, `o${n++}.zarr`);

/** Nothing of the run left next to the output: no store, no partial directory, no lock. */
function nothingLeft(out: string): void {
  expect(existsSync(out)).toBe(false);
  const base = out.split("/").pop()!;
  expect(readdirSync(dir).filter((f) => f.includes(base))).toEqual([]);
}

describe("geozarr convert scene.tif", () => {
  it("prints the CRS, the note about standard names and the summary", async () => {
    const out = outPath();
    const r = await runCli("convert", tif("cog_4ovr.tif"), out, "--multiscales", "--tile-size", "256");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("geozarr: CRS EPSG:32633 (from GeoKeys)");
    expect(r.stderr).toContain("geozarr: note: band_data has no standard_name, which GeoZarr v0.4 requires");
    expect(r.stdout).toMatch(/cog_4ovr\.tif -> .*: Zarr v3, 4 arrays, .* chunks/);
    expect(r.stdout).toContain(
      "5 levels (1100x1300, 550x650, 275x325, 137x162, 68x81), levels 1-4 from the source's overviews,",
    );
    const r2 = await runCli("convert", tif("cog_1ovr.tif"), outPath(), "--multiscales", "--tile-size", "256");
    expect(r2.stdout).toContain(
      "4 levels (1100x1300, 550x650, 275x325, 138x163), level 1 from the source's overviews, levels 2-3 resampled (average),",
    );
  });

  it("--crs replaces the GeoKeys' CRS, and names a file without one", async () => {
    const r1 = await runCli("convert", tif("no_crs.tif"), outPath());
    expect(r1.code).toBe(2);
    expectOneLine(
      r1.stderr,
      `${tif("no_crs.tif")}: no coordinate reference system in its GeoKeys: pass --crs EPSG:<code> or a WKT string`,
      "convert",
    );
    const out = outPath();
    const r2 = await runCli("convert", tif("no_crs.tif"), out, "--crs", "EPSG:3035", "--json");
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.stdout).georef).toEqual([
      { group: "/", crs: "EPSG:3035", from: "--crs", regular: true },
    ]);
  });
});

describe("bad GeoTIFF input", () => {
  it.each([
    [
      "lzma.tif",
      "compression LZMA (Compression=34925) is not supported (none, deflate, LZW, zstd, PackBits, JPEG and LERC are)",
    ],
    [
      "complex.tif",
      "complex samples are not supported (integer or floating-point samples of 8 to 64 bits are)",
    ],
    ["nbits1.tif", "1-bit samples are not supported (integer or floating-point samples of 8 to 64 bits are)"],
    ["no_georef.tif", "no georeferencing (no ModelTransformation, or ModelTiepoint with ModelPixelScale)"],
  ])("%s: exit 3, one line", async (name, message) => {
    const out = outPath();
    const r = await runCli("convert", tif(name), out);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${tif(name)}: ${message}`);
    nothingLeft(out);
  });

  it("not a TIFF at all: exit 3", async () => {
    const r = await runCli("convert", tif("not_a_tiff.tif"), outPath());
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${tif("not_a_tiff.tif")}: not a Zarr store, NetCDF, HDF5 or TIFF file`);
  });

  it("a TIFF header with nothing readable after it: exit 3", async () => {
    const f = join(dir, "header-only.tif");
    writeFileSync(f, Buffer.from([0x49, 0x49, 0x2a, 0x00, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
    const out = outPath();
    const r = await runCli("convert", f, out);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, new RegExp(`^geozarr: error: ${f}: not a readable TIFF: `));
    nothingLeft(out);
  });

  it("a truncated file: exit 3 at the first missing tile, read on a worker; nothing left", async () => {
    const out = outPath();
    const r = await runCli("convert", tif("truncated.tif"), out, "--workers", "2");
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      new RegExp(
        `${tif("truncated.tif")}: truncated file: tile \\d+ of IFD 0 needs bytes \\d+-\\d+ but the file ends at \\d+$`,
      ),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    nothingLeft(out);
  });

  it("a tile table shorter than the image: exit 3 naming the counts, read on a worker; nothing left", async () => {
    const out = outPath();
    const r = await runCli("convert", tif("short_tile_table.tif"), out, "--workers", "2");
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      `geozarr: error: ${tif("short_tile_table.tif")}: IFD 0: 3 TileOffsets and 3 TileByteCounts for the 4 tiles of a 410 x 300 image`,
    );
    nothingLeft(out);
  });

  it("options that do not apply: exit 2", async () => {
    const r1 = await runCli("convert", tif("uint16_meta.tif"), outPath(), "--unpack", "float32");
    expect(r1.code).toBe(2);
    expectOneLine(
      r1.stderr,
      `--unpack applies to NetCDF input, not to the GeoTIFF ${tif("uint16_meta.tif")}`,
      "convert",
    );
    const r2 = await runCli("convert", tif("uint16_meta.tif"), outPath(), "--chunks", "lat=256");
    expect(r2.code).toBe(2);
    expectOneLine(r2.stderr, '--chunks: no dimension named "lat" (dimensions: band, x, y)', "convert");
    const nc = join(inject("netcdfFiles"), "classic.nc");
    const r3 = await runCli("convert", nc, outPath(), "--bands-as-variables");
    expect(r3.code).toBe(2);
    expectOneLine(r3.stderr, "--bands-as-variables applies to GeoTIFF input", "convert");
  });

  it("a rotated grid cannot have multiscale levels: exit 3, nothing left", async () => {
    const out = outPath();
    const r = await runCli("convert", tif("rotated.tif"), out, "--multiscales");
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /a rotated grid \(spatial:transform \[25,10,500000,8,-25,5200000\]\): multiscale levels need rows and columns along Y and X$/,
    );
    nothingLeft(out);
  });
});
