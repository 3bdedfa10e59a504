/**
 * Nodes only the consolidated metadata lists (issue 11): readers that use consolidated metadata
 * (geozarr's openHierarchy, zarr-python's open_consolidated) see them, so the validator checks
 * their documents as given there, besides ZC-04's finding that the store lacks them. Before, such
 * a node was skipped: a store the reader refuses because of one validated with only ZC-04.
 */

import { describe, expect, it } from "vitest";
import { messageOf } from "../../src/errors.js";
import { validateStore } from "../../src/validate/validate.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { type JsonObject, parseJsonLenient, toStrictJson } from "../../src/zarr/json.js";
import type { MemoryStore } from "../../src/zarr/store/memory.js";
import { sampleStore, setRaw } from "../helpers/stores.js";

/** Add a node to the consolidated metadata only: `doc` is its zarr.json (v3) or {.zarray, .zattrs} (v2). */
function addConsolidatedOnly(s: MemoryStore, format: 2 | 3, path: string, doc: JsonObject): void {
  const key = format === 3 ? "/zarr.json" : "/.zmetadata";
  const root = parseJsonLenient(s.map.get(key)!, key).value as JsonObject;
  if (format === 3) ((root.consolidated_metadata as JsonObject).metadata as JsonObject)[path] = doc;
  else for (const [name, d] of Object.entries(doc)) (root.metadata as JsonObject)[`${path}/${name}`] = d;
  setRaw(s, key, toStrictJson(root));
}

const v3Doc = (s: MemoryStore, path: string) =>
  parseJsonLenient(s.map.get(`/${path}/zarr.json`)!, "d").value as JsonObject;

const openError = async (s: MemoryStore) =>
  openHierarchy(s, { name: "s" }).then(
    () => null,
    (e: unknown) => messageOf(e),
  );

describe("nodes only in the consolidated metadata", () => {
  it("v3, an array the reader refuses (chunk_key_encoding v9): ZR-02 names it, besides ZC-04", async () => {
    const s = await sampleStore({ zarrFormat: 3 });
    addConsolidatedOnly(s, 3, "ghost", { ...v3Doc(s, "lat"), chunk_key_encoding: { name: "v9" } });
    expect(await openError(s)).toMatch(/ghost.*unknown chunk_key_encoding "v9"/);
    const errors = (await validateStore(s, "s")).findings.filter((f) => f.severity === "error");
    expect(errors.filter((f) => f.path === "/ghost").map((f) => f.rule)).toEqual(
      expect.arrayContaining(["ZC-04", "ZR-02"]),
    );
    expect(errors.find((f) => f.rule === "ZR-02")?.message).toMatch(/unknown chunk_key_encoding "v9"/);
  });

  it("v3, an array without dimension names: the GeoZarr rule reports it", async () => {
    const s = await sampleStore({ zarrFormat: 3 });
    const { dimension_names: _, ...doc } = v3Doc(s, "lat");
    addConsolidatedOnly(s, 3, "lat2", doc);
    const rules = (await validateStore(s, "s")).findings
      .filter((f) => f.severity === "error" && f.path === "/lat2")
      .map((f) => f.rule);
    expect(rules).toContain("G4-01");
    expect(rules).toContain("ZC-04");
  });

  it("v2 (.zmetadata), an array whose dtype the reader refuses: ZR-02 names it", async () => {
    const s = await sampleStore({ zarrFormat: 2 });
    const zarray = parseJsonLenient(s.map.get("/lat/.zarray")!, "z").value as JsonObject;
    const zattrs = parseJsonLenient(s.map.get("/lat/.zattrs")!, "z").value as JsonObject;
    addConsolidatedOnly(s, 2, "ghost", { ".zarray": { ...zarray, order: "X" }, ".zattrs": zattrs });
    expect(await openError(s)).toMatch(/ghost\/\.zarray: "order" must be "C" or "F"/);
    const errors = (await validateStore(s, "s")).findings.filter((f) => f.severity === "error");
    expect(errors.filter((f) => f.path === "/ghost").map((f) => f.rule)).toEqual(
      expect.arrayContaining(["ZC-04", "ZR-02", "Z2-01"]),
    );
  });

  it("a valid node only in the consolidated metadata (its zarr.json deleted): only ZC-04, which says the store lacks it", async () => {
    const s = await sampleStore({ zarrFormat: 3 });
    s.map.delete("/lat/zarr.json");
    expect(await openError(s)).toBeNull();
    const errors = (await validateStore(s, "s")).findings.filter((f) => f.severity === "error");
    expect(errors).toEqual([
      expect.objectContaining({
        rule: "ZC-04",
        path: "/lat",
        message: "the consolidated metadata lists a node that is not in the store",
      }),
    ]);
  });

  it("a store whose consolidated metadata matches its nodes: no node checked twice, no error", async () => {
    for (const zarrFormat of [2, 3] as const) {
      const report = await validateStore(await sampleStore({ zarrFormat }), "s");
      expect(report.findings.filter((f) => f.severity === "error")).toEqual([]);
      const paths = report.findings.map((f) => `${f.rule} ${f.path} ${f.message}`);
      expect(new Set(paths).size).toBe(paths.length);
    }
  });
});
