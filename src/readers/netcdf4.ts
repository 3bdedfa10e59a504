/**
 * NetCDF-4 (HDF5) input through h5wasm: HDF5 compiled to WebAssembly, reading the file in place
 * from disk (NODERAWFS, no copy into memory), with deflate and shuffle filters and chunked
 * datasets. Dimensions come from HDF5 dimension scales, the way netCDF-C stores them
 * (NUG "NetCDF-4 format": DIMENSION_LIST / _Netcdf4Dimid).
 *
 * h5wasm's error handler is switched to throwing, so HDF5's diagnostic stack is never printed; we
 * turn its innermost message into a one-line error naming the file.
 *
 * @module
 */

import { GeoZarrError } from "../errors.js";
import type { DataType } from "../zarr/dtype.js";
import type { JsonObject } from "../zarr/json.js";
import { attributeValue } from "./attributes.js";
import type { Hdf5Storage, SourceDataset, SourceGroup, SourceVariable } from "./model.js";

// Types from h5wasm/node, kept minimal: the package's own typings are not ESM-clean under NodeNext.
export interface H5Attr {
  value: unknown;
}
export interface H5Dataset {
  type: "Dataset";
  file_id: bigint;
  path: string;
  shape: number[] | null;
  metadata: { type: number; size: number; signed: boolean; littleEndian: boolean; chunks: number[] | null };
  attrs: Record<string, H5Attr>;
  slice(ranges: [number, number][]): unknown;
  get_attached_scales(index: number): string[];
  create_reference(): { ref_data: ArrayLike<number> };
  filters: { id: number; cd_values: number[] }[];
}
export interface H5Group {
  type: "Group";
  attrs: Record<string, H5Attr>;
  keys(): string[];
  get(name: string): H5Dataset | H5Group | null;
}
export interface H5File extends H5Group {
  close(): void;
}
/** The Emscripten module behind h5wasm: used to read hyperslabs into a buffer we keep. */
export interface H5Runtime {
  activate_throwing_error_handler(): void;
  get_dataset_data(
    fileId: bigint,
    path: string,
    count: bigint[],
    offset: bigint[],
    strides: bigint[],
    ptr: bigint,
  ): void;
  _malloc(n: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}
interface H5Module {
  File: new (path: string, mode: string) => H5File;
  ready: Promise<H5Runtime>;
}

let h5: { mod: H5Module; runtime: H5Runtime } | undefined;

async function loaded(): Promise<{ mod: H5Module; runtime: H5Runtime }> {
  if (!h5) {
    const mod = (await import("h5wasm/node")).default as unknown as H5Module;
    const runtime = await mod.ready;
    // Errors become exceptions instead of HDF5-DIAG stacks on stderr.
    runtime.activate_throwing_error_handler();
    h5 = { mod, runtime };
  }
  return h5;
}

export async function h5wasm(): Promise<H5Module> {
  return (await loaded()).mod;
}

export async function h5runtime(): Promise<H5Runtime> {
  return (await loaded()).runtime;
}

/** The innermost HDF5 error message ("truncated file: eof = ..."), or the first line. */
export function hdf5Message(err: unknown): string {
  const text = String((err as { message?: string })?.message ?? err);
  const frames = [...text.matchAll(/#\d+: .*? in (\w+)\(\): (.+)/g)];
  const last = frames.at(-1);
  return last ? last[2]!.trim() : text.split("\n")[0]!;
}

export async function openH5(file: string): Promise<H5File> {
  const { File } = await h5wasm();
  try {
    return new File(file, "r");
  } catch (err) {
    throw new GeoZarrError("Format", `${file}: not a readable NetCDF-4/HDF5 file: ${hdf5Message(err)}`, {
      where: file,
      cause: err,
    });
  }
}

/** Attributes that encode the netCDF-4 / HDF5 structure rather than user metadata. */
const INTERNAL = new Set([
  "CLASS",
  "NAME",
  "REFERENCE_LIST",
  "DIMENSION_LIST",
  "_Netcdf4Coordinates",
  "_Netcdf4Dimid",
  "_NCProperties",
  "_nc3_strict",
  "_FillValue_bytes",
]);
const NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable";

function attrsOf(obj: { attrs: Record<string, H5Attr> }): JsonObject {
  const out: JsonObject = {};
  for (const [k, a] of Object.entries(obj.attrs)) {
    if (INTERNAL.has(k)) continue;
    let v: unknown;
    try {
      v = a.value;
    } catch {
      continue; // attribute types h5wasm cannot read (references, compounds): not CF metadata
    }
    const j = attributeValue(v);
    if (j !== undefined) out[k] = j;
  }
  return out;
}

function dataTypeOf(m: H5Dataset["metadata"]): DataType | null {
  if (m.type === 0) {
    const bits = m.size * 8;
    if (![8, 16, 32, 64].includes(bits)) return null;
    return `${m.signed ? "int" : "uint"}${bits}` as DataType;
  }
  if (m.type === 1) return m.size === 4 ? "float32" : m.size === 8 ? "float64" : null;
  return null;
}

const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/**
 * Where HDF5 keeps a dataset's values, for direct chunk reads (hdf5-direct.ts): its object header
 * address (an object reference is that address, 8 bytes) and filter pipeline. Null when h5wasm's
 * reference has another form.
 */
export function hdf5Storage(d: H5Dataset): Hdf5Storage | null {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(d.create_reference().ref_data);
  } catch {
    return null; // then h5wasm reads the values
  }
  if (bytes.length !== 8) return null;
  const m = d.metadata;
  return {
    objectAddress: Number(new DataView(bytes.buffer).getBigUint64(0, true)),
    shape: d.shape ?? [],
    itemSize: m.size,
    littleEndian: m.littleEndian,
    filters: d.filters,
  };
}

export async function openNetcdf4(file: string): Promise<SourceDataset> {
  const f = await openH5(file);
  try {
    const ds: SourceDataset = { file, format: "netcdf4", groups: [], skipped: [] };
    const walk = (g: H5Group, path: string) => {
      const group: SourceGroup = { path, attributes: attrsOf(g), dims: {}, variables: [] };
      ds.groups.push(group);
      const children: [H5Group, string][] = [];
      for (const name of g.keys()) {
        const childPath = path === "/" ? `/${name}` : `${path}/${name}`;
        let obj: H5Dataset | H5Group | null;
        try {
          obj = g.get(name);
        } catch (err) {
          throw new GeoZarrError("Format", `${file}: cannot read ${childPath}: ${hdf5Message(err)}`, {
            where: file,
          });
        }
        if (!obj) continue;
        if (obj.type === "Group") {
          children.push([obj, childPath]);
          continue;
        }
        const shape = obj.shape ?? [];
        const isDim = String(obj.attrs.CLASS?.value ?? "") === "DIMENSION_SCALE";
        if (isDim && shape.length === 1) group.dims[name] = shape[0]!;
        if (isDim && String(obj.attrs.NAME?.value ?? "").startsWith(NOT_A_VARIABLE)) continue;
        const dataType = dataTypeOf(obj.metadata);
        if (!dataType) {
          ds.skipped.push({ path: childPath, reason: "its data type is not numeric" });
          continue;
        }
        const dims = shape.map((_, i) => {
          const scales = obj.get_attached_scales(i);
          // netCDF-C attaches the scale of the dimension; phony dims as netCDF-C names them
          return scales.length ? base(scales[0]!) : `phony_dim_${i}`;
        });
        if (isDim) dims[0] = name;
        const variable: SourceVariable = {
          name,
          path: childPath,
          dims,
          shape,
          dataType,
          chunks: obj.metadata.chunks,
          attributes: attrsOf(obj),
          hdf5: hdf5Storage(obj) ?? undefined,
        };
        group.variables.push(variable);
      }
      for (const [child, childPath] of children) walk(child, childPath);
    };
    walk(f, "/");
    return ds;
  } finally {
    f.close();
  }
}
