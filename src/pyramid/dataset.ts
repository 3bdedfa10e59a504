/**
 * A GeoZarr dataset as the pyramid builders see it: its parts by role (gridded data variables,
 * Y/X coordinates, grid mappings, small variables), and the file-level pieces they share: copying
 * node documents, hard-linking chunk files, reading back a written array's metadata.
 * @module
 */

import type { Dirent } from "node:fs";
import { copyFile, link, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { type ExecuteSummary, executePlan, type NodePlan, type ProgressInfo } from "../convert/execute.js";
import { fsError, GeoZarrError } from "../errors.js";
import { upgradeDeclarations } from "../geo/conventions.js";
import { type Georef, georeference } from "../geo/georef.js";
import type { WorkerPool } from "../parallel/pool.js";
import { isBigInt } from "../zarr/dtype.js";
import { childrenOf, getNode, type Hierarchy, type NodeRecord, openHierarchy } from "../zarr/hierarchy.js";
import { isJsonObject, type JsonObject } from "../zarr/json.js";
import { type ArrayMeta, numericArray } from "../zarr/metadata/model.js";
import { parseArrayV2 } from "../zarr/metadata/v2.js";
import { parseArrayV3 } from "../zarr/metadata/v3.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { joinKey, type StoreKey } from "../zarr/store/types.js";
import type { HierarchyWriter } from "../zarr/write/writer.js";

export const nameOf = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The dataset's parts, by role. */
export interface Dataset {
  georef: Georef;
  rows: number;
  cols: number;
  /** Data variables on the grid. */
  grid: NodeRecord[];
  /** 1-D coordinate variables of the Y and X dimensions. */
  yCoord: NodeRecord | undefined;
  xCoord: NodeRecord | undefined;
  /** Grid-mapping variables (their GeoTransform changes per level). */
  gridMappings: NodeRecord[];
  /** Scalars and 1-D arrays off the grid (time...): copied to every level. */
  small: NodeRecord[];
  /** Everything else stays at full resolution only. */
  rest: NodeRecord[];
}

const METADATA_FILES = new Set([".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"]);

export async function classify(h: Hierarchy): Promise<Dataset> {
  const children = childrenOf(h, "/");
  const arrays = children.filter((n) => n.meta.kind === "array");
  let georef: Georef | null = null;
  const grid: NodeRecord[] = [];
  for (const n of arrays) {
    const g = await georeference(h, n.path);
    if (!g) continue;
    const meta = n.meta as ArrayMeta;
    const same =
      !georef ||
      (g.yDim === georef.yDim &&
        g.xDim === georef.xDim &&
        meta.shape[g.yAxis] === (grid[0]!.meta as ArrayMeta).shape[georef.yAxis] &&
        meta.shape[g.xAxis] === (grid[0]!.meta as ArrayMeta).shape[georef.xAxis]);
    if (!same) continue;
    georef ??= g;
    grid.push(n);
  }
  if (!georef)
    throw new GeoZarrError(
      "Unsupported",
      `${h.name}: no georeferenced variable with Y and X dimensions at the root to build levels from`,
    );
  const meta0 = grid[0]!.meta as ArrayMeta;
  for (const n of grid) {
    const m = n.meta as ArrayMeta;
    if (isBigInt(m.dataType) || m.dataType === "bool" || m.dataType.startsWith("complex"))
      throw new GeoZarrError(
        "Unsupported",
        `${h.name}${n.path}: data type ${m.dataType} cannot be resampled`,
      );
  }
  const coord = (dim: string) =>
    arrays.find((n) => nameOf(n.path) === dim && (n.meta as ArrayMeta).shape.length === 1);
  const gmNames = new Set(
    grid.map((n) => n.meta.attributes.grid_mapping).filter((x): x is string => typeof x === "string"),
  );
  const yCoord = coord(georef.yDim);
  const xCoord = coord(georef.xDim);
  const taken = new Set([...grid, yCoord, xCoord].filter(Boolean));
  const gridMappings = arrays.filter((n) => gmNames.has(nameOf(n.path)) && !taken.has(n));
  const others = children.filter((n) => !taken.has(n) && !gridMappings.includes(n));
  const small = others.filter((n) => n.meta.kind === "array" && n.meta.shape.length <= 1);
  return {
    georef,
    rows: meta0.shape[georef.yAxis]!,
    cols: meta0.shape[georef.xAxis]!,
    grid,
    yCoord,
    xCoord,
    gridMappings,
    small,
    rest: others.filter((n) => !small.includes(n)),
  };
}

/** Hard-link (or copy, across file systems) the chunk files of a node's directory tree. */
export async function linkChunks(from: string, to: string): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await readdir(from, { withFileTypes: true });
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return 0;
    throw fsError(err, from, "read directory");
  }
  await mkdir(to, { recursive: true });
  let bytes = 0;
  for (const e of entries) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) bytes += await linkChunks(src, dst);
    else if (!METADATA_FILES.has(e.name)) {
      // Metadata documents are never linked: they are written anew, and writing through a link
      // would change the original store.
      try {
        await link(src, dst);
      } catch {
        await copyFile(src, dst).catch((err) => {
          throw fsError(err, dst, "copy");
        });
      }
      // Counted as the level's stored bytes: the summary says what the levels take on disk.
      bytes += (await stat(dst)).size;
    }
  }
  return bytes;
}

/**
 * The node's documents, re-keyed under `prefix`: v3 group documents lose consolidated metadata,
 * and convention declarations of older revisions become v0.1 (geo/conventions.ts).
 */
export function documentsOf(node: NodeRecord, prefix: string): [StoreKey, JsonObject][] {
  return Object.entries(node.documents).map(([key, doc]) => {
    const { consolidated_metadata: _, ...rest } = doc as JsonObject;
    const upgraded = key.endsWith("/.zattrs")
      ? upgradeDeclarations(rest)
      : isJsonObject(rest.attributes)
        ? { ...rest, attributes: upgradeDeclarations(rest.attributes) }
        : rest;
    return [joinKey(prefix, key), upgraded];
  });
}

export function attrsKey(h: Hierarchy, path: string): StoreKey {
  return joinKey(path, h.zarrFormat === 2 ? ".zattrs" : "zarr.json");
}

/** Replace a v2 `.zattrs` or the `attributes` of a v3 document. */
export function withAttributes(h: Hierarchy, doc: JsonObject, attrs: JsonObject): JsonObject {
  return h.zarrFormat === 2 ? attrs : { ...doc, attributes: attrs };
}

/** A node's user attributes as stored (v2 `.zattrs` keeps `_ARRAY_DIMENSIONS`). */
export function storedAttributes(h: Hierarchy, node: NodeRecord): JsonObject {
  const doc = node.documents[attrsKey(h, node.path)] as JsonObject | undefined;
  return (h.zarrFormat === 2 ? doc : (doc?.attributes as JsonObject | undefined)) ?? {};
}

export async function readMeta(
  store: FileSystemStore,
  key: StoreKey,
  v3: boolean,
  name: string,
): Promise<ArrayMeta> {
  const text = new TextDecoder().decode((await store.get(key))!);
  const doc = JSON.parse(text);
  const meta = v3 ? parseArrayV3(doc, `${name}${key}`) : parseArrayV2(doc, {}, `${name}${key}`);
  return numericArray(meta, `${name}${key}`);
}

/** Write one level's nodes through the conversion pipeline, on the builder's pool and writer. */
export function writeLevelNodes(
  nodes: NodePlan[],
  store: FileSystemStore,
  w: HierarchyWriter,
  pool: WorkerPool,
  signal: AbortSignal | undefined,
  onProgress?: (p: ProgressInfo) => void,
): Promise<ExecuteSummary> {
  return executePlan(nodes, store, {
    zarrFormat: w.zarrFormat,
    workers: pool.size,
    useWorkers: pool.size > 0,
    writer: w,
    pool,
    signal,
    onProgress,
  });
}

/** Open a store to build levels for: a dataset at the root without levels yet, classified. */
export async function openDataset(dir: string): Promise<{ h: Hierarchy; root: NodeRecord; ds: Dataset }> {
  // A walk, not the consolidated metadata: node documents keyed by their real store keys.
  const h = await openHierarchy(new FileSystemStore(dir), { name: dir, consolidated: "ignore" });
  const root = getNode(h, "/");
  if (root.meta.kind !== "group")
    throw new GeoZarrError("Usage", `${dir}: the root is an array, not a dataset`);
  if ("multiscales" in root.meta.attributes)
    throw new GeoZarrError("Exists", `${dir}: already has multiscale levels`, { where: dir });
  return { h, root, ds: await classify(h) };
}

/**
 * Copy `nodes` of the store into group `prefix` of the new one: their documents (through `edit`)
 * written, the chunk files of each top-level node's directory hard-linked (nested nodes come with
 * their top-level one).
 */
export async function copyNodes(
  h: Hierarchy,
  nodes: NodeRecord[],
  w: HierarchyWriter,
  to: FileSystemStore,
  prefix: string,
  edit: (key: StoreKey, doc: JsonObject, node: NodeRecord) => JsonObject = (_, doc) => doc,
): Promise<void> {
  const from = (h.store as FileSystemStore).root;
  for (const node of nodes) {
    const top = node.path.split("/")[1]!;
    if (node.path === `/${top}`)
      await linkChunks(join(from, top), join(to.root, ...prefix.split("/").filter(Boolean), top));
    for (const [key, doc] of documentsOf(node, prefix)) await w.document(key, edit(key, doc, node));
  }
}
