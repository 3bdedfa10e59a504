/**
 * Read chunks through zarrita, from the metadata our hierarchy layer already parsed.
 *
 * zarrita's `Array` is built straight from our model (no second read of the documents), with our
 * lenient JSON and NaN handling upstream of it. Reads are wrapped so that every failure names the
 * store key: a chunk that fails to decode is a GeoZarrError("Codec"), a chunk that decodes to the
 * wrong number of bytes a GeoZarrError("ChunkSize").
 *
 * @module
 */

import * as zarr from "zarrita";
import { GeoZarrError, isGeoZarrError, messageOf } from "../../errors.js";
import { type AnyTypedArray, dataTypeInfo } from "../dtype.js";
import type { ArrayLayout, ArrayMeta } from "../metadata/model.js";
import { chunkKey, product, shardingOf } from "../metadata/model.js";
import { joinKey, type ReadableStore } from "../store/types.js";
import { checkCodecNames } from "./codec-chain.js";

export interface ChunkData {
  data: AnyTypedArray;
  shape: number[];
  /** Element strides of `data`; C order unless the array is stored in F order. */
  stride: number[];
}

export interface OpenedArray {
  path: string;
  meta: ArrayMeta;
  /** Name used in messages ("store.zarr"). */
  storeName: string;
  zarrita: zarr.Array<zarr.DataType, zarr.Readable>;
}

/** zarrita's metadata document for an array of our model, its data type in zarrita's terms. */
function zarritaMetadata(
  meta: ArrayLayout,
  dataType: string,
  fillValue: unknown,
): zarr.ArrayMetadata<zarr.DataType> {
  return {
    zarr_format: 3,
    node_type: "array",
    shape: meta.shape,
    data_type: dataType,
    chunk_grid: { name: "regular", configuration: { chunk_shape: meta.chunkShape } },
    chunk_key_encoding: {
      name: meta.chunkKeyEncoding.name,
      configuration: { separator: meta.chunkKeyEncoding.separator },
    },
    codecs: meta.codecs as zarr.CodecMetadata[],
    fill_value: fillValue as zarr.Scalar<zarr.DataType>,
    attributes: meta.attributes,
    ...(meta.dimensionNames ? { dimension_names: meta.dimensionNames as string[] } : {}),
  } as zarr.ArrayMetadata<zarr.DataType>;
}

export function openArray(
  store: ReadableStore,
  path: string,
  meta: ArrayMeta,
  storeName = "store",
): OpenedArray {
  return {
    path: joinKey(path),
    meta,
    storeName,
    zarrita: zarritaArray(store, path, meta, meta.dataType, meta.fillValue, storeName),
  };
}

/**
 * zarrita's `Array` for an array of our model (numbers or strings, read/strings.ts), once the
 * reader knows it can decode its chunks.
 */
export function zarritaArray(
  store: ReadableStore,
  path: string,
  meta: ArrayLayout,
  dataType: string,
  fillValue: unknown,
  storeName: string,
): zarr.Array<zarr.DataType, zarr.Readable> {
  const where = `${storeName}${joinKey(path)}`;
  // zarrita reads one level of sharding: a shard whose inner chunks are sharded again is refused
  // here, by name, rather than failing in every chunk read.
  if ((shardingOf(meta)?.codecs ?? []).some((c) => c.name === "sharding_indexed")) {
    throw new GeoZarrError(
      "Unsupported",
      `${where}: nested sharding (inner chunks sharded again) is not supported`,
      {
        where,
      },
    );
  }
  checkCodecNames(meta, where);
  return new zarr.Array(
    store as zarr.Readable,
    joinKey(path) as zarr.AbsolutePath,
    zarritaMetadata(meta, dataType, fillValue),
  );
}

/** The store key of a grid chunk, as messages name it. */
export function chunkStoreKey(a: OpenedArray, coords: readonly number[]): string {
  return `${a.storeName}${joinKey(a.path, chunkKey(a.meta.chunkKeyEncoding, coords))}`;
}

/** Decode one grid chunk (or, for sharded arrays, one inner chunk: coords on the inner grid). */
export async function readChunk(a: OpenedArray, coords: number[]): Promise<ChunkData> {
  const sharding = shardingOf(a.meta);
  const expected = product(sharding ? sharding.chunkShape : a.meta.chunkShape);
  const key = sharding
    ? chunkStoreKey(
        a,
        coords.map((c, d) => Math.floor((c * sharding.chunkShape[d]!) / a.meta.chunkShape[d]!)),
      )
    : chunkStoreKey(a, coords);
  let chunk: { data: unknown; shape: number[]; stride: number[] };
  try {
    chunk = await a.zarrita.getChunk(coords);
  } catch (err) {
    if (isGeoZarrError(err)) throw err;
    throw new GeoZarrError("Codec", `${key}: cannot decode chunk: ${causeMessage(err)}`, {
      where: key,
      cause: err,
    });
  }
  // zarrita decodes bool chunks into its BoolArray (not an ArrayBuffer view); our model keeps bool
  // as bytes (dtype.ts), so take its bytes.
  const data = (
    chunk.data instanceof zarr.BoolArray
      ? new Uint8Array(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength)
      : chunk.data
  ) as AnyTypedArray;
  if (!ArrayBuffer.isView(data) || data.length !== expected) {
    const got = ArrayBuffer.isView(data) ? data.byteLength : 0;
    throw new GeoZarrError(
      "ChunkSize",
      `${key}: chunk decodes to ${got} bytes, expected ${expected * dataTypeInfo(a.meta.dataType).size}`,
      { where: key },
    );
  }
  return { data, shape: chunk.shape, stride: chunk.stride };
}

/** zarrita wraps codec failures; the innermost cause says what went wrong. */
export function causeMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return messageOf(e);
}
