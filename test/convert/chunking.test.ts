/**
 * The default chunk shape (issue 11, item 5): X/Y at 4096 (MUR's 1 x 4096 x 4096 kept), the other
 * dimensions filled towards 8 MiB instead of one value per chunk along each of them.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultChunkShape, TARGET_CHUNK_BYTES } from "../../src/convert/options.js";
import { convert } from "../../src/node.js";
import { python } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("chunking");

describe("defaultChunkShape", () => {
  const yx =
    (...axes: number[]) =>
    (d: number) =>
      axes.includes(d);

  it("keeps MUR's 1 x 4096 x 4096 (a spatial chunk already beyond the target)", () => {
    expect(defaultChunkShape([10, 17999, 36000], 2, yx(1, 2), 4096)).toEqual([1, 4096, 4096]);
    expect(defaultChunkShape([10, 17999, 36000], 4, yx(1, 2), 4096)).toEqual([1, 4096, 4096]);
  });

  it("gives a small grid whole time steps up to the target", () => {
    expect(defaultChunkShape([3, 20, 30], 4, yx(1, 2), 4096)).toEqual([3, 20, 30]);
    // 8760 hourly 100 x 100 float32 steps: 40 KB each, 209 per chunk
    expect(defaultChunkShape([8760, 100, 100], 4, yx(1, 2), 4096)).toEqual([209, 100, 100]);
  });

  it("fills a swath (no X/Y) from its innermost dimension outwards", () => {
    expect(defaultChunkShape([3164, 82], 2, yx(), 4096)).toEqual([3164, 82]);
    const big = defaultChunkShape([10_000_000, 82], 2, yx(), 4096);
    expect(big).toEqual([Math.floor(TARGET_CHUNK_BYTES / 164), 82]);
    // a partial dimension stops the growth: the outer ones stay 1
    expect(defaultChunkShape([5, 4_000_000, 3], 4, yx(), 4096)).toEqual([1, 699050, 3]);
  });

  it("puts depth and time on either side of Y/X within the target", () => {
    expect(defaultChunkShape([12, 50, 180, 360], 4, yx(2, 3), 4096)).toEqual([1, 32, 180, 360]);
  });
});

describe("convert: a swath like ASCAT's (nc4py issue671.nc) is a few chunks, not one per value", () => {
  it("3164 x 82 soil moisture: one chunk, values equal", async () => {
    const src = join(dir, "swath.nc");
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("numRows", 3164); ds.createDimension("numCells", 82)
    v = ds.createVariable("soil_moisture", "i2", ("numRows", "numCells"), fill_value=np.int16(-1))
    v.scale_factor = np.float32(0.01); v.standard_name = "soil_moisture_percentage"
    v.set_auto_maskandscale(False)
    v[:] = (np.arange(3164 * 82) % 10000).reshape(3164, 82).astype("i2")
`,
      [src],
    );
    const out = join(dir, "swath.zarr");
    const s = await convert(src, out, { zarrFormat: 2, workers: 0 });
    const a = s.arrays.find((x) => x.path === "/soil_moisture")!;
    expect(a.chunks).toEqual([3164, 82]);
    expect(a.chunksWritten).toBe(1);
    expect(JSON.parse(readFileSync(join(out, "soil_moisture", ".zarray"), "utf8")).chunks).toEqual([
      3164, 82,
    ]);
    const same = python(
      `import sys, numpy as np, xarray as xr
a = xr.open_dataset(sys.argv[1]).soil_moisture.values; b = xr.open_zarr(sys.argv[2]).soil_moisture.values
print(bool(np.array_equal(a, b, equal_nan=True)))`,
      [src, out],
    );
    expect(same.trim()).toBe("True");
  });
});
