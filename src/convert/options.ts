/**
 * Per-dimension options given by dimension name: `--chunks time=1,lat=4096,lon=4096`,
 * `--shard lat=8192,lon=8192`.
 * @module
 */

import { GeoZarrError } from "../errors.js";

export type DimSizes = Record<string, number>;

export function parseDimSizes(flag: string, text: string): DimSizes {
  const out: DimSizes = {};
  for (const part of text.split(",").filter((p) => p.trim() !== "")) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m)
      throw new GeoZarrError(
        "Usage",
        `${flag} ${text}: expected NAME=SIZE[,NAME=SIZE...], got ${JSON.stringify(part)}`,
      );
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new GeoZarrError("Usage", `${flag}: size for ${m[1]} must be a positive integer`);
    out[m[1]!] = n;
  }
  return out;
}

/** Fail on names that no array has, which are almost always typos. */
export function checkDimNames(flag: string, sizes: DimSizes | undefined, known: Set<string>): void {
  for (const name of Object.keys(sizes ?? {})) {
    if (!known.has(name)) {
      const list = [...known].sort().join(", ") || "none";
      throw new GeoZarrError(
        "Usage",
        `${flag}: no dimension named ${JSON.stringify(name)} (dimensions: ${list})`,
      );
    }
  }
}

/**
 * The chunk shape for an array: the size given for each named dimension, else `fallback`, clipped
 * to the dimension's length (a chunk larger than its dimension is stored as the whole dimension,
 * as xarray and zarr-python do).
 */
export function chunkShapeFor(
  shape: number[],
  dims: (string | null)[] | null,
  sizes: DimSizes | undefined,
  fallback: number[],
): number[] {
  return shape.map((n, d) => {
    const name = dims?.[d];
    const want = (name != null ? sizes?.[name] : undefined) ?? fallback[d]!;
    return Math.max(1, Math.min(want, n));
  });
}

/** The shard shape for `--shard`: the size for named dims, else one chunk; multiples of the chunk. */
export function shardShapeFor(
  path: string,
  shape: number[],
  dims: (string | null)[] | null,
  sizes: DimSizes | undefined,
  chunks: number[],
): number[] | undefined {
  if (!sizes || Object.keys(sizes).length === 0) return undefined;
  return chunks.map((c, d) => {
    const name = dims?.[d];
    const want = name != null ? sizes[name] : undefined;
    if (want === undefined) return c;
    if (want % c !== 0) {
      throw new GeoZarrError(
        "Usage",
        `--shard ${name}=${want}: ${path} has chunks of ${c} along ${name}; a shard must hold a whole number of chunks`,
      );
    }
    // Never more than the chunks needed to cover the dimension.
    return Math.min(want, c * Math.ceil(shape[d]! / c));
  });
}

/** What the default chunks aim at, uncompressed: zarr-python's and xarray users' 1-16 MB range. */
export const TARGET_CHUNK_BYTES = 8 << 20;

/**
 * The default chunk shape of a NetCDF variable. X/Y dimensions get `spatial` (4096: MUR's
 * 1 x 4096 x 4096, one map tile per chunk, kept whatever its size); the other dimensions grow
 * from the innermost outwards while the chunk stays within {@link TARGET_CHUNK_BYTES}: a small
 * grid gets several time steps per chunk, a swath or a station series whole runs of values,
 * instead of one chunk per value along every non-spatial dimension (a 123 KB ASCAT swath was
 * 50,367 chunk files).
 */
export function defaultChunkShape(
  shape: number[],
  itemSize: number,
  isSpatial: (axis: number) => boolean,
  spatial: number,
  target = TARGET_CHUNK_BYTES,
): number[] {
  const chunk = shape.map((n, d) => (isSpatial(d) ? Math.max(1, Math.min(spatial, n)) : 1));
  let bytes = chunk.reduce((p, c) => p * c, itemSize);
  for (let d = shape.length - 1; d >= 0; d--) {
    if (isSpatial(d)) continue;
    const room = Math.floor(target / bytes);
    if (room <= 1) break;
    chunk[d] = Math.max(1, Math.min(shape[d]!, room));
    bytes *= chunk[d]!;
    if (chunk[d]! < shape[d]!) break; // a partial dimension: the ones outside it stay 1
  }
  return chunk;
}
