/**
 * geozarr reads the Zarr v2 stores GDAL (gdal_translate, Zarr driver) and netCDF-C (nccopy to
 * NCZarr and to pure Zarr) write from the bundled sample, with the values another reader sees:
 * zarr-python for GDAL's store, netCDF4-python on the source file for nccopy's.
 */

import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/node.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { readRegion } from "../../src/parallel/read-region.js";
import { firstDifference } from "../helpers/fixtures.js";
import { python } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const dir = tmpDir("gdal");
const pool = new WorkerPool(2);
afterAll(() => pool.close());

/** Raw values of an array as another reader sees them, as float64 (JSON-safe via base64 of f8). */
function pythonValues(code: string, args: string[]): Float64Array {
  const b64 = python(
    `import sys, base64, numpy as np\n${code}\nsys.stdout.write(base64.b64encode(np.ascontiguousarray(v, dtype="<f8").tobytes()).decode())`,
    args,
  );
  const buf = Buffer.from(b64, "base64");
  return new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
}

describe("GDAL's Zarr driver output", () => {
  const store = join(dir, "gdal.zarr");
  beforeAll(() => {
    execFileSync("gdal_translate", [
      "-q",
      "-of",
      "Zarr",
      "-co",
      "FORMAT=ZARR_V2",
      "-co",
      "COMPRESS=ZSTD",
      "-co",
      "BLOCKSIZE=256,512",
      `NETCDF:${SAMPLE}:analysed_sst`,
      store,
    ]);
  });

  it("opens, with GDAL's array, coordinates and dimension names", async () => {
    const h = await openStore(store);
    expect([...h.nodes.keys()]).toEqual(["/", "/X", "/Y", "/gdal"]);
    const m = h.nodes.get("/gdal")!.meta;
    expect(m.kind === "array" && [m.shape, m.chunkShape, m.dataType, m.fillValue, m.dimensionNames]).toEqual([
      [719, 1440],
      [256, 512],
      "int16",
      -32768,
      ["Y", "X"],
    ]);
  });

  it("reads the values zarr-python reads", async () => {
    const h = await openStore(store);
    const { data } = await readRegion(h, "/gdal", pool);
    const want = pythonValues(`import zarr\nv = zarr.open(sys.argv[1], mode="r")["gdal"][...]`, [store]);
    expect(firstDifference(Float64Array.from(data as Int16Array), want)).toBe(-1);
  });
});

describe.each(["nczarr", "zarr"])("nccopy output in #mode=%s", (mode) => {
  const store = join(dir, `nccopy-${mode}.zarr`);
  beforeAll(() => {
    execFileSync("nccopy", ["-c", "time/1,lat/256,lon/512", SAMPLE, `file://${store}#mode=${mode},file`]);
  });

  it("reads every variable with the values netCDF4-python reads from the source", async () => {
    const h = await openStore(store);
    expect([...h.nodes.keys()]).toEqual([
      "/",
      "/analysed_sst",
      "/analysis_error",
      "/lat",
      "/lon",
      "/mask",
      "/sea_ice_fraction",
      "/time",
    ]);
    for (const name of ["analysed_sst", "mask", "lat", "time"]) {
      const { data } = await readRegion(h, `/${name}`, pool);
      const want = pythonValues(
        `import netCDF4\nd = netCDF4.Dataset(sys.argv[1])\nd.set_auto_maskandscale(False)\nv = d[sys.argv[2]][...]`,
        [SAMPLE, name],
      );
      expect(firstDifference(Float64Array.from(data as Float32Array), want), name).toBe(-1);
    }
  });
});
