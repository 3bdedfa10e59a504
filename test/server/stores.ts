/**
 * Stores for the inspector's safety tests, written by hand (documents as a hostile or unusual
 * producer would write them; chunks only where a test needs their bytes).
 */

import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const group = { zarr_format: 3, node_type: "group", attributes: {} };

/** A v3 array document; `georeferenced` adds spatial:/proj: so the map considers drawing it. */
function arrayDoc(shape: number[], chunk: number[], dataType: string, georeferenced: boolean): object {
  return {
    zarr_format: 3,
    node_type: "array",
    shape,
    data_type: dataType,
    chunk_grid: { name: "regular", configuration: { chunk_shape: chunk } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: dataType === "float32" ? "NaN" : 0,
    codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    dimension_names: shape.length === 2 ? ["y", "x"] : ["i"],
    attributes: georeferenced
      ? {
          "spatial:dimensions": ["y", "x"],
          "spatial:transform": [0.001, 0, -180, 0, -0.001, 90],
          "proj:code": "EPSG:4326",
        }
      : {},
  };
}

/** A store holding one 2-D float32 array `name` of `shape` in `chunk`s, with no chunk written. */
export function emptyGridStore(dir: string, name: string, shape: number[], chunk: number[]): string {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, "zarr.json"), JSON.stringify(group));
  writeFileSync(join(dir, name, "zarr.json"), JSON.stringify(arrayDoc(shape, chunk, "float32", true)));
  return dir;
}

/** The hostile store: an array declared 1e15 x 1e15, no chunks. */
export function hugeStore(dir: string): string {
  return emptyGridStore(dir, "big", [1e15, 1e15], [1000, 1000]);
}

/**
 * An overview that takes long to build: 40000 x 40000 cells in 50 x 50 chunks is 640,000 chunk
 * tasks (under the limits of 2^34 cells and 2^20 chunks), all reading missing chunks.
 */
export function slowStore(dir: string): string {
  return emptyGridStore(dir, "slow", [40000, 40000], [50, 50]);
}

/** A store with one 1-D uint8 array "blob" stored as a single chunk of `bytes` random bytes. */
export function blobStore(dir: string, bytes: number): { dir: string; chunk: Buffer; key: string } {
  mkdirSync(join(dir, "blob", "c"), { recursive: true });
  writeFileSync(join(dir, "zarr.json"), JSON.stringify(group));
  writeFileSync(join(dir, "blob", "zarr.json"), JSON.stringify(arrayDoc([bytes], [bytes], "uint8", false)));
  const chunk = randomBytes(bytes);
  writeFileSync(join(dir, "blob", "c", "0"), chunk);
  return { dir, chunk, key: "blob/c/0" };
}
