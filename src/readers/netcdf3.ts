/**
 * NetCDF classic input (CDF-1 classic, CDF-2 64-bit offset, CDF-5 64-bit data), read straight from
 * the file with positioned reads: the header (NUG "NetCDF Classic Format Specification") gives each
 * variable's offset, and a box of values is a set of contiguous big-endian runs.
 *
 * Why our own: netcdfjs, the npm reader of this format, needs the whole file in memory and
 * returns whole variables; a band reader must stay within bounded memory (docs/design.md).
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { fsError, GeoZarrError } from "../errors.js";
import { type AnyTypedArray, allocate, type DataType, dataTypeInfo } from "../zarr/dtype.js";
import type { JsonObject, JsonValue } from "../zarr/json.js";
import { product } from "../zarr/metadata/model.js";
import { type Box, stridesOf } from "../zarr/ndarray.js";
import type { SourceDataset, SourceVariable } from "./model.js";

const NC_DIMENSION = 0x0a;
const NC_VARIABLE = 0x0b;
const NC_ATTRIBUTE = 0x0c;

/** nc_type codes to data types (NC_CHAR, 2, is text). */
const TYPES: Record<number, DataType | "char"> = {
  1: "int8",
  2: "char",
  3: "int16",
  4: "int32",
  5: "float32",
  6: "float64",
  7: "uint8",
  8: "uint16",
  9: "uint32",
  10: "int64",
  11: "uint64",
};

export interface Nc3Variable {
  name: string;
  dims: string[];
  shape: number[];
  type: DataType | "char";
  attributes: JsonObject;
  /** Byte offset of the data (of record 0 for record variables). */
  begin: number;
  /** Whether the first dimension is the record (unlimited) dimension. */
  isRecord: boolean;
}

export interface Nc3Header {
  version: 1 | 2 | 5;
  numrecs: number;
  /** Bytes per record, all record variables together. */
  recsize: number;
  dims: { name: string; size: number; isRecord: boolean }[];
  attributes: JsonObject;
  variables: Nc3Variable[];
}

/** Sequential big-endian reader over the header bytes. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly version: number,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new GeoZarrError(
        "Format",
        `${this.file}: truncated or corrupt NetCDF header (at byte ${this.pos})`,
        { where: this.file },
      );
    }
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return Number(v);
  }
  /** A count or size: 4 bytes, or 8 in CDF-5. */
  size(): number {
    return this.version === 5 ? this.u64() : this.u32();
  }
  name(): string {
    const n = this.size();
    this.need(n);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += pad4(n);
    return s;
  }
  values(type: DataType | "char", n: number): JsonValue {
    if (type === "char") {
      this.need(n);
      const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n)).replace(/\0+$/, "");
      this.pos += pad4(n);
      return s;
    }
    const size = dataTypeInfo(type).size;
    this.need(n * size);
    const arr = decodeBigEndian(this.bytes.subarray(this.pos, this.pos + n * size), type);
    this.pos += pad4(n * size);
    const items = Array.from(arr as unknown as ArrayLike<number | bigint>, (x) =>
      typeof x === "bigint" && Number.isSafeInteger(Number(x)) ? Number(x) : x,
    );
    return items.length === 1 ? items[0]! : items;
  }
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** Big-endian bytes to a native (little-endian) typed array. */
function decodeBigEndian(bytes: Uint8Array, type: DataType): AnyTypedArray {
  const size = dataTypeInfo(type).size;
  const out = allocate(type, bytes.length / size);
  const o = new Uint8Array(out.buffer);
  if (size === 1) o.set(bytes);
  else
    for (let i = 0; i < bytes.length; i += size)
      for (let b = 0; b < size; b++) o[i + b] = bytes[i + size - 1 - b]!;
  return out;
}

function typeOf(code: number, file: string): DataType | "char" {
  const t = TYPES[code];
  if (!t)
    throw new GeoZarrError("Format", `${file}: corrupt NetCDF header (unknown type ${code})`, {
      where: file,
    });
  return t;
}

function attrList(c: Cursor, file: string): JsonObject {
  const out: JsonObject = {};
  const tag = c.u32();
  const n = c.size();
  if (tag === 0 && n === 0) return out;
  if (tag !== NC_ATTRIBUTE)
    throw new GeoZarrError("Format", `${file}: corrupt NetCDF header (attribute list)`, { where: file });
  for (let i = 0; i < n; i++) {
    const name = c.name();
    const type = typeOf(c.u32(), file);
    out[name] = c.values(type, c.size());
  }
  return out;
}

/** Parse the header of a classic file from its first bytes (`fileSize` resolves streamed record counts). */
export function parseNc3Header(head: Uint8Array, fileSize: number, file: string): Nc3Header {
  if (
    head.length < 8 ||
    head[0] !== 0x43 ||
    head[1] !== 0x44 ||
    head[2] !== 0x46 ||
    ![1, 2, 5].includes(head[3]!)
  ) {
    throw new GeoZarrError("Format", `${file}: not a NetCDF classic file`, { where: file });
  }
  const version = head[3] as 1 | 2 | 5;
  const c = new Cursor(head, version, file);
  c.pos = 4;
  let numrecs = c.size();
  const dims: Nc3Header["dims"] = [];
  const tag = c.u32();
  const nd = c.size();
  if (!(tag === 0 && nd === 0)) {
    if (tag !== NC_DIMENSION)
      throw new GeoZarrError("Format", `${file}: corrupt NetCDF header (dimension list)`, { where: file });
    for (let i = 0; i < nd; i++) {
      const name = c.name();
      const size = c.size();
      dims.push({ name, size, isRecord: size === 0 });
    }
  }
  const attributes = attrList(c, file);
  const variables: Nc3Variable[] = [];
  const vtag = c.u32();
  const nv = c.size();
  if (!(vtag === 0 && nv === 0)) {
    if (vtag !== NC_VARIABLE)
      throw new GeoZarrError("Format", `${file}: corrupt NetCDF header (variable list)`, { where: file });
    for (let i = 0; i < nv; i++) {
      const name = c.name();
      const ndims = c.size();
      const ids = Array.from({ length: ndims }, () => c.size());
      const vattrs = attrList(c, file);
      const type = typeOf(c.u32(), file);
      c.size(); // vsize: recomputed below (the stored one is capped at 2^32-4 for large variables)
      const begin = version === 1 ? c.u32() : c.u64();
      const vdims = ids.map((id) => {
        const d = dims[id];
        if (!d)
          throw new GeoZarrError("Format", `${file}: corrupt NetCDF header (dimension id ${id})`, {
            where: file,
          });
        return d;
      });
      variables.push({
        name,
        dims: vdims.map((d) => d.name),
        shape: vdims.map((d) => d.size),
        type,
        attributes: vattrs,
        begin,
        isRecord: vdims[0]?.isRecord ?? false,
      });
    }
  }
  const recordVars = variables.filter((v) => v.isRecord);
  const itemSize = (v: Nc3Variable) => (v.type === "char" ? 1 : dataTypeInfo(v.type).size);
  const sliceBytes = (v: Nc3Variable) => product(v.shape.slice(1)) * itemSize(v);
  // One record variable is stored without padding between records (classic format spec, "vsize").
  const recsize =
    recordVars.length === 1
      ? sliceBytes(recordVars[0]!)
      : recordVars.reduce((s, v) => s + pad4(sliceBytes(v)), 0);
  const streaming = version === 5 ? numrecs >= 2 ** 64 - 4096 : numrecs === 0xffffffff;
  if (streaming) {
    // STREAMING: the number of records follows from the file size
    const first = Math.min(...recordVars.map((v) => v.begin));
    numrecs = recsize > 0 ? Math.floor((fileSize - first) / recsize) : 0;
  }
  for (const v of recordVars) v.shape[0] = numrecs;
  for (const d of dims) if (d.isRecord) d.size = numrecs;
  return { version, numrecs, recsize, dims, attributes, variables };
}

const HEADER_READ = 1 << 20;

/** Read and parse a classic file's header (reading more when the header is larger). */
export function readNc3Header(file: string): Nc3Header {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    throw fsError(err, file, "open");
  }
  try {
    const size = fstatSync(fd).size;
    for (let n = HEADER_READ; ; n *= 4) {
      const buf = new Uint8Array(Math.min(n, size));
      readSync(fd, buf, 0, buf.length, 0);
      try {
        return parseNc3Header(buf, size, file);
      } catch (err) {
        if (buf.length >= size) throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function openNetcdf3(file: string): SourceDataset {
  const h = readNc3Header(file);
  const ds: SourceDataset = { file, format: "netcdf3", groups: [], skipped: [] };
  const variables: SourceVariable[] = [];
  for (const v of h.variables) {
    if (v.type === "char") {
      ds.skipped.push({ path: `/${v.name}`, reason: "its data type is text (NC_CHAR)" });
      continue;
    }
    variables.push({
      name: v.name,
      path: `/${v.name}`,
      dims: v.dims,
      shape: v.shape,
      dataType: v.type,
      chunks: null,
      attributes: v.attributes,
    });
  }
  const dims = Object.fromEntries(h.dims.map((d) => [d.name, d.size]));
  ds.groups.push({ path: "/", attributes: h.attributes, dims, variables });
  return ds;
}

/** Read a box of a variable: contiguous runs along the trailing dimensions, one read each. */
export function readNc3Box(
  file: string,
  header: Nc3Header,
  name: string,
  box: Box,
  fd: number,
): AnyTypedArray {
  const v = header.variables.find((x) => x.name === name);
  if (!v || v.type === "char")
    throw new GeoZarrError("NotFound", `${file}: no numeric variable ${name}`, { where: file });
  const size = dataTypeInfo(v.type).size;
  const out = new Uint8Array(product(box.shape) * size);
  if (out.length === 0) return decodeBigEndian(out, v.type);
  // Within one record (or the whole variable): C order over the non-record dims.
  const inner = v.isRecord ? v.shape.slice(1) : v.shape;
  const innerStart = v.isRecord ? box.start.slice(1) : box.start;
  const innerCount = v.isRecord ? box.shape.slice(1) : box.shape;
  const strides = stridesOf(inner);
  // Merge trailing dims read whole into one run.
  let k = inner.length - 1;
  let run = innerCount[k] ?? 1;
  while (k > 0 && innerCount[k] === inner[k]) {
    k--;
    run *= innerCount[k]!;
  }
  const records = v.isRecord ? Array.from({ length: box.shape[0]! }, (_, i) => box.start[0]! + i) : [0];
  let pos = 0;
  const idx = new Array<number>(Math.max(0, k)).fill(0);
  for (const r of records) {
    const base = v.begin + (v.isRecord ? r * header.recsize : 0);
    idx.fill(0);
    for (;;) {
      let off = 0;
      for (let d = 0; d < inner.length; d++) off += ((d < k ? idx[d]! : 0) + innerStart[d]!) * strides[d]!;
      const bytes = run * size;
      const got = readSync(fd, out, pos, bytes, base + off * size);
      if (got !== bytes) {
        throw new GeoZarrError(
          "Format",
          `${file}: truncated file: variable ${name} ends beyond the end of the file`,
          { where: file },
        );
      }
      pos += bytes;
      let d = k - 1;
      while (d >= 0) {
        idx[d]!++;
        if (idx[d]! < innerCount[d]!) break;
        idx[d] = 0;
        d--;
      }
      if (d < 0) break;
    }
  }
  return decodeBigEndian(out, v.type);
}
