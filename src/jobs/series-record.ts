/**
 * What a time-series store remembers of its first granule (`.geozarr-series.json` at the store's
 * root, beside the Zarr documents, which readers ignore): the variables' dimensions, types,
 * storage chunks and packing, the other coordinates' and the grid mappings' digests. An append
 * checks new granules against it exactly as the first conversion checked its granules against
 * the first (convert/series/plan.ts `checkAgreement`); a store without it (made by another tool)
 * gets the checks its own metadata allows.
 * @module
 */

import { readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { ScannedInput } from "../convert/series/scan-task.js";
import { fsError } from "../errors.js";
import type { MutableStore, ReadableStore } from "../zarr/store/types.js";

export const SERIES_RECORD = ".geozarr-series.json";

export interface SeriesRecord {
  version: 1;
  concat: string;
  first: Omit<ScannedInput, "size" | "mtimeMs" | "variables"> & {
    variables: Record<string, Omit<ScannedInput["variables"][string], "hdf5">>;
  };
}

/** Write the record into the store's directory `target`, or into a store (an upload to s3://). */
export async function writeSeriesRecord(
  target: string | MutableStore,
  first: ScannedInput,
  concat: string,
): Promise<void> {
  const variables = Object.fromEntries(
    Object.entries(first.variables).map(([k, { hdf5: _, ...v }]) => [k, v] as const),
  );
  const { size: _s, mtimeMs: _m, ...rest } = first;
  // The granule's name only: the record describes it, it does not point at it.
  const record: SeriesRecord = {
    version: 1,
    concat,
    first: { ...rest, file: basename(rest.file), variables },
  };
  const text = `${JSON.stringify(record)}\n`;
  if (typeof target !== "string") return target.set(`/${SERIES_RECORD}`, new TextEncoder().encode(text));
  try {
    await writeFile(join(target, SERIES_RECORD), text);
  } catch (err) {
    throw fsError(err, join(target, SERIES_RECORD), "write");
  }
}

/** The record of a store, or null when it has none (or it is unreadable: the checks then rely on metadata). */
export async function readSeriesRecord(store: string | ReadableStore): Promise<SeriesRecord | null> {
  try {
    const text =
      typeof store === "string"
        ? await readFile(join(store, SERIES_RECORD), "utf8")
        : new TextDecoder().decode((await store.get(`/${SERIES_RECORD}`)) ?? new Uint8Array());
    const r = JSON.parse(text) as SeriesRecord;
    return r.version === 1 ? r : null;
  } catch {
    return null;
  }
}
