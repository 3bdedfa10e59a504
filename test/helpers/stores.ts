/**
 * In-memory GeoZarr stores for rule tests: converted from the bundled sample through the real
 * pipeline, then edited document by document to break one rule at a time.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { executePlan } from "../../src/convert/execute.js";
import { planNetcdf } from "../../src/convert/netcdf/plan.js";
import { openInputFile } from "../../src/readers/open.js";
import { isJsonObject, type JsonObject, parseJsonLenient, toStrictJson } from "../../src/zarr/json.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";

const SAMPLE = resolve("examples/data/mur_small.nc");

export interface SampleOptions {
  zarrFormat: 2 | 3;
  unpack?: "float32" | "float64";
  requireStandardName?: boolean;
}

const cache = new Map<string, Map<string, Uint8Array>>();

/** The sample converted in memory (cached per options; every call returns a fresh copy). */
export async function sampleStore(o: SampleOptions): Promise<MemoryStore> {
  const key = JSON.stringify(o);
  if (!cache.has(key)) {
    const ds = await openInputFile(SAMPLE);
    const plan = await planNetcdf(ds, {
      zarrFormat: o.zarrFormat,
      codec: { name: "zstd", level: 1 },
      unpack: o.unpack,
      requireStandardName: o.requireStandardName ?? true,
      history: "test",
    });
    const store = new MemoryStore();
    await executePlan(plan.nodes, store, { zarrFormat: o.zarrFormat, workers: 0, useWorkers: false });
    cache.set(key, store.map);
  }
  return new MemoryStore(
    [...cache.get(key)!.entries()].map(([k, v]) => [k, v.slice()] as [string, Uint8Array]),
  );
}

/** Edit one JSON document in place (and its copy in the consolidated metadata, unless told not to). */
export function edit(
  store: MemoryStore,
  key: string,
  fn: (doc: JsonObject) => void,
  opts: { consolidated?: boolean } = {},
): void {
  const raw = store.map.get(key);
  if (!raw) throw new Error(`no ${key} in the store`);
  const doc = parseJsonLenient(raw, key).value as JsonObject;
  fn(doc);
  store.map.set(key, new TextEncoder().encode(toStrictJson(doc)));
  if (opts.consolidated === false) return;
  // keep the consolidated copy in step, so that only the intended rule fires
  const zmeta = store.map.get("/.zmetadata");
  if (zmeta) {
    const z = parseJsonLenient(zmeta, "zmeta").value as JsonObject;
    const md = z.metadata as JsonObject;
    if (key.slice(1) in md) md[key.slice(1)] = doc;
    store.map.set("/.zmetadata", new TextEncoder().encode(toStrictJson(z)));
  }
  const root = store.map.get("/zarr.json");
  if (root && key !== "/zarr.json" && key.endsWith("/zarr.json")) {
    const r = parseJsonLenient(root, "root").value as JsonObject;
    const cm = r.consolidated_metadata;
    if (isJsonObject(cm) && isJsonObject(cm.metadata)) cm.metadata[key.slice(1, -"/zarr.json".length)] = doc;
    store.map.set("/zarr.json", new TextEncoder().encode(toStrictJson(r)));
  }
}

/** Replace a document's raw text (for JSON syntax errors and bare tokens). */
export function setRaw(store: MemoryStore, key: string, text: string): void {
  store.map.set(key, new TextEncoder().encode(text));
}

/** The attributes object of a node's document: v2 .zattrs, v3 zarr.json attributes. */
export function attrs(doc: JsonObject, format: 2 | 3): JsonObject {
  return format === 2 ? doc : (doc.attributes as JsonObject);
}

/** Write an in-memory store to a directory (for tests that need files: the server, other tools). */
export function saveStore(store: MemoryStore, dir: string): string {
  for (const [key, bytes] of store.map) {
    const file = join(dir, ...key.split("/").filter(Boolean));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  return dir;
}
