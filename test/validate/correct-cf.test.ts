/**
 * Rules that gave errors on correct CF (issue 11, found by bench/corpus/validate.mjs on xarray's,
 * rioxarray's and our outputs of real files): each construct CF allows passes, and the defect the
 * rule is for still fails. Small v2 stores written by our writer, one construct each.
 */

import { describe, expect, it } from "vitest";
import { validateStore } from "../../src/validate/validate.js";
import type { DataType } from "../../src/zarr/dtype.js";
import type { FillValue } from "../../src/zarr/fill-value.js";
import type { JsonObject } from "../../src/zarr/json.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";
import { HierarchyWriter } from "../../src/zarr/write/writer.js";

interface Arr {
  path: string;
  shape: number[];
  dims: string[];
  attrs?: JsonObject;
  dataType?: DataType;
  fill?: FillValue;
}

async function store(format: 2 | 3, rootAttrs: JsonObject, arrays: Arr[]): Promise<MemoryStore> {
  const s = new MemoryStore();
  const w = new HierarchyWriter(s, format);
  await w.group("/", { Conventions: "CF-1.11", ...rootAttrs });
  for (const a of arrays)
    await w.array(a.path, {
      shape: a.shape,
      chunkShape: a.shape.map((n) => Math.max(1, n)),
      dataType: a.dataType ?? "float32",
      fillValue: a.fill === undefined ? Number.NaN : a.fill,
      dimensionNames: a.dims,
      attributes: a.attrs ?? {},
      codec: { name: "none" },
    });
  await w.consolidate();
  return s;
}

const findings = async (s: MemoryStore, rule: string) =>
  (await validateStore(s, "s", { rules: [rule] })).findings.map((f) => `${f.path}: ${f.message}`);

describe("CF that the rules used to call errors", () => {
  it("CF-03: geostationary x/y as projection_x/y_coordinate in radians (CF <= 1.8, GOES-R ABI) pass; in metres elsewhere only", async () => {
    const grid = (mapping: string) =>
      store(2, {}, [
        {
          path: "/x",
          shape: [3],
          dims: ["x"],
          attrs: { standard_name: "projection_x_coordinate", units: "rad" },
        },
        {
          path: "/y",
          shape: [2],
          dims: ["y"],
          attrs: { standard_name: "projection_y_coordinate", units: "rad" },
        },
        {
          path: "/imager_projection",
          shape: [],
          dims: [],
          dataType: "int32",
          fill: null,
          attrs: { grid_mapping_name: mapping },
        },
        {
          path: "/HT",
          shape: [2, 3],
          dims: ["y", "x"],
          attrs: { standard_name: "geopotential_height", units: "m", grid_mapping: "imager_projection" },
        },
      ]);
    expect(await findings(await grid("geostationary"), "CF-03")).toEqual([]);
    expect(await findings(await grid("lambert_conformal_conic"), "CF-03")).toEqual([
      '/x: units "rad" are not convertible to "m", the canonical units of projection_x_coordinate',
      '/y: units "rad" are not convertible to "m", the canonical units of projection_y_coordinate',
    ]);
  });

  it("CF-05: a time dimension of size 1 needs no coordinate variable (CF §5); of size 2 it does", async () => {
    const s = (n: number) =>
      store(2, {}, [
        {
          path: "/tas",
          shape: [n, 2],
          dims: ["time", "k"],
          attrs: { standard_name: "air_temperature", units: "K" },
        },
      ]);
    expect(await findings(await s(1), "CF-05")).toEqual([]);
    expect(await findings(await s(2), "CF-05")).toEqual([
      '/tas: dimension "time" has no coordinate variable',
    ]);
  });

  it("CF-06: a ragged-array discrete sampling geometry (CF §9.3) names coordinates of its instance dimension", async () => {
    const dsg = (root: JsonObject) =>
      store(2, root, [
        {
          path: "/lat",
          shape: [2],
          dims: ["profile"],
          attrs: { standard_name: "latitude", units: "degrees_north" },
        },
        {
          path: "/lon",
          shape: [2],
          dims: ["profile"],
          attrs: { standard_name: "longitude", units: "degrees_east" },
        },
        {
          path: "/parentIndex",
          shape: [4],
          dims: ["obs"],
          dataType: "int32",
          fill: null,
          attrs: { instance_dimension: "profile" },
        },
        {
          path: "/temp",
          shape: [4],
          dims: ["obs"],
          attrs: { standard_name: "sea_water_temperature", units: "K", coordinates: "lon lat" },
        },
      ]);
    expect(await findings(await dsg({ featureType: "profile" }), "CF-06")).toEqual([]);
    // Without featureType the same attributes are an error.
    expect(await findings(await dsg({}), "CF-06")).toHaveLength(2);
  });

  it("G4-04: boundary variables (CF §7.1) need no standard_name; data variables do", async () => {
    const s = await store(2, {}, [
      {
        path: "/lat",
        shape: [2],
        dims: ["lat"],
        attrs: { standard_name: "latitude", units: "degrees_north", bounds: "lat_bnds" },
      },
      { path: "/lat_bnds", shape: [2, 2], dims: ["lat", "nv"] },
      { path: "/mask", shape: [2], dims: ["lat"], dataType: "int8", fill: null },
    ]);
    expect(await findings(s, "G4-04")).toEqual(["/mask: the variable has no standard_name"]);
  });

  it("CF-09: an int64 _FillValue beyond 2^53 is an int64 value (it made the rule crash); one beyond 2^63 is not", async () => {
    const s = (fill: bigint) =>
      store(3, {}, [
        {
          path: "/count",
          shape: [2],
          dims: ["k"],
          dataType: "int64",
          fill: -9223372036854775806n,
          attrs: { standard_name: "number_of_observations", units: "1", _FillValue: fill },
        },
      ]);
    expect(await findings(await s(-9223372036854775806n), "CF-09")).toEqual([]);
    expect(await findings(await s(2n ** 63n), "CF-09")).toEqual([
      "/count: _FillValue 9223372036854775808 is not a int64 value",
    ]);
  });

  it("CF-09: an integer literal beyond 2^53 (as other writers spell 1e20) is a float32 missing_value", async () => {
    const s = await store(3, {}, [
      {
        path: "/tas",
        shape: [2],
        dims: ["k"],
        attrs: { standard_name: "air_temperature", units: "K", missing_value: 100000000000000000000n },
      },
    ]);
    expect(await findings(s, "CF-09")).toEqual([]);
  });

  it("FV-05: packed integers without a fill (no missing values, as CF allows) are a warning, not an error", async () => {
    const s = await store(2, {}, [
      {
        path: "/t",
        shape: [2],
        dims: ["k"],
        dataType: "int16",
        fill: null,
        attrs: { standard_name: "air_temperature", units: "K", scale_factor: 0.01 },
      },
    ]);
    const report = await validateStore(s, "s", { rules: ["FV-05"] });
    expect(report.findings.map((f) => [f.rule, f.severity])).toEqual([["FV-05", "warning"]]);
  });
});
