/**
 * The map side of the inspector: which arrays can be drawn, their display overviews (computed
 * once per array and plane, cached on disk, pyramid/overview.ts) and exact values at a point.
 *
 * Overviews are keyed by a fingerprint of what they are made of (the store's real path, the array,
 * its metadata document, and the name, size and mtime of every chunk file), so a rewritten store
 * never shows a stale overview. Each build runs once however many requests ask for it.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
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
  summarize,
} from "../pyramid/overview.js";
import { packageVersion } from "../version.js";
import { getNode, type Hierarchy } from "../zarr/hierarchy.js";
import type { JsonValue } from "../zarr/json.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { readVector } from "../zarr/read/vector.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { MemoryStore } from "../zarr/store/memory.js";
import type { Store, StoreKey } from "../zarr/store/types.js";
import { send } from "./http-util.js";
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

const str = (v: JsonValue | undefined) => (typeof v === "string" ? v : null);
const MAX_LABELS = 100_000;

export class Layers {
  #list: Promise<LayerList> | undefined;
  readonly #overviews = new Map<string, Promise<OverviewRef>>();
  readonly #stores = new Map<string, Store>();

  constructor(
    readonly h: Hierarchy,
    readonly pool: WorkerPool,
    /** Directory for overviews that outlive the process; memory only when undefined. */
    readonly cacheDir: string | undefined,
    /** The store's real path, for fingerprints. */
    readonly storeRoot: string,
  ) {}

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
        levels: at ? levelsFor(this.h, at.ms, node.path, georef.yAxis, georef.xAxis) : null,
        multiscaleGroup: at?.ms.layout ? at.ms.group : null,
      });
    }
    // Largest first (the main variables), then by path.
    layers.sort((x, y) => elements(y.shape) - elements(x.shape) || (x.path < y.path ? -1 : 1));
    return { layers, skipped };
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
    const found = (await this.list()).layers.find((l) => l.path === path);
    if (!found) throw new GeoZarrError("NotFound", `${path}: no drawable array of that path`);
    return found;
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
    if (layer.levels && layer.multiscaleGroup) return this.#storeLevels(layer, index);
    const from = layer.levels ? drawableLevel(layer.levels) : path;
    const id = await this.#fingerprint(from, index);
    let p = this.#overviews.get(id);
    if (!p) {
      p = this.#loadOrBuild(id, from, index);
      this.#overviews.set(id, p);
      p.catch(() => this.#overviews.delete(id));
    }
    const ref = await p;
    if (from === path) return ref;
    // Factors relative to full resolution, not to the level the overview was made from.
    const levels = layer.levels!;
    const scale = levels[0]!.shape[1] / levels.find((l) => l.path === from)!.shape[1];
    return { ...ref, levels: ref.levels.map((l) => ({ ...l, factor: Math.round(l.factor * scale) })) };
  }

  /** The store's own levels, with a value stretch from a small level (a few hundred kB read). */
  async #storeLevels(layer: LayerInfo, index: number[]): Promise<OverviewRef> {
    const levels = layer.levels!;
    const small = levels.find((l) => Math.max(...l.shape) <= 2048) ?? levels[levels.length - 1]!;
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

  async #loadOrBuild(id: string, path: string, index: number[]): Promise<OverviewRef> {
    const url = `/overview/${id}`;
    if (this.cacheDir) {
      const dir = join(this.cacheDir, id);
      const summary = await readFile(join(dir, "summary.json"), "utf8").catch(() => null);
      if (summary) {
        this.#stores.set(id, new FileSystemStore(join(dir, "store")));
        return { ...(JSON.parse(summary) as OverviewSummary), ...BUILT, url, buildSeconds: 0, cached: true };
      }
      // Built aside and renamed into place: a crash never leaves a half overview that looks whole.
      await mkdir(this.cacheDir, { recursive: true });
      const tmp = join(this.cacheDir, `.tmp-${id}-${randomBytes(4).toString("hex")}`);
      try {
        const t0 = performance.now();
        const s = await buildOverview(
          this.h,
          path,
          index,
          this.pool,
          new FileSystemStore(join(tmp, "store")),
        );
        const buildSeconds = (performance.now() - t0) / 1000;
        await writeFile(join(tmp, "summary.json"), JSON.stringify(s));
        await rm(dir, { recursive: true, force: true });
        await rename(tmp, dir);
        this.#stores.set(id, new FileSystemStore(join(dir, "store")));
        return { ...s, ...BUILT, url, buildSeconds, cached: false };
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    const store = new MemoryStore();
    const t0 = performance.now();
    const s = await buildOverview(this.h, path, index, this.pool, store);
    this.#stores.set(id, store);
    return { ...s, ...BUILT, url, buildSeconds: (performance.now() - t0) / 1000, cached: false };
  }

  async #fingerprint(path: string, index: number[]): Promise<string> {
    const node = getNode(this.h, path);
    const hash = createHash("sha256");
    hash.update(
      JSON.stringify({ v: packageVersion(), format: 1, root: this.storeRoot, path: node.path, index }),
    );
    hash.update(JSON.stringify(node.documents));
    for (const f of await chunkFiles(join(this.storeRoot, ...node.path.split("/").filter(Boolean))))
      hash.update(f);
    return hash.digest("hex").slice(0, 32);
  }

  /** Serve a key of a built overview store: /overview/<id>/<key>. */
  async serve(path: string, res: ServerResponse): Promise<void> {
    const m = /^\/([0-9a-f]{32})(\/.*)$/.exec(path);
    const store = m ? this.#stores.get(m[1]!) : undefined;
    if (!m || !store || m[2]!.split("/").some((s) => s === ".." || s === "."))
      return send(res, 404, JSON.stringify({ error: "not found" }), "application/json");
    const bytes = await store.get(m[2] as StoreKey);
    if (!bytes) return send(res, 404, JSON.stringify({ error: "not found" }), "application/json");
    send(res, 200, bytes, m[2]!.endsWith("zarr.json") ? "application/json" : "application/octet-stream", {
      "Cache-Control": "no-cache",
    });
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

function elements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** "name size mtime" of every file under an array's directory (chunks and documents). */
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
