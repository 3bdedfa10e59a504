import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { type AnyTypedArray, type DataType, viewAs } from "../../src/zarr/dtype.js";
import { getNode, type Hierarchy } from "../../src/zarr/hierarchy.js";
import type { ArrayMeta } from "../../src/zarr/metadata/model.js";

export interface ExpectedArray {
  store: string;
  path: string;
  dtype: DataType;
  shape: number[];
  bin: string;
}

export function zarrPythonDir(): string {
  return inject("zarrPython");
}

export function zarrPythonManifest(): ExpectedArray[] {
  return JSON.parse(readFileSync(join(zarrPythonDir(), "manifest.json"), "utf8")) as ExpectedArray[];
}

/** The expected values of a fixture array (raw little-endian C-order bytes written by Python). */
export function expectedValues(e: ExpectedArray): AnyTypedArray {
  const buf = readFileSync(join(zarrPythonDir(), e.bin));
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return viewAs(e.dtype, copy);
}

/** Element-wise equality with NaN equal to NaN; returns the first differing index or -1. */
export function firstDifference(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return i;
  }
  return -1;
}

/** The metadata of an array node, failing the test when the node is missing or a group. */
export function arrayMeta(h: Hierarchy, path: string): ArrayMeta {
  const node = getNode(h, path);
  if (node.meta.kind !== "array") throw new Error(`${path} is not an array`);
  return node.meta;
}
