/**
 * Georeferencing read three ways (spatial: convention, GDAL GeoTransform, coordinate variables)
 * gives the same grid; stores without a grid are reported as such, not guessed.
 */

import { describe, expect, it } from "vitest";
import { georeference } from "../../src/geo/georef.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { gridStore } from "../helpers/grid-store.js";
import { sampleStore } from "../helpers/stores.js";

describe("georeference", () => {
  it.each(["coordinates", "spatial", "geotransform"] as const)("reads the grid from %s", async (georef) => {
    const g = await gridStore({ rows: 20, cols: 30, chunks: [10, 10], georef, step: 0.5 });
    const h = await openHierarchy(g.store);
    const r = await georeference(h, "/sst");
    expect(r).not.toBeNull();
    expect({ y: r!.yAxis, x: r!.xAxis, yDim: r!.yDim, xDim: r!.xDim }).toEqual({
      y: 1,
      x: 2,
      yDim: "lat",
      xDim: "lon",
    });
    // South-up: the origin is the southern edge and the row step positive.
    expect(r!.affine).toEqual([0.5, 0, -7.5, 0, 0.5, -5]);
    expect(r!.bbox).toEqual([-7.5, -5, 7.5, 5]);
    expect(r!.crs?.code).toBe("EPSG:4326");
    expect(r!.crs?.assumed).toBe(georef === "coordinates");
    expect(r!.source).toBe(
      georef === "spatial" ? "spatial:transform" : georef === "geotransform" ? "GeoTransform" : "coordinates",
    );
  });

  it("reads the converted sample: lat/lon coordinates and the spatial_ref grid mapping", async () => {
    for (const zarrFormat of [2, 3] as const) {
      const h = await openHierarchy(await sampleStore({ zarrFormat }));
      const r = await georeference(h, "/analysed_sst");
      expect(r!.crs).toMatchObject({ code: "EPSG:4326", geographic: true, assumed: false });
      expect(r!.bbox).toEqual([-179.875, -89.875, 180.125, 89.875]);
      expect(r!.affine[4]).toBe(0.25);
    }
  });

  it("returns null for 1-D arrays and grids without coordinates", async () => {
    const g = await gridStore({ rows: 4, cols: 4, chunks: [4, 4], georef: "geotransform" });
    const h = await openHierarchy(g.store);
    expect(await georeference(h, "/time")).toBeNull();
    const bare = await gridStore({ rows: 4, cols: 4, chunks: [4, 4], georef: "coordinates" });
    bare.store.map.delete("/lat/zarr.json");
    const h2 = await openHierarchy(bare.store, { consolidated: "ignore" });
    expect(await georeference(h2, "/sst")).toBeNull();
  });
});
