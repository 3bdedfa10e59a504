/**
 * The one conventions module (src/geo/conventions.ts): the declarations we write are the official
 * v0.1 schemas' constants; every older form is recognised (by UUID, schema_url or spec_url) and
 * upgraded; the multiscales layout is built one way for every producer. And real-world documents
 * read as they should: old declarations warned about, nothing else wrong.
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CONVENTIONS,
  declare,
  identify,
  MULTISCALES_CONVENTION,
  multiscalesAttribute,
  PROJ_CONVENTION,
  SPATIAL_CONVENTION,
} from "../../src/geo/conventions.js";
import { validateStore } from "../../src/validate/validate.js";
import type { JsonObject } from "../../src/zarr/json.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";

const schema = (name: string) =>
  JSON.parse(readFileSync(resolve(`data/zarr-conventions/${name}-v0.1.schema.json`), "utf8"));
const fixture = (name: string) => readFileSync(resolve("test/fixtures/conventions", name), "utf8");

const CF = {
  uuid: "77c308c7-4db2-4774-8b2d-aa37e9997db6",
  name: "CF",
  schema_url: "https://raw.githubusercontent.com/zarr-conventions/CF/refs/tags/v1/schema.json",
};

describe("the declarations geozarr writes", () => {
  it.each([
    ["proj", PROJ_CONVENTION],
    ["spatial", SPATIAL_CONVENTION],
    ["multiscales", MULTISCALES_CONVENTION],
  ])("%s: every field is the official v0.1 schema's constant", (name, cmo) => {
    const props = schema(name).$defs.conventionMetadata.properties as Record<string, { const: string }>;
    expect(Object.keys(cmo).sort()).toEqual(Object.keys(props).sort());
    for (const [k, v] of Object.entries(props)) expect(cmo[k], k).toBe(v.const);
    expect(cmo.schema_url).toBe(schema(name).$id);
  });
});

describe("identify", () => {
  const uuid = PROJ_CONVENTION.uuid as string;
  it.each([
    ["v0.1", PROJ_CONVENTION, "v0.1", true, "uuid"],
    [
      "the v1 tag of zarr-experimental/geo-proj",
      {
        uuid,
        name: "proj:",
        schema_url: "https://raw.githubusercontent.com/zarr-experimental/geo-proj/refs/tags/v1/schema.json",
      },
      "v1",
      false,
      "uuid",
    ],
    [
      "zarr-cm's commit-pinned URL, without a uuid",
      {
        schema_url:
          "https://raw.githubusercontent.com/zarr-conventions/spatial/f5c536b9a3386e4127e3d2426dcefeebe6e5bf1a/schema.json",
        name: "spatial:",
      },
      "commit f5c536b",
      false,
      "schema_url",
    ],
    [
      "a spec_url on main, nothing else",
      { spec_url: "https://github.com/zarr-conventions/multiscales/blob/main/README.md" },
      "main",
      false,
      "spec_url",
    ],
    ["a uuid alone", { uuid }, "unknown", false, "uuid"],
  ])("%s", (_, cmo, version, current, by) => {
    const d = identify(cmo as JsonObject);
    expect(d).not.toBeNull();
    expect({ version: d!.version, current: d!.current, by: d!.by }).toEqual({ version, current, by });
  });

  it("never identifies by name, and leaves other conventions alone", () => {
    expect(identify({ name: "proj" })).toBeNull();
    expect(identify(CF)).toBeNull();
    // uuid first: a foreign uuid with our schema_url is not ours
    expect(identify({ uuid: CF.uuid, schema_url: PROJ_CONVENTION.schema_url as string })).toBeNull();
    expect(identify("proj")).toBeNull();
  });
});

describe("declare", () => {
  it("upgrades older forms to v0.1, keeps each convention once and other conventions as they are", () => {
    const old = {
      uuid: SPATIAL_CONVENTION.uuid as string,
      name: "spatial:",
      schema_url: "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
    };
    expect(declare([old, CF, { uuid: SPATIAL_CONVENTION.uuid as string }], [PROJ_CONVENTION])).toEqual([
      SPATIAL_CONVENTION,
      CF,
      PROJ_CONVENTION,
    ]);
    expect(declare(undefined, [MULTISCALES_CONVENTION])).toEqual([MULTISCALES_CONVENTION]);
  });

  it("knows the three conventions by their schemas' UUIDs", () => {
    for (const c of CONVENTIONS)
      expect(c.uuid).toBe(schema(c.name).$defs.conventionMetadata.properties.uuid.const);
  });
});

describe("multiscalesAttribute", () => {
  it("level 0 is the identity; each next level derives from the one before, with the exact scale", () => {
    // GDAL-sized levels over one extent (17999 rows -> 9000 -> 4500), and an overview-style level
    // whose cells are exactly twice as large but which overhangs the extent.
    const levels = [
      { asset: "0", shape: [17999, 36000], affine: [0.01, 0, -180, 0, 0.01, -90] },
      { asset: "1", shape: [9000, 18000], affine: [0.02, 0, -180, 0, (0.01 * 17999) / 9000, -90] },
      {
        asset: "2",
        shape: [4500, 9000],
        affine: [0.04, 0, -180, 0, (0.01 * 17999) / 4500, -90],
        resampling: "mode",
      },
      { asset: "3", shape: [2251, 4500], affine: [0.08, 0, -180, 0, 0.08, -90] },
    ];
    const ms = multiscalesAttribute(levels, "average", { tile_matrix_set: "WebMercatorQuad" });
    expect(ms.tile_matrix_set).toBe("WebMercatorQuad");
    expect(ms.resampling_method).toBe("average");
    const layout = ms.layout as JsonObject[];
    expect(layout[0]).toEqual({
      asset: "0",
      transform: { scale: [1, 1], translation: [0, 0] },
      "spatial:shape": [17999, 36000],
      "spatial:transform": [0.01, 0, -180, 0, 0.01, -90],
    });
    expect(layout[1]).toMatchObject({
      derived_from: "0",
      transform: { scale: [17999 / 9000, 2], translation: [0, 0] },
      resampling_method: "average",
    });
    expect(layout[2]).toMatchObject({
      derived_from: "1",
      transform: { scale: [2, 2] },
      resampling_method: "mode",
    });
    // Not the same extent: the cell ratio, without float noise.
    expect((layout[3]!.transform as JsonObject).scale).toEqual([
      Number((0.08 / ((0.01 * 17999) / 4500)).toPrecision(15)),
      2,
    ]);
    // Each entry's grid is the level's own.
    levels.forEach((l, k) => {
      expect(layout[k]!["spatial:shape"]).toEqual(l.shape);
      expect(layout[k]!["spatial:transform"]).toEqual(l.affine);
    });
  });
});

/** A store holding one real-world document at its root (and nothing else). */
function storeOf(doc: string): MemoryStore {
  return new MemoryStore([["/zarr.json", new TextEncoder().encode(doc)]]);
}
const CONVENTION_RULES = ["GC-01", "GC-02", "GC-03", "GC-04", "GC-06", "GC-07", "GC-11"];

describe("real-world documents", () => {
  it.each(["spatial_proj.json", "spatial_multiscales.json"])(
    "%s (v0.1 declarations): nothing to report",
    async (name) => {
      const r = await validateStore(storeOf(fixture(name)), name, { rules: CONVENTION_RULES });
      expect(r.findings).toEqual([]);
      const declared = Object.values(r.conventions)[0]!;
      expect(declared.every((d) => d.version === "v0.1" && d.current)).toBe(true);
    },
  );

  it.each(["multiscales_sentinel-2-multiresolution.json", "multiscales_dem-multiresolution.json"])(
    "%s (v1 declarations): read, one warning per declaration with the v0.1 fix",
    async (name) => {
      const r = await validateStore(storeOf(fixture(name)), name, { rules: CONVENTION_RULES });
      expect(r.summary.errors).toBe(0);
      expect(r.findings.map((f) => [f.rule, f.pointer])).toEqual([
        ["GC-03", "/attributes/zarr_conventions/0"],
        ["GC-03", "/attributes/zarr_conventions/1"],
        ["GC-03", "/attributes/zarr_conventions/2"],
      ]);
      expect(r.findings[1]!.message).toMatch(
        /^proj is declared in the v1 form .*zarr-experimental\/geo-proj is the convention's former home/,
      );
      expect(r.conventions["/"]!.map((d) => `${d.name} ${d.version}`)).toEqual([
        "multiscales v1",
        "proj v1",
        "spatial v1",
      ]);
    },
  );

  it("proj:code takes v0.1's pattern: OGC:CRS84 and IAU_2015:30100 are codes, 4326 is not", async () => {
    const doc = JSON.parse(fixture("spatial_proj.json"));
    for (const [code, ok] of [
      ["OGC:CRS84", true],
      ["IAU_2015:30100", true],
      ["EPSG:4326", true],
      ["4326", false],
      ["EPSG:4326:2", false],
    ] as const) {
      doc.attributes["proj:code"] = code;
      const r = await validateStore(storeOf(JSON.stringify(doc)), "s", { rules: ["GC-04"] });
      expect(
        r.findings.map((f) => f.message),
        code,
      ).toEqual(ok ? [] : ['proj v0.1 schema: proj:code must match pattern "^[^:]+:[^:]+$"']);
    }
  });
});
