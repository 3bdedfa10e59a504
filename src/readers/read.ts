/**
 * Read boxes of a variable on whatever thread runs the task. Each thread keeps its own open files
 * (one h5wasm instance per worker: WebAssembly memory is per thread), so reads scale with workers.
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { fsError, GeoZarrError } from "../errors.js";
import { type AnyTypedArray, allocate, type DataType, dataTypeInfo, viewAs } from "../zarr/dtype.js";
import { product } from "../zarr/metadata/model.js";
import type { Box } from "../zarr/ndarray.js";
import type { OutBox } from "../zarr/read/read-task.js";
import { bytesToBinary } from "../zarr/strings.js";
import { keptVersion } from "./byte-source.js";
import { closeDirect, type DirectVariable, directVariable, readDirectInto } from "./hdf5-direct.js";
import { fileVersion, Kept } from "./kept.js";
import type { TextStorage, VariableRef } from "./model.js";
import { type Nc3Header, readNc3Box, readNc3Header } from "./netcdf3.js";
import {
  type H5Dataset,
  type H5File,
  type H5Runtime,
  h5runtime,
  hdf5Message,
  hdf5Storage,
  openH5,
} from "./netcdf4.js";

// Open files kept per thread, under the version they were opened at (kept.ts).
const h5files = new Kept<H5File>((f) => f.close());
const nc3files = new Kept<{ fd: number; header: Nc3Header }>((f) => closeSync(f.fd));
/** Direct-read plans by file and path (null: read through h5wasm); the recent ones (kept.ts). */
const direct = new Kept<DirectVariable | null>(undefined, 256);

/** Close everything this thread opened (tests; workers end with their thread). */
export function closeAll(): void {
  h5files.clear();
  nc3files.clear();
  direct.clear();
  closeDirect();
}

/**
 * Close what this thread keeps open of `file` through h5wasm or for NetCDF classic reads: a file
 * read once (a granule scanned for a time series) need not hold its HDF5 structures in the
 * thread's WebAssembly heap until the thread ends. Direct chunk reads (hdf5-direct.ts) keep theirs.
 */
export function closeFile(file: string): void {
  h5files.drop(file);
  nc3files.drop(file);
}

/**
 * A WASM-heap buffer for hyperslab reads, grown as needed and kept (one per thread and h5wasm
 * build: the local files' and the remote files' have heaps of their own).
 */
const heaps = new Map<H5Runtime, { ptr: number; size: number }>();

function heapBuffer(rt: H5Runtime, size: number): number {
  let heap = heaps.get(rt);
  if (!heap || heap.size < size) {
    if (heap) rt._free(heap.ptr);
    const ptr = rt._malloc(size);
    if (!ptr) throw new GeoZarrError("IO", `cannot allocate ${size} bytes for HDF5 reads`);
    heap = { ptr, size };
    heaps.set(rt, heap);
  }
  return heap.ptr;
}

/**
 * Read a box of a NetCDF-4 variable straight into a kept WASM buffer, and return a view of it: no
 * per-read allocation and no copy out of the WASM heap (h5wasm's `slice` makes both). The view is
 * valid until the next read on this thread. Non-native byte orders go through `slice`.
 */
async function readH5Box(
  d: H5Dataset,
  box: Box,
  dataType: DataType,
  remote: boolean,
): Promise<AnyTypedArray> {
  const m = d.metadata;
  if (!m.littleEndian || box.shape.length === 0)
    return d.slice(box.start.map((s, i) => [s, s + box.shape[i]!])) as AnyTypedArray;
  const rt = await h5runtime(remote);
  const n = product(box.shape);
  const bytes = n * dataTypeInfo(dataType).size;
  const ptr = heapBuffer(rt, Math.max(8, bytes));
  rt.get_dataset_data(
    d.file_id,
    d.path,
    box.shape.map(BigInt),
    box.start.map(BigInt),
    box.shape.map(() => 1n),
    BigInt(ptr),
  );
  // HEAPU8 is replaced when WASM memory grows: take the buffer after the read.
  return viewAs(dataType, new Uint8Array(rt.HEAPU8.buffer, ptr, bytes));
}

/** The version of a variable's file: for a file in object storage the planned one, with its run (byte-source.ts). */
function versionOf(ref: Pick<VariableRef, "file" | "remote">): string {
  return ref.remote ? keptVersion(ref.remote) : fileVersion(ref.file);
}

async function h5file(ref: Pick<VariableRef, "file" | "remote">, version = versionOf(ref)): Promise<H5File> {
  return (
    h5files.lookup(ref.file, version) ?? h5files.keep(ref.file, version, await openH5(ref.file, ref.remote))
  );
}

function dataset(f: H5File, ref: VariableRef): H5Dataset {
  const d = f.get(ref.path) as H5Dataset | null;
  if (!d) throw new GeoZarrError("NotFound", `${ref.file}: no variable ${ref.path}`, { where: ref.file });
  return d;
}

/**
 * Read the values of `box` of a NetCDF-4 variable straight into the parts of `targets` it
 * overlaps, chunk by chunk with native inflate (hdf5-direct.ts). Returns false when this variable
 * or box must be read through h5wasm instead ({@link readVariableBox}).
 */
export async function readVariableInto(
  ref: VariableRef,
  box: Box,
  targets: readonly OutBox[],
): Promise<boolean> {
  if (ref.format !== "netcdf4") return false;
  const version = versionOf(ref);
  const key = `${ref.file}\0${ref.path}`;
  let plan = direct.lookup(key, version);
  if (plan === undefined) {
    try {
      // Facts gathered when the file was opened spare this thread loading h5wasm at all.
      const facts = ref.hdf5 ?? hdf5Storage(dataset(await h5file(ref, version), ref));
      plan = facts ? await directVariable(ref.file, ref.path, facts, version, ref.remote) : null;
    } catch (err) {
      if (err instanceof GeoZarrError) throw err;
      plan = null; // h5wasm's read reports what is wrong
    }
    direct.keep(key, version, plan);
  }
  return plan !== null && (await readDirectInto(plan, box, targets));
}

/**
 * The values of a box of a variable. For NetCDF-4 the result is a view valid until this thread's
 * next read (copy it to keep it).
 */
export async function readVariableBox(ref: VariableRef, box: Box): Promise<AnyTypedArray> {
  if (ref.format === "netcdf3") {
    const version = fileVersion(ref.file);
    let f = nc3files.lookup(ref.file, version);
    if (!f) {
      const header = readNc3Header(ref.file);
      let fd: number;
      try {
        fd = openSync(ref.file, "r");
      } catch (err) {
        throw fsError(err, ref.file, "open");
      }
      f = nc3files.keep(ref.file, version, { fd, header });
    }
    return readNc3Box(ref.file, f.header, ref.path.slice(1), box, f.fd);
  }
  const f = await h5file(ref);
  try {
    const d = dataset(f, ref);
    if (box.shape.length === 0) {
      // Scalars have no hyperslab: read the value (h5wasm returns a number or bigint).
      const v = (d as unknown as { value: unknown }).value;
      const a = allocate(ref.dataType, 1) as Float64Array;
      a[0] = (ArrayBuffer.isView(v) ? (v as unknown as ArrayLike<number>)[0] : v) as number;
      return a as AnyTypedArray;
    }
    return await readH5Box(d, box, ref.dataType, ref.remote !== undefined);
  } catch (err) {
    if (err instanceof GeoZarrError) throw err;
    throw new GeoZarrError("Format", `${ref.file}: cannot read ${ref.path}: ${hdf5Message(err)}`, {
      where: ref.file,
      cause: err,
    });
  }
}

/**
 * The values of a text variable (model.ts `TextStorage`), whole, on the calling thread: text
 * variables are small (labels, names); the caller checks the size first. Byte strings (NC_CHAR,
 * ASCII fixed-length) come back as binary strings (one code unit per byte, zarr/strings.ts) with
 * their NUL padding stripped, `width` bytes each; NC_STRING and UTF-8 fixed-length ones as text.
 * For NC_CHAR, `stacked` says whether the last dimension is the string length (CF 1.11 §2.2);
 * otherwise every character is a string of its own.
 */
export async function readText(
  ref: Omit<VariableRef, "dataType" | "hdf5">,
  shape: number[],
  storage: TextStorage,
  stacked = true,
): Promise<{ bytes: boolean; width: number; values: string[] }> {
  const stack = storage.kind === "char" && stacked && shape.length > 0;
  const width = storage.kind === "char" ? (stack ? shape[shape.length - 1]! : 1) : 0;
  // An NC_CHAR array of length 0 holds empty strings, one per element of the other dimensions.
  const count = product(stack ? shape.slice(0, -1) : shape);
  const strings = (raw: Uint8Array, width: number) => {
    const values = new Array<string>(width === 0 ? count : raw.length / width).fill("");
    for (let i = 0; width > 0 && i < values.length; i++)
      values[i] = bytesToBinary(raw.subarray(i * width, (i + 1) * width));
    return values;
  };
  if (ref.format === "netcdf3") {
    const raw = await readVariableBox({ ...ref, dataType: "uint8" }, { start: shape.map(() => 0), shape });
    return {
      bytes: true,
      width,
      values: strings(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), width),
    };
  }
  const f = await h5file(ref);
  let value: unknown;
  try {
    value = dataset(f, { ...ref, dataType: "uint8" }).value;
  } catch (err) {
    throw new GeoZarrError("Format", `${ref.file}: cannot read ${ref.path}: ${hdf5Message(err)}`, {
      where: ref.file,
      cause: err,
    });
  }
  const items = (Array.isArray(value) ? value : [value]).map((v) => (typeof v === "string" ? v : ""));
  if (storage.kind === "char") {
    // h5wasm gives one string per character, a byte as its code unit ("" for NUL).
    const raw = Uint8Array.from(items, (s) => (s === "" ? 0 : s.charCodeAt(0)));
    return { bytes: true, width, values: strings(raw, width) };
  }
  if (storage.kind === "fixed")
    return { bytes: !storage.utf8, width: storage.width, values: items.map((s) => s.replace(/\0+$/, "")) };
  return { bytes: false, width: 0, values: items };
}
