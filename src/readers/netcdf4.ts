/**
 * NetCDF-4 (HDF5) input through h5wasm: HDF5 compiled to WebAssembly, reading the file in place
 * from disk (NODERAWFS, no copy into memory), with deflate and shuffle filters and chunked
 * datasets. Dimensions come from HDF5 dimension scales, the way netCDF-C stores them
 * (NUG "NetCDF-4 format": DIMENSION_LIST / _Netcdf4Dimid).
 *
 * A file in object storage is opened by h5wasm's ESM build instead (loaded only then), whose
 * in-memory file system (MEMFS) lets a file node's reads be ours: they go to the file's byte source
 * (remote-source.ts, ranged GETs through a block cache), so the structure is read in place, never
 * downloaded (docs/design.md "Object storage").
 *
 * h5wasm's error handler is switched to throwing, so HDF5's diagnostic stack is never printed; we
 * turn its innermost message into a one-line error naming the file.
 *
 * @module
 */

import { statSync } from "node:fs";
import { GeoZarrError } from "../errors.js";
import type { DataType } from "../zarr/dtype.js";
import type { JsonObject } from "../zarr/json.js";
import { attributeValue } from "./attributes.js";
import type { ByteSource, RemoteFile } from "./byte-source.js";
import type { Hdf5Storage, SourceDataset, SourceGroup, SourceVariable, TextStorage } from "./model.js";

// Types from h5wasm/node, kept minimal: the package's own typings are not ESM-clean under NodeNext.
export interface H5Attr {
  value: unknown;
  metadata: H5AttrMeta;
}
export interface H5Dataset {
  type: "Dataset";
  file_id: bigint;
  path: string;
  shape: number[] | null;
  metadata: {
    type: number;
    size: number;
    signed: boolean;
    littleEndian: boolean;
    chunks: number[] | null;
    /** Strings: variable-length, and the character set (0 ASCII, 1 UTF-8). */
    vlen?: boolean;
    cset?: number;
    /** Enums: the base type's class and the members' values by name. */
    enum_type?: { type: number; members?: Record<string, number> };
  };
  attrs: Record<string, H5Attr>;
  /** All values (strings come back as JS strings). */
  value: unknown;
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

/** Emscripten's file system of the ESM build, as far as a file node backed by a byte source needs it. */
interface MemFs {
  mkdir(path: string): void;
  unlink(path: string): void;
  createFile(parent: string, name: string, props: object, read: boolean, write: boolean): MemNode;
}
interface MemNode {
  stream_ops: Record<string, unknown>;
}

type Loaded = { mod: H5Module; runtime: H5Runtime; fs?: MemFs };
let h5: Loaded | undefined;
let h5esm: Loaded | undefined;

async function loaded(remote = false): Promise<Loaded> {
  if (remote) {
    if (!h5esm) {
      // The ESM build (MEMFS): files whose reads we serve; the Node build (NODERAWFS) reads real paths only.
      const mod = (await import("h5wasm")) as unknown as H5Module & { FS: MemFs | null };
      const runtime = await mod.ready;
      runtime.activate_throwing_error_handler();
      mod.FS!.mkdir("/remote");
      h5esm = { mod, runtime, fs: mod.FS! };
    }
    return h5esm;
  }
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

/** The runtime of the build that opens local files, or (`remote`) files in object storage. */
export async function h5runtime(remote = false): Promise<H5Runtime> {
  return (await loaded(remote)).runtime;
}

let nodes = 0;

/**
 * A MEMFS file whose size is the source's and whose reads are the source's positioned reads
 * (Emscripten's `stream_ops.read(stream, heap, offset, length, position)`); nothing is stored in it.
 */
function sourceNode(fs: MemFs, src: ByteSource): string {
  const name = `f${++nodes}`;
  const node = fs.createFile("/remote", name, {}, true, false);
  Object.defineProperty(node, "usedBytes", { get: () => src.size });
  node.stream_ops = {
    ...node.stream_ops,
    read: (_s: unknown, heap: Uint8Array, offset: number, length: number, position: number) => {
      const n = Math.max(0, Math.min(length, src.size - position));
      return n === 0 ? 0 : src.read(new Uint8Array(heap.buffer, heap.byteOffset + offset, n), position);
    },
  };
  return `/remote/${name}`;
}

/** The innermost HDF5 error message ("truncated file: eof = ..."), or the first line. */
export function hdf5Message(err: unknown): string {
  const text = String((err as { message?: string })?.message ?? err);
  const frames = [...text.matchAll(/#\d+: .*? in (\w+)\(\): (.+)/g)];
  const last = frames.at(-1);
  return last ? last[2]!.trim() : text.split("\n")[0]!;
}

/** Open a local file, or (`remote`) a file in object storage named by its URL, `file`. */
export async function openH5(file: string, remote?: RemoteFile): Promise<H5File> {
  const { mod, fs } = await loaded(remote !== undefined);
  let path = file;
  if (remote) {
    const { byteSource } = await import("./byte-source.js");
    path = sourceNode(fs!, await byteSource(file, remote.version, remote));
  }
  try {
    const f = new mod.File(path, "r");
    if (remote) {
      const close = f.close.bind(f);
      f.close = () => {
        close();
        fs!.unlink(path);
      };
    }
    return f;
  } catch (err) {
    if (remote) fs!.unlink(path);
    if (err instanceof GeoZarrError) throw err; // the source's own error (a read failed, the file changed)
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

/**
 * Call into h5wasm and turn an HDF5 failure into one line naming the file, the object and what was
 * being read (HDF5's innermost message: "incorrect metadata checksum after all read attempts").
 */
export function h5read<T>(file: string, object: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw h5Error(file, object, what, err);
  }
}

function h5Error(file: string, object: string, what: string, err: unknown): GeoZarrError {
  if (err instanceof GeoZarrError) return err;
  return new GeoZarrError("Format", `${file}: ${object}: cannot read ${what}: ${hdf5Message(err)}`, {
    where: file,
    cause: err,
  });
}

/** HDF5 type classes whose values are CF metadata: integer, float, string (H5Tpublic.h H5T_class_t). */
const ATTRIBUTE_CLASSES = new Set([0, 1, 3]);

interface H5AttrMeta {
  type: number;
  size: number;
  total_size?: number;
  vlen?: boolean;
}

/**
 * An object's attributes. Every read error is reported (a silently dropped `units` is wrong
 * output); only attributes of types that carry no CF metadata (references, compounds, enums:
 * netCDF-C's own bookkeeping) are left out. A declared size beyond the file's is corruption, refused
 * before h5wasm allocates it.
 */
function attrsOf(
  file: string,
  object: string,
  obj: { attrs: Record<string, H5Attr> },
  fileSize: number,
): JsonObject {
  const out: JsonObject = {};
  const attrs = h5read(file, object, "its attribute names", () => obj.attrs);
  for (const k of Object.keys(attrs)) {
    if (INTERNAL.has(k)) continue;
    const what = `attribute ${k}`;
    let a: H5Attr;
    try {
      a = attrs[k]!;
    } catch (err) {
      // h5wasm's own type mapping ("int of size 3 unsupported") is not corruption: not CF metadata
      if (!/HDF5-DIAG|#\d+:/.test(String((err as Error)?.message ?? err))) continue;
      throw h5Error(file, object, what, err);
    }
    const meta = a.metadata;
    if (!ATTRIBUTE_CLASSES.has(meta.type)) continue;
    const bytes = meta.size * (meta.total_size ?? 1);
    if (!(bytes <= fileSize))
      throw new GeoZarrError(
        "Format",
        `${file}: ${object}: cannot read ${what}: its declared size (${bytes} bytes) exceeds the file's (${fileSize}): corrupt metadata`,
        { where: file },
      );
    const j = attributeValue(h5read(file, object, what, () => a.value));
    if (j !== undefined) out[k] = j;
  }
  return out;
}

/** HDF5 strings (class 3): fixed size 1 is netCDF-C's NC_CHAR, other fixed sizes h5py's `S<n>`, vlen NC_STRING. */
function textStorageOf(m: H5Dataset["metadata"]): TextStorage | undefined {
  if (m.type !== 3) return undefined;
  if (m.vlen) return { kind: "string" };
  return m.size === 1 ? { kind: "char" } : { kind: "fixed", width: m.size, utf8: m.cset === 1 };
}

const isBoolEnum = (members: Record<string, number>) =>
  Object.keys(members).length === 2 && members.FALSE === 0 && members.TRUE === 1;

/**
 * An enum's members as CF flags (CF 1.11 §3.5: `flag_values` with `flag_meanings`, the CF form of
 * a named set of integer values), unless the variable already has flags. h5py's booleans (an
 * enum FALSE = 0, TRUE = 1) are read as `bool` and need none.
 */
function enumAttributes(m: H5Dataset["metadata"], attributes: JsonObject): JsonObject {
  const members = m.enum_type?.members ?? {};
  if (isBoolEnum(members) || attributes.flag_values !== undefined) return {};
  const entries = Object.entries(members).sort(([, a], [, b]) => a - b);
  if (entries.length === 0) return {};
  return {
    flag_values: entries.map(([, v]) => v),
    flag_meanings: entries.map(([k]) => k.trim().replace(/\s+/g, "_")).join(" "),
  };
}

function dataTypeOf(m: H5Dataset["metadata"]): DataType | null {
  // Enums (class 8) hold their base integer type: h5py's booleans read as bool.
  if (m.type === 8) {
    if (m.enum_type?.type !== 0) return null;
    if (isBoolEnum(m.enum_type.members ?? {}) && m.size === 1) return "bool";
    return dataTypeOf({ ...m, type: 0 });
  }
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

export async function openNetcdf4(file: string, remote?: RemoteFile): Promise<SourceDataset> {
  const f = await openH5(file, remote);
  const fileSize = remote ? remote.size : statSync(file).size;
  try {
    const ds: SourceDataset = { file, format: "netcdf4", groups: [], ...(remote ? { remote } : {}) };
    const phonies: { group: string; size: number; name: string }[] = [];
    const walk = (g: H5Group, path: string) => {
      const group: SourceGroup = {
        path,
        attributes: attrsOf(file, path, g, fileSize),
        dims: {},
        variables: [],
        others: [],
      };
      ds.groups.push(group);
      const children: [H5Group, string][] = [];
      for (const name of h5read(file, path, "its members", () => g.keys())) {
        const childPath = path === "/" ? `/${name}` : `${path}/${name}`;
        const obj = h5read(file, childPath, "its object header", () => g.get(name));
        if (!obj) continue;
        if (obj.type === "Group") {
          children.push([obj, childPath]);
          continue;
        }
        // Committed datatypes (netCDF-C's enum and compound types) are types, not variables.
        if ((obj as { type: string }).type !== "Dataset") continue;
        const { shape, metadata } = h5read(file, childPath, "its dataspace and type", () => ({
          shape: obj.shape ?? [],
          metadata: obj.metadata,
        }));
        const attributes = attrsOf(file, childPath, obj, fileSize);
        const cls = h5read(file, childPath, "attribute CLASS", () => obj.attrs.CLASS?.value);
        const isDim = String(cls ?? "") === "DIMENSION_SCALE";
        if (isDim && shape.length === 1) group.dims[name] = shape[0]!;
        if (isDim) {
          const label = h5read(file, childPath, "attribute NAME", () => obj.attrs.NAME?.value);
          if (String(label ?? "").startsWith(NOT_A_VARIABLE)) continue;
        }
        const dims: string[] = [];
        for (const [i, n] of shape.entries()) {
          const scales = h5read(file, childPath, "its dimension scales", () => obj.get_attached_scales(i));
          // netCDF-C attaches the scale of the dimension. Without one, netCDF-C makes a "phony"
          // dimension per distinct length in the group (reused by datasets of that length), so
          // dimensions of one name never disagree in size.
          if (scales.length) {
            dims.push(base(scales[0]!));
            continue;
          }
          let phony = phonies.find((p) => p.group === path && p.size === n && !dims.includes(p.name));
          if (!phony) {
            phony = { group: path, size: n, name: `phony_dim_${phonies.length}` };
            phonies.push(phony);
          }
          dims.push(phony.name);
        }
        if (isDim) dims[0] = name;
        const dataType = dataTypeOf(metadata);
        if (!dataType) {
          const text = textStorageOf(metadata);
          const reason = text ? "its data type is text (NC_CHAR or string)" : "its data type is not numeric";
          group.others.push({ name, path: childPath, dims, shape, attributes, reason, text });
          continue;
        }
        if (metadata.type === 8) Object.assign(attributes, enumAttributes(metadata, attributes));
        const variable: SourceVariable = {
          name,
          path: childPath,
          dims,
          shape,
          dataType,
          chunks: metadata.chunks,
          attributes,
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
