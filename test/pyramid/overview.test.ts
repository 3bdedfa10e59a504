/**
 * Display overviews: values of every level against a brute-force NaN-aware average of the
 * north-up physical plane, on grids whose chunks do not line up with the reduction factor, and
 * the multiscales layout a map client reads.
 */

import { describe, expect, it } from "vitest";
import { WorkerPool } from "../../src/parallel/pool.js";
import { readRegion } from "../../src/parallel/read-region.js";
import { baseFactor, buildOverview, planLevels } from "../../src/pyramid/overview.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { isJsonObject, type JsonObject } from "../../src/zarr/json.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";
import { type GridStore, gridStore, northUpPlane } from "../helpers/grid-store.js";

const pool = new WorkerPool(0);

function nanMean(plane: Float64Array, rows: number, cols: number, f: number): Float64Array {
  const oR = Math.ceil(rows / f);
  const oC = Math.ceil(cols / f);
  const out = new Float64Array(oR * oC);
  for (let i = 0; i < oR; i++)
    for (let j = 0; j < oC; j++) {
      let s = 0;
      let n = 0;
      for (let r = i * f; r < Math.min(rows, (i + 1) * f); r++)
        for (let c = j * f; c < Math.min(cols, (j + 1) * f); c++) {
          const v = plane[r * cols + c]!;
          if (!Number.isNaN(v)) {
            s += v;
            n++;
          }
        }
      out[i * oC + j] = n ? s / n : Number.NaN;
    }
  return out;
}

async function level(out: MemoryStore, asset: string): Promise<Float32Array> {
  const h = await openHierarchy(out, { name: "overview" });
  return (await readRegion(h, `/${asset}/sst`, pool)).data as Float32Array;
}

function expectClose(got: Float32Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i]!)) expect(got[i], `cell ${i}`).toBeNaN();
    else expect(Math.abs(got[i]! - want[i]!), `cell ${i}`).toBeLessThan(1e-4);
  }
}

async function build(g: GridStore, index: number[], opts: { maxSide?: number; tile?: number } = {}) {
  const h = await openHierarchy(g.store, { name: "grid" });
  const out = new MemoryStore();
  const summary = await buildOverview(h, "/sst", index, pool, out, opts);
  return { out, summary };
}

describe("buildOverview", () => {
  it("level 0 is the NaN-aware average of the north-up physical plane, across unaligned chunks", async () => {
    // 100 x 130 cells in 33 x 47 chunks, reduced by 8: cells straddle chunk edges in both axes.
    const g = await gridStore({ rows: 100, cols: 130, chunks: [33, 47], times: 2 });
    const { out, summary } = await build(g, [1, 0, 0], { maxSide: 17, tile: 8 });
    expect(summary.levels.map((l) => l.factor)).toEqual([8, 16, 32]);
    expect(summary.levels.map((l) => l.shape)).toEqual([
      [13, 17],
      [7, 9],
      [4, 5],
    ]);
    const plane = northUpPlane(g, 1);
    expectClose(await level(out, "0"), nanMean(plane, 100, 130, 8));
    // Level 1 from level 0 (each a plain NaN-aware mean of 2 x 2 level-0 cells).
    const l0 = Float64Array.from(await level(out, "0"));
    expectClose(await level(out, "1"), nanMean(l0, 13, 17, 2));
  });

  it("keeps a north-up grid as it is, and reads the plane asked for", async () => {
    const g = await gridStore({ rows: 40, cols: 50, chunks: [16, 16], times: 3, southUp: false });
    const { out, summary } = await build(g, [2, 0, 0], { maxSide: 64, tile: 16 });
    expect(summary.levels[0]!.factor).toBe(1);
    expectClose(await level(out, "0"), northUpPlane(g, 2));
    expect(summary.levels[0]!.affine).toEqual([1, 0, -25, 0, -1, 20]);
  });

  it("writes the multiscales layout (zarr-conventions) with north-up transforms and the CRS", async () => {
    const g = await gridStore({ rows: 100, cols: 130, chunks: [33, 47] });
    const { out, summary } = await build(g, [0, 0, 0], { maxSide: 33, tile: 16 });
    const root = JSON.parse(new TextDecoder().decode(out.map.get("/zarr.json")!)) as JsonObject;
    const a = root.attributes as JsonObject;
    expect((a.zarr_conventions as JsonObject[]).map((c) => c.uuid)).toContain(
      "d35379db-88df-4056-af3a-620245f8e347",
    );
    expect(a["proj:code"]).toBe("EPSG:4326");
    expect(a["spatial:bbox"]).toEqual([-65, -50, 65, 50]);
    const layout = (a.multiscales as JsonObject).layout as JsonObject[];
    expect(layout.map((l) => l.asset)).toEqual(["0", "1", "2"]);
    expect(layout[1]).toMatchObject({ derived_from: "0", transform: { scale: [2, 2], translation: [0, 0] } });
    // South-up source: the top edge is the northern edge, the row step negative.
    expect(layout[0]!["spatial:transform"]).toEqual([4, 0, -65, 0, -4, 50]);
    expect(layout[2]!["spatial:shape"]).toEqual([7, 9]);
    expect(isJsonObject(root.consolidated_metadata)).toBe(true);
    expect(summary.min).toBeLessThanOrEqual(summary.p2!);
    expect(summary.p98).toBeLessThanOrEqual(summary.max!);
  });

  it("picks the base factor so the finest level is at most maxSide a side", () => {
    expect(baseFactor(17999, 36000)).toBe(8);
    expect(baseFactor(719, 1440)).toBe(1);
    const levels = planLevels(17999, 36000, [0.01, 0, -180, 0, -0.01, 90], 8);
    expect(levels.map((l) => l.shape)).toEqual([
      [2250, 4500],
      [1125, 2250],
      [563, 1125],
      [282, 563],
      [141, 282],
    ]);
  });

  it("refuses an index outside a dimension", async () => {
    const g = await gridStore({ rows: 10, cols: 10, chunks: [5, 5] });
    await expect(build(g, [3, 0, 0])).rejects.toThrow(/index 3 is outside dimension 0 \(size 1\)/);
  });
});
