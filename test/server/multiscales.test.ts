/**
 * The inspector's API on stores with multiscale levels (issue 6): the finest level's arrays are the
 * layers, coarser ones are not listed twice; a v3 (zarr-conventions) pyramid is drawn straight from
 * the store with its packing, a v2 (GeoZarr v0.4) one through a display overview of a level.
 */

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convert } from "../../src/jobs/convert.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { addLevels } from "../../src/pyramid/build.js";
import { type RunningServer, startServer } from "../../src/server/app.js";
import { drawableLevel, type LayerList, type OverviewRef } from "../../src/server/layers.js";
import { request } from "../helpers/http.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("server-ms");
const pool = new WorkerPool(2);
let v3: RunningServer;
let v2: RunningServer;
let wm: RunningServer;

beforeAll(async () => {
  const base = { workers: 0, requireStandardName: true } as const;
  const s3 = join(dir, "p3.zarr");
  await convert("examples/data/mur_small.nc", s3, { ...base, zarrFormat: 3 });
  await addLevels(s3, { tileSize: 256, workers: 0 });
  const s2 = join(dir, "p2.zarr");
  await convert("examples/data/mur_small.nc", s2, {
    ...base,
    zarrFormat: 2,
    multiscales: { tileSize: 256, workers: 0 },
  });
  const sw = join(dir, "wm.zarr");
  await convert("examples/data/mur_small.nc", sw, { ...base, zarrFormat: 3 });
  await addLevels(sw, { tms: "WebMercatorQuad", tileSize: 256, workers: 0 });
  wm = await startServer({ store: sw, pool, port: 0 });
  v3 = await startServer({ store: s3, pool, port: 0 });
  v2 = await startServer({ store: s2, pool, port: 0 });
}, 120_000);

afterAll(async () => {
  await v3?.close();
  await v2?.close();
  await wm?.close();
  await pool.close();
});

describe("multiscale stores in the inspector", () => {
  it("lists the finest level's variables with their levels, and skips the coarser copies", async () => {
    const list = (await request(v3.url, "/api/layers")).json<LayerList>();
    expect(list.layers.map((l) => l.path)).toEqual(["/0/analysed_sst", "/0/sea_ice_fraction"]);
    expect(list.layers[0]!.levels!.map((l) => l.shape)).toEqual([
      [719, 1440],
      [360, 720],
      [180, 360],
      [90, 180],
    ]);
    expect(list.layers[0]!.multiscaleGroup).toBe("/");
    expect(list.skipped.filter((s) => s.path.endsWith("/analysed_sst")).map((s) => s.path)).toEqual([
      "/1/analysed_sst",
      "/2/analysed_sst",
      "/3/analysed_sst",
    ]);
  });

  it("draws a v3 pyramid from the store itself, with the packing and a stretch from a small level", async () => {
    const ov = (await request(v3.url, "/api/overview?path=/0/analysed_sst&sel=time:0")).json<OverviewRef>();
    expect(ov.source).toBe("store");
    expect(ov.url).toBe("/store");
    expect(ov.variable).toBe("analysed_sst");
    expect(ov.packing).toEqual({ scale: 0.001, offset: 298.15 });
    expect(ov.dimensions).toEqual({ time: 0 });
    expect(ov.levels.map((l) => l.factor)).toEqual([1, 2, 4, 8]);
    expect(ov.p2!).toBeGreaterThan(270);
    expect(ov.p98!).toBeLessThan(310);
    expect(ov.p2!).toBeLessThan(ov.p98!);
    // The client then reads the store's own documents.
    const root = (await request(v3.url, "/store/zarr.json")).json<{ attributes: { multiscales: unknown } }>();
    expect(root.attributes.multiscales).toBeDefined();
  });

  it("draws a v2 pyramid through a display overview built from a level", async () => {
    const list = (await request(v2.url, "/api/layers")).json<LayerList>();
    expect(list.layers[0]!.levels).toHaveLength(4);
    expect(list.layers[0]!.multiscaleGroup).toBeNull();
    const ov = (await request(v2.url, "/api/overview?path=/0/analysed_sst&sel=time:0")).json<OverviewRef>();
    expect(ov.source).toBe("overview");
    expect(ov.url).toMatch(/^\/overview\/[0-9a-f]{32}$/);
    expect(ov.packing).toBeNull();
  });

  it("draws WebMercatorQuad levels (EPSG:3857, unlike the root's EPSG:4326) through a server overview", async () => {
    const list = (await request(wm.url, "/api/layers")).json<LayerList>();
    const sst = list.layers.find((l) => l.path === "/2/analysed_sst")!;
    expect(sst.crs?.code).toBe("EPSG:3857");
    expect(sst.levels!.map((l) => l.shape)).toEqual([
      [1024, 1024],
      [512, 512],
      [256, 256],
    ]);
    expect(sst.multiscaleGroup).toBeNull();
    // The dataset at the root is a layer of its own.
    expect(list.layers.some((l) => l.path === "/analysed_sst")).toBe(true);
    const ov = (await request(wm.url, "/api/overview?path=/2/analysed_sst&sel=time:0")).json<OverviewRef>();
    expect(ov.source).toBe("overview");
  });

  it("picks the finest level small enough to reduce on the server", () => {
    const levels = [
      { path: "/0/v", shape: [17999, 36000] as [number, number] },
      { path: "/1/v", shape: [9000, 18000] as [number, number] },
      { path: "/2/v", shape: [4500, 9000] as [number, number] },
      { path: "/3/v", shape: [2250, 4500] as [number, number] },
    ];
    expect(drawableLevel(levels)).toBe("/3/v");
    expect(drawableLevel(levels.slice(0, 2))).toBe("/1/v");
  });
});
