/**
 * WebMercatorQuad (OGC TMS 2.0, Annex D.1): EPSG:3857 levels aligned to the XYZ tile grid, zoom z
 * being `tile * 2^z` cells square over [-pi R, pi R] in both directions, north up.
 *
 * The finest zoom is sampled from the EPSG:4326 source (nearest, or bilinear with missing values
 * left out and the weights renormalised), each cell centre taken to longitude/latitude with the
 * spherical Mercator inverse; coarser zooms are 2 x 2 reductions of the zoom above (tiles nest
 * exactly), as gdal2tiles builds its overview tiles.
 *
 * Reading: a segment of the finest zoom needs the source rows of its latitude band, a few dozen
 * out of a 4096-row chunk; each worker keeps the chunks it decoded (LRU, a row of chunks and
 * more), so each source chunk is decoded about once per worker instead of once per segment.
 *
 * @module
 */

import { viewAs } from "../zarr/dtype.js";
import type { FillValue } from "../zarr/fill-value.js";
import type { ArrayMeta } from "../zarr/metadata/model.js";
import { product } from "../zarr/metadata/model.js";
import type { Box } from "../zarr/ndarray.js";
import { run as readChunks, readGridChunkShape } from "../zarr/read/read-task.js";
import type { StoreRef } from "../zarr/store/ref.js";

/** WGS 84 semi-major axis: the sphere of EPSG:3857. */
export const EARTH_RADIUS = 6378137;
/** Half the width of the EPSG:3857 square. */
export const HALF_WORLD = Math.PI * EARTH_RADIUS;
const DEG = 180 / Math.PI;

export type TmsSampling = "nearest" | "bilinear";

export interface ZoomLevel {
  zoom: number;
  size: number;
  /** rasterio order, north up: [res, 0, -HALF_WORLD, 0, -res, HALF_WORLD]. */
  affine: number[];
}

export function zoomLevel(zoom: number, tile: number): ZoomLevel {
  const size = tile * 2 ** zoom;
  const res = (2 * HALF_WORLD) / size;
  return { zoom, size, affine: [res, 0, -HALF_WORLD, 0, -res, HALF_WORLD] };
}

/**
 * The finest zoom: the deepest whose cells are not smaller than the source's at the equator
 * (no upsampling; rio-tiler's "lower" zoom strategy), at most `maxZoom`.
 */
export function finestZoom(sourceDegrees: number, tile: number, maxZoom = Number.POSITIVE_INFINITY): number {
  const metres = sourceDegrees * (2 * HALF_WORLD) * (1 / 360);
  let z = 0;
  while (z < maxZoom && zoomLevel(z + 1, tile).affine[0]! >= metres * (1 - 1e-9)) z++;
  return z;
}

export interface MercatorSource {
  store: StoreRef;
  storeName: string;
  path: string;
  meta: ArrayMeta;
  /** The source's rasterio transform (EPSG:4326 degrees) and its Y/X axes (the last two). */
  affine: number[];
  zoom: number;
  tile: number;
  method: TmsSampling;
}

interface CachedChunk {
  box: Box;
  data: ArrayLike<number>;
}

/** Per worker: a row of MUR's 4096 x 4096 int16 chunks (9 x 32 MB) and one more. */
const CACHE_BYTES = 320 * 2 ** 20;
const cache = new Map<string, CachedChunk>();
let cached = 0;

async function chunkAt(src: MercatorSource, lead: number[], cy: number, cx: number): Promise<CachedChunk> {
  const key = `${src.storeName}|${src.path}|${lead.join(",")}|${cy},${cx}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // most recently used last
    cache.set(key, hit);
    return hit;
  }
  const grid = readGridChunkShape(src.meta);
  const nd = src.meta.shape.length;
  const start = [...lead, cy * grid[nd - 2]!, cx * grid[nd - 1]!];
  const shape = start.map((s, d) => (d < nd - 2 ? 1 : Math.min(grid[d]!, src.meta.shape[d]! - s)));
  const box = { start, shape };
  const bytes = product(shape) * viewAs(src.meta.dataType, new Uint8Array(0)).BYTES_PER_ELEMENT;
  const buffer = new ArrayBuffer(bytes);
  const coords = start.map((s, d) => Math.floor(s / grid[d]!));
  await readChunks({
    store: src.store,
    storeName: src.storeName,
    path: src.path,
    meta: src.meta,
    chunks: [coords],
    outs: [{ buffer, dataType: src.meta.dataType, box }],
  });
  const entry = { box, data: viewAs(src.meta.dataType, new Uint8Array(buffer)) as ArrayLike<number> };
  cache.set(key, entry);
  cached += bytes;
  for (const [k, v] of cache) {
    if (cached <= CACHE_BYTES) break;
    cache.delete(k);
    cached -= v.data.length * (bytes / product(shape));
  }
  return entry;
}

/** Latitude of a Web Mercator y (spherical inverse). */
const latOf = (y: number) => (2 * Math.atan(Math.exp(y / EARTH_RADIUS)) - Math.PI / 2) * DEG;

/**
 * The values of `segment` (a box of the zoom level, C order, Y and X last) sampled from the source,
 * into `out` (a typed array of the segment's size, the source's data type).
 */
export async function sampleMercator(
  src: MercatorSource,
  segment: Box,
  out: { [i: number]: number; length: number },
  fill: FillValue,
  round: boolean,
): Promise<void> {
  const nd = segment.shape.length;
  const [rows, cols] = segment.shape.slice(-2) as [number, number];
  const [r0, c0] = segment.start.slice(-2) as [number, number];
  const lvl = zoomLevel(src.zoom, src.tile);
  const res = lvl.affine[0]!;
  const [a, , c, , e, f] = src.affine as [number, number, number, number, number, number];
  const [srcRows, srcCols] = src.meta.shape.slice(-2) as [number, number];
  const grid = readGridChunkShape(src.meta);
  const [ch, cw] = grid.slice(-2) as [number, number];
  const empty = typeof fill === "number" ? fill : Number.NaN;
  const missing = typeof fill === "number" && !Number.isNaN(fill) ? fill : undefined;
  // Fractional source positions (cell centres at integers) of every output row and column.
  const sy = Float64Array.from(
    { length: rows },
    (_, i) => (latOf(HALF_WORLD - (r0 + i + 0.5) * res) - f) / e - 0.5,
  );
  const sx = Float64Array.from(
    { length: cols },
    (_, j) => ((-HALF_WORLD + (c0 + j + 0.5) * res) * (DEG / EARTH_RADIUS) - c) / a - 0.5,
  );
  const planes = product(segment.shape.slice(0, nd - 2));
  const leadShape = segment.shape.slice(0, nd - 2);
  // The source rows and columns the segment touches (neighbours included), and their chunks.
  const span = (v: Float64Array, n: number): [number, number] => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const x of v) {
      lo = Math.min(lo, Math.floor(x));
      hi = Math.max(hi, Math.ceil(x));
    }
    return [Math.max(0, lo - 1), Math.min(n - 1, hi + 1)];
  };
  const [rowLo, rowHi] = span(sy, srcRows);
  const [colLo, colHi] = span(sx, srcCols);
  const cy0 = Math.floor(rowLo / ch);
  const cx0 = Math.floor(colLo / cw);
  const ny = rowHi >= rowLo ? Math.floor(rowHi / ch) - cy0 + 1 : 0;
  const nx = colHi >= colLo ? Math.floor(colHi / cw) - cx0 + 1 : 0;
  for (let p = 0; p < planes; p++) {
    // The plane's index along the leading dimensions.
    const lead: number[] = [];
    let rest = p;
    for (let d = nd - 3; d >= 0; d--) {
      lead.unshift(segment.start[d]! + (rest % leadShape[d]!));
      rest = Math.floor(rest / leadShape[d]!);
    }
    const table: CachedChunk[] = [];
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) table.push(await chunkAt(src, lead, cy0 + y, cx0 + x));
    /** A source value, NaN when missing or outside. */
    const value = (r: number, q: number): number => {
      if (r < 0 || q < 0 || r >= srcRows || q >= srcCols) return Number.NaN;
      const chunk = table[(Math.floor(r / ch) - cy0) * nx + (Math.floor(q / cw) - cx0)]!;
      const w = chunk.box.shape[nd - 1]!;
      const v = chunk.data[(r - chunk.box.start[nd - 2]!) * w + (q - chunk.box.start[nd - 1]!)]!;
      return v === missing ? Number.NaN : v;
    };
    const base = p * rows * cols;
    if (src.method === "nearest") {
      nearestPlane(src, table, cy0, cx0, nx, ch, cw, sy, sx, srcRows, srcCols, missing, empty, out, base);
      continue;
    }
    for (let i = 0; i < rows; i++) {
      const y = sy[i]!;
      const yOut = y < -0.5 || y > srcRows - 0.5;
      for (let j = 0; j < cols; j++) {
        const x = sx[j]!;
        let v = Number.NaN;
        if (yOut || x < -0.5 || x > srcCols - 0.5) {
          // outside the source: missing
        } else {
          const y0 = Math.floor(y);
          const x0 = Math.floor(x);
          const fy = y - y0;
          const fx = x - x0;
          // Edges clamp to the nearest source cell; missing neighbours are left out.
          const ya = Math.max(0, y0);
          const yb = Math.min(srcRows - 1, y0 + 1);
          const xa = Math.max(0, x0);
          const xb = Math.min(srcCols - 1, x0 + 1);
          let s = 0;
          let wsum = 0;
          const add = (u: number, w: number) => {
            if (w > 0 && !Number.isNaN(u)) {
              s += w * u;
              wsum += w;
            }
          };
          add(value(ya, xa), (1 - fy) * (1 - fx));
          add(value(ya, xb), (1 - fy) * fx);
          add(value(yb, xa), fy * (1 - fx));
          add(value(yb, xb), fy * fx);
          if (wsum > 0) v = s / wsum;
        }
        out[base + i * cols + j] = Number.isNaN(v) ? empty : round ? Math.round(v) : v;
      }
    }
  }
}

/**
 * Nearest sampling of one plane, the hot loop of the finest zoom: the source column of every
 * output column (its chunk and offset) is computed once, so each cell is one lookup.
 */
function nearestPlane(
  src: MercatorSource,
  table: CachedChunk[],
  cy0: number,
  cx0: number,
  nx: number,
  ch: number,
  cw: number,
  sy: Float64Array,
  sx: Float64Array,
  srcRows: number,
  srcCols: number,
  missing: number | undefined,
  empty: number,
  out: { [i: number]: number },
  base: number,
): void {
  const nd = src.meta.shape.length;
  const cols = sx.length;
  const colChunk = new Int32Array(cols);
  const colOffset = new Int32Array(cols);
  for (let j = 0; j < cols; j++) {
    const x = sx[j]!;
    const q = Math.round(x);
    if (x < -0.5 || x > srcCols - 0.5 || q < 0 || q >= srcCols) colChunk[j] = -1;
    else {
      colChunk[j] = Math.floor(q / cw) - cx0;
      colOffset[j] = q % cw;
    }
  }
  for (let i = 0; i < sy.length; i++) {
    const y = sy[i]!;
    const r = Math.round(y);
    const o = base + i * cols;
    if (y < -0.5 || y > srcRows - 0.5 || r < 0 || r >= srcRows) {
      for (let j = 0; j < cols; j++) out[o + j] = empty;
      continue;
    }
    const rowChunks = (Math.floor(r / ch) - cy0) * nx;
    const rowOffset = r % ch;
    for (let j = 0; j < cols; j++) {
      const k = colChunk[j]!;
      if (k < 0) {
        out[o + j] = empty;
        continue;
      }
      const chunk = table[rowChunks + k]!;
      const v = chunk.data[rowOffset * chunk.box.shape[nd - 1]! + colOffset[j]!]!;
      out[o + j] = v === missing || Number.isNaN(v) ? empty : v;
    }
  }
}
