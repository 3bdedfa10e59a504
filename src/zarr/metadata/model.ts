/**
 * The internal, format-neutral model of Zarr node metadata.
 *
 * v2 and v3 documents are parsed into this one shape at the edge (v2.ts, v3.ts) and written back
 * from it, so nothing past `zarr/metadata/` handles raw JSON. The codec chain is kept in the form
 * zarrita understands (v3 codec names; v2 compressors and filters as `numcodecs.<id>`), so an array
 * can be handed to zarrita for reading without re-reading its documents.
 *
 * @module
 */

import { GeoZarrError } from "../../errors.js";
import type { DataType, Endian } from "../dtype.js";
import type { FillValue } from "../fill-value.js";
import { type JsonObject, showJson } from "../json.js";
import type { StringType } from "../strings.js";

export interface CodecSpec {
  name: string;
  configuration?: JsonObject;
}

export interface ChunkKeyEncoding {
  name: "default" | "v2";
  separator: "/" | ".";
}

export interface ArrayMeta {
  kind: "array";
  zarrFormat: 2 | 3;
  shape: number[];
  /** Shape of one chunk of the chunk grid (a whole shard for sharded v3 arrays). */
  chunkShape: number[];
  dataType: DataType;
  /** Byte order of the encoded chunks (v2: dtype prefix; v3: the bytes codec). */
  endian: Endian;
  /** Memory layout of the encoded chunks (v2 `order`; v3 a transpose codec reversing the axes). */
  order: "C" | "F";
  fillValue: FillValue;
  codecs: CodecSpec[];
  /** v3 `dimension_names`, or v2 `_ARRAY_DIMENSIONS` (xarray's convention); null when absent. */
  dimensionNames: (string | null)[] | null;
  /** User attributes; for v2 without `_ARRAY_DIMENSIONS`, which is carried in `dimensionNames`. */
  attributes: JsonObject;
  chunkKeyEncoding: ChunkKeyEncoding;
}

/** What every array has, of numbers or of strings: its layout, codecs, dimensions and attributes. */
export type ArrayLayout = Omit<ArrayMeta, "kind" | "dataType" | "endian" | "fillValue">;

/**
 * An array of text (strings.ts): the same layout as {@link ArrayMeta}, but its elements are
 * strings, read whole through a small path of their own (read/strings.ts), never through the
 * typed-array pipeline. A kind of its own, so code written for numbers cannot take it for one.
 */
export interface StringArrayMeta extends ArrayLayout {
  kind: "strings";
  stringType: StringType;
  /** The fill value as text (a binary string for byte strings); null: none (v2). */
  fillValue: string | null;
}

export interface GroupMeta {
  kind: "group";
  zarrFormat: 2 | 3;
  attributes: JsonObject;
}

export type NodeMeta = ArrayMeta | StringArrayMeta | GroupMeta;

/**
 * `meta` as an array of numbers, for code that computes on values (statistics, maps, pyramids);
 * a string array is refused in one line naming `where`.
 */
export function numericArray(meta: ArrayMeta | StringArrayMeta, where: string, what = "numbers"): ArrayMeta {
  if (meta.kind === "array") return meta;
  throw new GeoZarrError("Unsupported", `${where} is an array of strings, not of ${what}`, { where });
}

/** The sharding codec's configuration, when the array is sharded (v3 only). */
export interface ShardingInfo {
  /** Inner chunk shape. */
  chunkShape: number[];
  codecs: CodecSpec[];
  indexCodecs: CodecSpec[];
  indexLocation: "start" | "end";
}

export function shardingOf(meta: Pick<ArrayMeta, "codecs">): ShardingInfo | undefined {
  const c = meta.codecs.find((x) => x.name === "sharding_indexed");
  if (!c?.configuration) return undefined;
  const cfg = c.configuration as unknown as {
    chunk_shape: number[];
    codecs?: CodecSpec[];
    index_codecs?: CodecSpec[];
    index_location?: "start" | "end";
  };
  return {
    chunkShape: cfg.chunk_shape,
    codecs: cfg.codecs ?? [],
    indexCodecs: cfg.index_codecs ?? [],
    indexLocation: cfg.index_location ?? "end",
  };
}

/** Number of chunks of the grid along each dimension. */
export function chunkGridShape(shape: readonly number[], chunkShape: readonly number[]): number[] {
  return shape.map((n, i) => Math.ceil(n / chunkShape[i]!));
}

export function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/** The key of a chunk relative to its array: "c/0/1" (v3 default) or "0.1" (v2). */
export function chunkKey(enc: ChunkKeyEncoding, coords: readonly number[]): string {
  if (enc.name === "default") return ["c", ...coords].join(enc.separator);
  return coords.length === 0 ? "0" : coords.join(enc.separator);
}

/**
 * The grid coordinates a chunk key names (the inverse of {@link chunkKey}), or null when the key is
 * not a chunk key of this encoding, rank and grid (stray files in an array's directory).
 */
export function parseChunkKey(
  enc: ChunkKeyEncoding,
  key: string,
  gridShape: readonly number[],
): number[] | null {
  let rest = key;
  if (enc.name === "default") {
    if (rest !== "c" && !rest.startsWith(`c${enc.separator}`)) return null;
    rest = rest.slice(2);
  }
  const parts =
    gridShape.length === 0 ? (rest === "0" || rest === "" ? [] : null) : rest.split(enc.separator);
  if (parts === null || parts.length !== gridShape.length) return null;
  const coords = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
  return coords.every((c, d) => c >= 0 && c < gridShape[d]!) ? coords : null;
}

/** Codecs that compress bytes, as a short human form: "zstd(level=1)", "blosc(cname=lz4, ...)". */
export function describeCodecs(meta: Pick<ArrayMeta, "codecs" | "order">): string[] {
  const out: string[] = [];
  const add = (c: CodecSpec) => {
    const name = c.name.replace(/^numcodecs\./, "");
    if (name === "bytes" || (name === "transpose" && meta.order === "F")) return;
    if (name === "sharding_indexed") {
      // This codec's own configuration: a shard's inner chunks may be sharded again (nested
      // sharding), so the array's outer sharding is not the one to describe here.
      const cfg = (c.configuration ?? {}) as { chunk_shape?: number[]; codecs?: CodecSpec[] };
      out.push(`sharding(chunks=[${(cfg.chunk_shape ?? []).join(", ")}])`);
      (cfg.codecs ?? []).forEach(add);
      return;
    }
    const cfg = Object.entries(c.configuration ?? {})
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : showJson(v)}`)
      .join(", ");
    out.push(cfg ? `${name}(${cfg})` : name);
  };
  meta.codecs.forEach(add);
  return out;
}
