/**
 * The map side of the inspector: which arrays can be drawn, their display overviews (computed
 * once per array and plane, cached on disk, pyramid/overview.ts) and exact values at a point.
 *
 * Overviews are keyed by a fingerprint of what they are made of (the store's real path, the array,
 * its metadata document, and the name, size and mtime of every chunk file), so a rewritten store
 * never shows a stale overview; overview-cache.ts builds each once, within a time limit. An array
 * whose plane is too large to reduce (pyramid/overview.ts `overviewTooLarge`) is listed among the
 * arrays that cannot be drawn, with the reason, before any build starts.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { readdir, realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { missingValues, packingOf } from "../cf/packing.js";
import { decodeTimes } from "../cf/time.js";
import { GeoZarrError } from "../errors.js";
import { type GeoCrs, georeference } from "../geo/georef.js";
import type { WorkerPool } from "../parallel/pool.js";
import { readRegion } from "../parallel/read-region.js";
import {
  buildOverview,
  mappable,
  OVERVIEW_MAX_SIDE,
  type OverviewSummary,
  overviewTooLarge,
  summarize,
} from "../pyramid/overview.js";
import { packageVersion } from "../version.js";
import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import type { JsonValue } from "../zarr/json.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { readVector } from "../zarr/read/vector.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { listChunkKeys, type SizedStore } from "../zarr/store/sizes.js";
import { joinKey, type Store, type StoreKey } from "../zarr/store/types.js";
import { safeSegments, serveFile } from "./files.js";
import { send, sendJson } from "./http-util.js";
import { OverviewCache } from "./overview-cache.js";
import { levelOf, levelsFor, multiscalesOf, type StoreLevel } from "./store-levels.js";

export interface ExtraDim {
  name: string;
  axis: number;
  size: number;
  /** Coordinate labels (decoded times, or numbers), when there is a coordinate variable. */
  labels: string[] | null;
}

export interface LayerInfo {
  path: string;
  name: string;
  shape: number[];
  dataType: string;
  units: string | null;
  longName: string | null;
  standardName: string | null;
  yDim: string;
  xDim: string;
  dims: ExtraDim[];
  bbox: [number, number, number, number];
  crs: GeoCrs | null;
  /** The store's own multiscale levels of this variable, finest first (null without). */
  levels: StoreLevel[] | null;
  /** The group of those levels when its layout is the zarr-conventions one (drawn from the store). */
  multiscaleGroup: string | null;
}

export interface LayerList {
  layers: LayerInfo[];
  /** Arrays that cannot be drawn, and why. */
  skipped: { path: string; why: string }[];
}

export interface OverviewRef extends OverviewSummary {
  /**
   * "overview": a display overview built by the server (float32, physical values);
   * "store": the store's own multiscale levels, read by the map straight from /store/.
   */
  source: "overview" | "store";
  /** Where the multiscale group is served (an overview store, or the store's own group). */
  url: string;
  /** How the map turns stored values into physical ones ("store" sources of packed data). */
  packing: { scale: number; offset: number } | null;
  /** The index of each non-spatial dimension, by name ("store" sources). */
  dimensions: Record<string, number>;
  /** Seconds the build took (0 when it came from the cache). */
  buildSeconds: number;
  cached: boolean;
}

/** Display overviews hold physical float32 values and one plane. */
const BUILT = { source: "overview", packing: null, dimensions: {} } as const;

/** The finest of the store's levels the server can reduce to a display overview cheaply. */
export function drawableLevel(levels: StoreLevel[]): string {
  return (levels.find((l) => Math.max(...l.shape) <= OVERVIEW_MAX_SIDE) ?? levels[levels.length - 1]!).path;
}

/** The level a store's own pyramid is drawn with: its colour stretch is read from this one, whole. */
function stretchLevel(levels: StoreLevel[]): StoreLevel {
  return levels.find((l) => Math.max(...l.shape) <= 2048) ?? levels[levels.length - 1]!;
}

export interface LayersOptions {
  /** Directory for overviews that outlive the process; memory only when undefined. */
  cacheDir?: string | undefined;
  /** Time limit of one overview build in milliseconds (0: none). */
  overviewTimeoutMs: number;
  /** One line per event worth telling the person who started the server. */
  log: (line: string) => void;
}

const str = (v: JsonValue | undefined) => (typeof v === "string" ? v : null);
const MAX_LABELS = 100_000;

export class Layers {
  #list: Promise<LayerList> | undefined;
  readonly #cache: OverviewCache;
  readonly #logged = new Set<string>();

  constructor(
    readonly h: Hierarchy,
    readonly pool: WorkerPool,
    readonly opts: LayersOptions,
    /** The store's real path (or a remote store's URL), for fingerprints. */
    readonly storeRoot: string,
  ) {
    this.#cache = new OverviewCache(opts.cacheDir, opts.overviewTimeoutMs, opts.log);
  }

  /** Stop the overview builds and remove their partial output. */
  close(): Promise<void> {
    return this.#cache.close();
  }

  list(): Promise<LayerList> {
    this.#list ??= this.#scan();
    return this.#list;
  }

  async #scan(): Promise<LayerList> {
    const layers: LayerInfo[] = [];
    const skipped: LayerList["skipped"] = [];
    const multiscales = multiscalesOf(this.h);
    for (const node of this.h.nodes.values()) {
      if (node.meta.kind !== "array" || node.meta.shape.length < 2) continue;
      const at = levelOf(multiscales, node.path);
      if (at && at.level > 0) {
        skipped.push({
          path: node.path,
          why: `overview level ${at.level} (drawn as the finest level's layer)`,
        });
        continue;
      }
      const m = await mappable(this.h, node.path);
      if ("why" in m) {
        skipped.push({ path: node.path, why: m.why });
        continue;
      }
      const { georef } = m;
      const meta = node.meta;
      const levels = at ? levelsFor(this.h, at.ms, node.path, georef.yAxis, georef.xAxis) : null;
      const multiscaleGroup = at?.ms.layout ? at.ms.group : null;
      // Refused here, before the page asks and a build starts (issue 10).
      const tooLarge = this.#tooLarge(node.path, levels, multiscaleGroup, georef.yAxis, georef.xAxis);
      if (tooLarge) {
        skipped.push({ path: node.path, why: tooLarge });
        this.opts.log(`warning: the map of ${node.path} is unavailable: ${tooLarge}`);
        continue;
      }
      const a = meta.attributes;
      const dimNames = meta.dimensionNames ?? meta.shape.map((_, i) => `dim_${i}`);
      const dims: ExtraDim[] = [];
      for (const [axis, size] of meta.shape.entries()) {
        if (axis === georef.yAxis || axis === georef.xAxis) continue;
        const name = dimNames[axis] ?? `dim_${axis}`;
        dims.push({ name, axis, size, labels: await this.#labels(node.path, name, size) });
      }
      layers.push({
        path: node.path,
        name: node.path.slice(node.path.lastIndexOf("/") + 1),
        shape: meta.shape,
        dataType: meta.dataType,
        units: str(a.units),
        longName: str(a.long_name),
        standardName: str(a.standard_name),
        yDim: georef.yDim,
        xDim: georef.xDim,
        dims,
        bbox: georef.bbox,
        crs: georef.crs,
        levels,
        multiscaleGroup,
      });
    }
    // Largest first (the main variables), then by path.
    layers.sort((x, y) => elements(y.shape) - elements(x.shape) || (x.path < y.path ? -1 : 1));
    return { layers, skipped };
  }

  /** Why the array the map would be made from is too large, or null. */
  #tooLarge(
    path: string,
    levels: StoreLevel[] | null,
    multiscaleGroup: string | null,
    yAxis: number,
    xAxis: number,
  ): string | null {
    if (levels && multiscaleGroup) {
      // The store's own levels are drawn as they are; only the stretch level is read whole.
      const s = stretchLevel(levels);
      return Math.max(...s.shape) > OVERVIEW_MAX_SIDE
        ? `its smallest level ${s.path} is ${s.shape[0]} x ${s.shape[1]}, more than ${OVERVIEW_MAX_SIDE} a side`
        : null;
    }
    const from = levels ? drawableLevel(levels) : path;
    const why = overviewTooLarge(getNode(this.h, from).meta as ArrayMeta, yAxis, xAxis);
    return why && from !== path ? `its level ${from} is ${why}` : why;
  }

  async #labels(path: string, dim: string, size: number): Promise<string[] | null> {
    const parent = path.lastIndexOf("/") <= 0 ? "" : path.slice(0, path.lastIndexOf("/"));
    const c = this.h.nodes.get(`${parent}/${dim}`);
    if (
      c?.meta.kind !== "array" ||
      c.meta.shape.length !== 1 ||
      c.meta.shape[0] !== size ||
      size > MAX_LABELS
    )
      return null;
    const values = await readVector(this.h.store, c.path, c.meta, this.h.name);
    return (
      decodeTimes(values, c.meta.attributes.units, c.meta.attributes.calendar) ??
      Array.from(values, (v) => String(v))
    );
  }

  async layer(path: string): Promise<LayerInfo> {
    const list = await this.list();
    const found = list.layers.find((l) => l.path === path);
    if (found) return found;
    const skipped = list.skipped.find((s) => s.path === path);
    if (skipped) throw new GeoZarrError("Unsupported", `${path}: cannot be drawn: ${skipped.why}`);
    throw new GeoZarrError("NotFound", `${path}: no drawable array of that path`);
  }

  /** The plane index for `layer` from "dim=i" selections; unspecified dimensions are 0. */
  static index(layer: LayerInfo, select: Record<string, number>): number[] {
    const index = layer.shape.map(() => 0);
    for (const [name, i] of Object.entries(select)) {
      const d = layer.dims.find((x) => x.name === name);
      if (!d)
        throw new GeoZarrError("Usage", `${layer.path} has no dimension ${JSON.stringify(name)} to select`);
      if (!Number.isInteger(i) || i < 0 || i >= d.size)
        throw new GeoZarrError("Usage", `${name}=${i} is outside 0..${d.size - 1}`);
      index[d.axis] = i;
    }
    return index;
  }

  /**
   * What the map draws for `path` at plane `index`: the store's own levels when their layout is
   * one OpenLayers reads; otherwise a display overview, built (once) from the finest of the
   * store's levels that is small enough (issue 6), or from the array itself.
   */
  async overview(path: string, index: number[]): Promise<OverviewRef> {
    const layer = await this.layer(path);
    try {
      return await this.#overview(layer, index);
    } catch (err) {
      // Once per plane (the page may ask again for what failed); not the builds a shutdown stops.
      const label = planeLabel(layer, index);
      if (!this.#cache.stopped && !this.#logged.has(label)) {
        this.#logged.add(label);
        this.opts.log(`warning: map overview: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  async #overview(layer: LayerInfo, index: number[]): Promise<OverviewRef> {
    const path = layer.path;
    if (layer.levels && layer.multiscaleGroup) return this.#storeLevels(layer, index);
    const from = layer.levels ? drawableLevel(layer.levels) : path;
    const id = await this.#fingerprint(from, index);
    const built = await this.#cache.get(id, planeLabel(layer, index), (out, signal) =>
      buildOverview(this.h, from, index, this.pool, out, { signal }),
    );
    const ref: OverviewRef = {
      ...built.summary,
      ...BUILT,
      url: `/overview/${id}`,
      buildSeconds: built.buildSeconds,
      cached: built.cached,
    };
    if (from === path) return ref;
    // Factors relative to full resolution, not to the level the overview was made from.
    const levels = layer.levels!;
    const scale = levels[0]!.shape[1] / levels.find((l) => l.path === from)!.shape[1];
    return { ...ref, levels: ref.levels.map((l) => ({ ...l, factor: Math.round(l.factor * scale) })) };
  }

  /** The store's own levels, with a value stretch from a small level (a few hundred kB read). */
  async #storeLevels(layer: LayerInfo, index: number[]): Promise<OverviewRef> {
    const levels = layer.levels!;
    const small = stretchLevel(levels);
    const meta = getNode(this.h, small.path).meta as ArrayMeta;
    const m = await mappable(this.h, small.path);
    if ("why" in m) throw new GeoZarrError("Unsupported", `${small.path}: cannot map ${m.why}`);
    const box = {
      start: index.map((i, d) => (d === m.georef.yAxis || d === m.georef.xAxis ? 0 : i)),
      shape: meta.shape.map((n, d) => (d === m.georef.yAxis || d === m.georef.xAxis ? n : 1)),
    };
    const { data } = await readRegion(this.h, small.path, this.pool, box);
    const missing = missingValues(meta);
    const packing = packingOf(meta);
    const values = Float64Array.from(data as ArrayLike<number>, (v) =>
      Number.isNaN(v) || missing.includes(v) ? Number.NaN : packing ? v * packing.scale + packing.offset : v,
    );
    const full = levels[0]!.shape;
    return {
      source: "store",
      url: `/store${layer.multiscaleGroup === "/" ? "" : layer.multiscaleGroup}`,
      packing: packing ? { scale: packing.scale, offset: packing.offset } : null,
      dimensions: Object.fromEntries(layer.dims.map((d) => [d.name, index[d.axis]!])),
      path: layer.path,
      variable: layer.name,
      index,
      levels: await Promise.all(
        levels.map(async (l) => ({
          asset: l.path.slice(0, l.path.lastIndexOf("/")),
          factor: Math.round(full[1] / l.shape[1]),
          shape: l.shape,
          affine: (await georeference(this.h, l.path))?.affine ?? [],
        })),
      ),
      bbox: layer.bbox,
      crs: layer.crs,
      ...summarize(values),
      buildSeconds: 0,
      cached: true,
    };
  }

  async #fingerprint(path: string, index: number[]): Promise<string> {
    const node = getNode(this.h, path);
    const hash = createHash("sha256");
    hash.update(
      JSON.stringify({ v: packageVersion(), format: 1, root: this.storeRoot, path: node.path, index }),
    );
    hash.update(JSON.stringify(node.documents));
    const chunks =
      this.h.store instanceof FileSystemStore
        ? await chunkFiles(join(this.storeRoot, ...node.path.split("/").filter(Boolean)))
        : await storedChunks(this.h.store, node.path, node.meta as ArrayMeta);
    for (const f of chunks) hash.update(f);
    return hash.digest("hex").slice(0, 32);
  }

  /** Serve a key of a built overview store: /overview/<id>/<key> (streamed when on disk). */
  async serve(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/([0-9a-f]{32})(\/.*)$/.exec(path);
    const store = m ? this.#cache.store(m[1]!) : undefined;
    const segs = m ? safeSegments(m[2]!) : null;
    if (!store || !segs || segs.length === 0) return sendJson(res, { error: "not found" }, 404);
    const type = segs[segs.length - 1] === "zarr.json" ? "application/json" : "application/octet-stream";
    const headers = { "Cache-Control": "no-cache" };
    if (store instanceof FileSystemStore) {
      const root = await realpath(store.root).catch(() => null);
      if (root && (await serveFile(req, res, root, segs, type, headers))) return;
      return sendJson(res, { error: "not found" }, 404);
    }
    const bytes = await store.get(`/${segs.join("/")}` as StoreKey);
    if (!bytes) return sendJson(res, { error: "not found" }, 404);
    send(res, 200, bytes, type, headers);
  }

  /** The stored and physical value of the cell at (x, y), in the array's CRS. */
  async value(
    path: string,
    index: number[],
    x: number,
    y: number,
  ): Promise<{ row: number; col: number; raw: number | null; value: number | null } | null> {
    const m = await mappable(this.h, path);
    if ("why" in m) throw new GeoZarrError("Unsupported", `${path}: cannot map ${m.why}`);
    const [a, , c, , e, f] = m.georef.affine as [number, number, number, number, number, number];
    const col = Math.floor((x - c) / a);
    const row = Math.floor((y - f) / e);
    const meta = getNode(this.h, path).meta as ArrayMeta;
    if (row < 0 || col < 0 || row >= meta.shape[m.georef.yAxis]! || col >= meta.shape[m.georef.xAxis]!)
      return null;
    const start = index.slice();
    start[m.georef.yAxis] = row;
    start[m.georef.xAxis] = col;
    const { data } = await readRegion(this.h, path, this.pool, { start, shape: meta.shape.map(() => 1) });
    const raw = Number(data[0]);
    const missing = Number.isNaN(raw) || missingValues(meta).includes(raw);
    const p = packingOf(meta);
    return {
      row,
      col,
      raw: Number.isNaN(raw) ? null : raw,
      value: missing ? null : p ? raw * p.scale + p.offset : raw,
    };
  }
}

/** "/t2m" or "/t2m (time=3)": a layer's plane in messages. */
function planeLabel(layer: LayerInfo, index: number[]): string {
  const sel = layer.dims.filter((d) => index[d.axis]! > 0).map((d) => `${d.name}=${index[d.axis]}`);
  return sel.length ? `${layer.path} (${sel.join(", ")})` : layer.path;
}

function elements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** "name size mtime" of every file under an array's directory (chunks and documents). */
/** A remote store's chunks of an array, with their sizes (S3: from the listing; HTTP: probes). */
async function storedChunks(store: Store, path: string, meta: ArrayMeta): Promise<string[]> {
  const keys = await listChunkKeys(store, path, meta);
  const sized = store as Partial<SizedStore>;
  const out: string[] = [];
  for (const k of keys) out.push(`${k} ${(await sized.sizeOf?.(joinKey(path, k))) ?? "?"}\n`);
  return out.sort();
}

async function chunkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const ent of entries) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) {
        // Child arrays of a group are other nodes; an array's own directories are chunk key levels.
        await walk(p, `${rel}${ent.name}/`);
      } else {
        const s = await stat(p).catch(() => null);
        if (s) out.push(`${rel}${ent.name} ${s.size} ${s.mtimeMs}\n`);
      }
    }
  };
  await walk(dir, "");
  return out.sort();
}
