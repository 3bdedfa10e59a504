/**
 * The documents an append changes, in the order they are written (jobs/append.ts): every array
 * document with its new shape, the root's with the append's history line (CF: newest first), and
 * the consolidated metadata last, which is what readers open. In a directory each is replaced by
 * rename; in object storage each by one PUT (atomic per object).
 * @module
 */

import type { Hierarchy } from "../zarr/hierarchy.js";
import { encodeJson, isJsonObject, type JsonObject } from "../zarr/json.js";
import { joinKey, type StoreKey } from "../zarr/store/types.js";

export function appendDocuments(
  h: Hierarchy,
  shapes: Record<string, number[]>,
  history: string,
): [StoreKey, Uint8Array][] {
  const docs = new Map<StoreKey, JsonObject>();
  for (const node of h.nodes.values()) {
    for (const [key, doc] of Object.entries(node.documents)) {
      if (!isJsonObject(doc)) continue;
      // v3 documents read from consolidated metadata are stored as the node's own zarr.json.
      docs.set(h.zarrFormat === 3 ? joinKey(node.path, "zarr.json") : (key as StoreKey), doc);
    }
  }
  const changed = new Set<StoreKey>();
  for (const [path, shape] of Object.entries(shapes)) {
    const key: StoreKey =
      h.zarrFormat === 2 ? (`${path}/.zarray` as StoreKey) : (`${path}/zarr.json` as StoreKey);
    const doc = docs.get(key);
    if (!doc) continue;
    docs.set(key, { ...doc, shape });
    changed.add(key);
  }
  const rootKey: StoreKey = h.zarrFormat === 2 ? "/.zattrs" : "/zarr.json";
  const rootDoc = docs.get(rootKey) ?? {};
  const attrs = (
    h.zarrFormat === 2 ? rootDoc : ((rootDoc.attributes as JsonObject | undefined) ?? {})
  ) as JsonObject;
  const hist = typeof attrs.history === "string" && attrs.history ? `${history}\n${attrs.history}` : history;
  const newAttrs = { ...attrs, history: hist };
  const { consolidated_metadata: _, ...rootRest } = rootDoc;
  docs.set(rootKey, h.zarrFormat === 2 ? newAttrs : { ...rootRest, attributes: newAttrs });
  changed.add(rootKey);
  const out: [StoreKey, Uint8Array][] = [];
  for (const key of changed) {
    if (h.zarrFormat === 3 && key === "/zarr.json" && h.consolidated) continue; // written last, consolidated
    out.push([key, encodeJson(docs.get(key))]);
  }
  if (!h.consolidated) return out;
  if (h.zarrFormat === 2) {
    const metadata: JsonObject = {};
    for (const [key, doc] of [...docs].sort(([a], [b]) => (a < b ? -1 : 1))) metadata[key.slice(1)] = doc;
    out.push(["/.zmetadata", encodeJson({ metadata, zarr_consolidated_format: 1 })]);
  } else {
    const metadata: JsonObject = {};
    for (const [key, doc] of [...docs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (key === "/zarr.json") continue;
      metadata[key.slice(1, -"/zarr.json".length)] = doc;
    }
    const rootV3 = docs.get("/zarr.json")!;
    out.push([
      "/zarr.json",
      encodeJson({ ...rootV3, consolidated_metadata: { kind: "inline", must_understand: false, metadata } }),
    ]);
  }
  return out;
}
