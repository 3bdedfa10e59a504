import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

export interface ZarritaArray {
  dtype: string;
  values: unknown[];
  shape: number[];
}

/**
 * zarrita's own reading of arrays of a v3 store, in a process of its own (its package and its
 * codecs, no geozarr code registered): each array's data type, values and shape.
 */
export function zarritaRead(store: string, names: string[]): Record<string, ZarritaArray> {
  const code = `
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";
const [store, ...names] = process.argv.slice(1);
const root = zarr.root(new FileSystemStore(store));
const out = {};
for (const n of names) {
  const a = await zarr.open.v3(root.resolve(n), { kind: "array" });
  const got = await zarr.get(a);
  out[n] = { dtype: a.dtype, values: Array.from(got.data), shape: got.shape };
}
console.log(JSON.stringify(out));
`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code, store, ...names], {
    encoding: "utf8",
    cwd: resolve(import.meta.dirname, "../.."),
  });
  if (r.status !== 0) throw new Error(`zarrita failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
