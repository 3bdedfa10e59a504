/**
 * Every rule fires on a store that breaks it and stays quiet on the same store unbroken: the
 * bundled sample converted by geozarr (v2 and v3, packed and unpacked), then edited one document
 * at a time. And geozarr's own output passes with no errors and no warnings.
 */

import { describe, expect, it } from "vitest";
import { MULTISCALES_CONVENTION } from "../../src/geo/conventions.js";
import { RULES } from "../../src/validate/rules/index.js";
import { validateStore } from "../../src/validate/validate.js";
import { type JsonObject, parseJsonLenient, toStrictJson } from "../../src/zarr/json.js";
import type { MemoryStore } from "../../src/zarr/store/memory.js";
import { edit, type SampleOptions, sampleStore, setRaw } from "../helpers/stores.js";

type Breaker = {
  id: string;
  store: SampleOptions;
  severity?: string;
  brk(s: MemoryStore): void | Promise<void>;
  parity?: SampleOptions;
};

const V2: SampleOptions = { zarrFormat: 2 };
const V3: SampleOptions = { zarrFormat: 3 };
const V2F: SampleOptions = { zarrFormat: 2, unpack: "float64" };
const V3F: SampleOptions = { zarrFormat: 3, unpack: "float32" };
const a3 = (d: JsonObject) => d.attributes as JsonObject;
const del = (s: MemoryStore, ...keys: string[]) => {
  for (const k of keys) s.map.delete(k);
};

/** Delete a v2 node's documents and chunks, and its entries in .zmetadata (readers see those too). */
const delNode = (s: MemoryStore, ...keys: string[]) => {
  del(s, ...keys);
  const z = parseJsonLenient(s.map.get("/.zmetadata")!, "z").value as JsonObject;
  for (const k of keys) delete (z.metadata as JsonObject)[k.slice(1)];
  setRaw(s, "/.zmetadata", toStrictJson(z));
};

const BREAKERS: Breaker[] = [
  {
    id: "ZJ-01",
    store: V2,
    brk: (s) =>
      setRaw(s, "/analysed_sst/.zattrs", '{"_ARRAY_DIMENSIONS": ["time", "lat", "lon"], "missing": NaN}'),
  },
  { id: "ZJ-02", store: V2, brk: (s) => del(s, "/.zgroup") },
  {
    id: "ZJ-03",
    store: V2,
    brk: (s) => setRaw(s, "/lat/zarr.json", '{"zarr_format": 3, "node_type": "group"}'),
  },
  // The reader refuses it: a document that does not parse, metadata it does not accept, a codec
  // it cannot build.
  {
    id: "ZR-01",
    store: V3,
    brk: (s) => setRaw(s, "/analysed_sst/zarr.json", '{"zarr_format": 3, "shape": [1,'),
  },
  {
    id: "ZR-02",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.chunk_key_encoding = { name: "v9" })),
  },
  {
    id: "ZR-03",
    store: V2,
    brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => (d.compressor = { id: "lzma", preset: 6 })),
  },
  { id: "Z2-01", store: V2, brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => delete d.order) },
  { id: "Z2-02", store: V2F, brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => (d.fill_value = "nan")) },
  {
    id: "Z2-03",
    store: V2,
    brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => (d.dimension_separator = "-")),
  },
  { id: "Z2-04", store: V2, brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => (d.extra = 1)) },
  { id: "Z2-05", store: V2, brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => (d.dtype = "i2")) },
  { id: "Z3-01", store: V3F, brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.fill_value = null)) },
  {
    id: "Z3-02",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.codecs as JsonObject[]).reverse()),
  },
  { id: "Z3-03", store: V3F, brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.fill_value = "nan")) },
  {
    id: "Z3-04",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.dimension_names = ["lat", "lon"])),
  },
  {
    id: "Z3-05",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.dimension_names = ["lat", "lat", "lon"])),
  },
  {
    id: "Z3-06",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.extension = { must_understand: true })),
  },
  {
    id: "Z3-07",
    store: V3,
    brk: (s) =>
      edit(
        s,
        "/analysed_sst/zarr.json",
        (d) => (((d.codecs as JsonObject[])[1]!.configuration as JsonObject).level = 99),
      ),
  },
  {
    id: "Z3-08",
    store: V3,
    brk: (s) =>
      setRaw(s, "/__hidden/zarr.json", '{"zarr_format": 3, "node_type": "group", "attributes": {}}'),
  },
  {
    id: "Z3-09",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (a3(d)._ARRAY_DIMENSIONS = ["time", "lat", "lon"])),
  },
  {
    id: "Z3-10",
    store: V3,
    brk: (s) =>
      edit(s, "/analysed_sst/zarr.json", (d) => (d.storage_transformers = [{ name: "chunk-manifest" }])),
  },
  { id: "ZC-01", store: V2, brk: (s) => del(s, "/.zmetadata") },
  { id: "ZC-02", store: V3, brk: (s) => edit(s, "/zarr.json", (d) => delete d.consolidated_metadata) },
  // A node the consolidated metadata does not list.
  { id: "ZC-03", store: V2, brk: (s) => setRaw(s, "/extra/.zgroup", '{"zarr_format": 2}') },
  {
    id: "ZC-04",
    store: V2,
    brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.units = "K"), { consolidated: false }),
  },
  { id: "G4-01", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => delete d._ARRAY_DIMENSIONS) },
  {
    id: "G4-02",
    store: V2,
    brk: (s) => edit(s, "/lat/.zattrs", (d) => (d._ARRAY_DIMENSIONS = ["latitude"])),
  },
  {
    id: "G4-03",
    store: V2,
    brk: (s) => edit(s, "/spatial_ref/.zattrs", (d) => (d._ARRAY_DIMENSIONS = ["crs"])),
  },
  { id: "G4-04", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => delete d.standard_name) },
  {
    id: "G4-05",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => delete a3(d).grid_mapping),
  },
  { id: "G4-06", store: V2, brk: (s) => edit(s, "/spatial_ref/.zattrs", (d) => (d.GeoTransform = "1 2 3")) },
  { id: "G4-07", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.units = "psu")) },
  {
    id: "G4-08",
    store: V2,
    brk: (s) => edit(s, "/sea_ice_fraction/.zattrs", (d) => (d.grid_mapping = "other_crs")),
  },
  {
    id: "G4-10",
    store: V2,
    brk: (s) => edit(s, "/spatial_ref/.zattrs", (d) => (d.GeoTransform = "-179.875 0.25 0 89.875 0 -0.25")),
  },
  {
    id: "GC-01",
    store: V3,
    brk: (s) => edit(s, "/zarr.json", (d) => (a3(d).zarr_conventions as JsonObject[]).push({ version: "1" })),
  },
  { id: "GC-02", store: V3, brk: (s) => edit(s, "/zarr.json", (d) => delete a3(d).zarr_conventions) },
  {
    id: "GC-03",
    store: V3,
    brk: (s) =>
      edit(s, "/zarr.json", (d) => ((a3(d).zarr_conventions as JsonObject[])[0]!.name = "projection")),
  },
  { id: "GC-04", store: V3, brk: (s) => edit(s, "/zarr.json", (d) => (a3(d)["proj:code"] = "4326")) },
  {
    id: "GC-05",
    store: V3,
    severity: "info",
    brk: (s) => edit(s, "/zarr.json", (d) => (a3(d)["proj:code"] = "EPSG:999999")),
  },
  {
    id: "GC-06",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (a3(d)["spatial:dimensions"] = ["y", "x"])),
  },
  {
    id: "GC-07",
    store: V3,
    brk: (s) => edit(s, "/zarr.json", (d) => (a3(d)["spatial:transform"] = [1, 2, 3])),
  },
  {
    id: "GC-08",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (a3(d)["spatial:shape"] = [10, 10])),
  },
  {
    id: "GC-09",
    store: V3,
    // A layout naming a level that does not exist.
    brk: (s) =>
      edit(
        s,
        "/zarr.json",
        (d) => (a3(d).multiscales = { layout: [{ asset: "0" }, { asset: "1", derived_from: "0" }] }),
      ),
  },
  {
    id: "GC-11",
    store: V3,
    // A declared multiscales whose layout is empty (the schema wants at least one level).
    brk: (s) =>
      edit(s, "/zarr.json", (d) => {
        (a3(d).zarr_conventions as JsonObject[]).push(MULTISCALES_CONVENTION);
        a3(d).multiscales = { layout: [] };
      }),
  },
  {
    id: "GC-10",
    store: V3,
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (a3(d)["proj:code"] = "EPSG:3857")),
  },
  {
    id: "G4-09",
    store: V2,
    // A v0.4 multiscales attribute with an unknown resampling method and a missing level group.
    brk: (s) =>
      edit(s, "/.zattrs", (d) => {
        d.multiscales = {
          tile_matrix_set: { id: "t", tileMatrices: [{ id: "0", tileWidth: 512, tileHeight: 512 }] },
          resampling_method: "bicubic",
        };
      }),
  },
  { id: "CF-01", store: V2, brk: (s) => edit(s, "/.zattrs", (d) => delete d.Conventions) },
  {
    id: "CF-02",
    store: V2,
    brk: (s) => edit(s, "/sea_ice_fraction/.zattrs", (d) => (d.standard_name = "sea ice area fraction")),
  },
  { id: "CF-03", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.units = "m s-1")) },
  { id: "CF-04", store: V2, brk: (s) => edit(s, "/lat/.zattrs", (d) => (d._FillValue = -999)) },
  { id: "CF-05", store: V2, brk: (s) => delNode(s, "/lat/.zarray", "/lat/.zattrs", "/lat/0") },
  {
    id: "CF-06",
    store: V2,
    brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.coordinates = "lat lon analysis_error")),
  },
  { id: "CF-07", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.grid_mapping = "crs")) },
  {
    id: "CF-08",
    store: V2,
    brk: (s) =>
      edit(s, "/spatial_ref/.zarray", (d) => {
        d.shape = [1];
        d.chunks = [1];
      }),
  },
  { id: "CF-09", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.missing_value = 1.5)) },
  {
    id: "CF-10",
    store: V2,
    brk: (s) =>
      edit(s, "/analysed_sst/.zattrs", (d) => {
        d._FillValue = -32768;
        d.missing_value = -999;
      }),
  },
  {
    id: "CF-11",
    store: V2,
    brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.valid_range = [-32767, 32767])),
  },
  { id: "CF-12", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.scale_factor = "0.001")) },
  {
    id: "CF-13",
    store: V2F,
    brk: (s) =>
      edit(s, "/analysed_sst/.zattrs", (d) => {
        d.valid_min = -32767;
        d.valid_max = 32767;
      }),
  },
  { id: "CF-14", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d.axis = "X")) },
  {
    id: "CF-15",
    store: V2,
    brk: (s) =>
      edit(s, "/sea_ice_fraction/.zattrs", (d) => {
        d.flag_values = [1, 2];
        d.flag_meanings = "ice water land";
      }),
  },
  { id: "CF-16", store: V2, brk: (s) => edit(s, "/time/.zattrs", (d) => (d.units = "seconds")) },
  { id: "FV-01", store: V3F, brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.fill_value = 0)) },
  { id: "FV-02", store: V2, brk: (s) => edit(s, "/analysed_sst/.zattrs", (d) => (d._FillValue = -999)) },
  {
    id: "FV-03",
    store: V3F,
    brk: (s) =>
      edit(s, "/analysed_sst/zarr.json", (d) => {
        d.fill_value = 0;
        a3(d)._FillValue = 0;
      }),
  },
  { id: "FV-04", store: V2, parity: V3F, brk: () => {} },
  { id: "FV-05", store: V2, brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => (d.fill_value = null)) },
  {
    id: "GI-01",
    store: V2,
    severity: "info",
    brk: (s) =>
      edit(s, "/spatial_ref/.zattrs", (d) => {
        delete d.crs_wkt;
        delete d.spatial_ref;
      }),
  },
];

describe("geozarr's own output", () => {
  it.each([V2, V3, V2F, V3F])("validates with 0 errors and 0 warnings (%j)", async (o) => {
    const report = await validateStore(await sampleStore(o), "sample");
    expect(report.findings.filter((f) => f.severity !== "info")).toEqual([]);
    expect(report.summary.errors + report.summary.warnings).toBe(0);
    expect(report.zarr_format).toBe(o.zarrFormat);
    expect(report.cf_standard_name_table).toBe("83");
  });

  it("v2 and v3 outputs of the same options pass the parity rule", async () => {
    const report = await validateStore(await sampleStore(V2F), "v2", {
      rules: ["FV-04"],
      parity: { store: await sampleStore({ zarrFormat: 3, unpack: "float64" }), name: "v3" },
    });
    expect(report.findings).toEqual([]);
  });
});

describe("each rule", () => {
  it("has a breaking case below", () => {
    const missing = RULES.map((r) => r.id).filter((id) => !BREAKERS.some((b) => b.id === id));
    expect(missing).toEqual([]);
  });

  it.each(BREAKERS)("$id fires on a store that breaks it, not on the unbroken store", async (b) => {
    const clean = await sampleStore(b.store);
    const parity = b.parity ? { store: await sampleStore(b.parity), name: "other" } : undefined;
    const before = await validateStore(clean, "s", {
      rules: [b.id],
      parity: parity && { ...parity, store: await sampleStore(b.store) },
    });
    expect(before.findings).toEqual([]);
    const broken = await sampleStore(b.store);
    await b.brk(broken);
    const after = await validateStore(broken, "s", { rules: [b.id], parity });
    expect(after.findings.length, JSON.stringify(after.findings)).toBeGreaterThan(0);
    const rule = RULES.find((r) => r.id === b.id)!;
    for (const f of after.findings) {
      expect(f.rule).toBe(b.id);
      expect(f.severity).toBe(b.severity ?? rule.severity);
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.message).not.toContain("the rule failed to run");
    }
  });
});
