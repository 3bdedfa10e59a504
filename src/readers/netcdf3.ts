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
import type { OtherVariable, SourceDataset, SourceVariable } from "./model.js";

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

/** More of the file is needed to parse the header: at least `bytes` from its start. */
class NeedMore {
  constructor(readonly bytes: number) {}
}

/** Names are at most NC_MAX_NAME bytes (netcdf.h); a longer one is a corrupt length. */
const NC_MAX_NAME = 256;

/**
 * Sequential big-endian reader over the header bytes. Every count and length read from the file
 * is checked against the file's size before anything is allocated or looped over: a corrupt or
 * hostile header fails at once with the byte it is at, instead of allocating what it declares.
 */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly version: number,
    private readonly file: string,
    private readonly fileSize: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  corrupt(what: string): GeoZarrError {
    return new GeoZarrError("Format", `${this.file}: corrupt NetCDF header: ${what} (at byte ${this.pos})`, {
      where: this.file,
    });
  }
  need(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    if (this.pos + n > this.fileSize || !Number.isSafeInteger(n)) {
      throw new GeoZarrError(
        "Format",
        `${this.file}: truncated or corrupt NetCDF header: ${n} bytes declared at byte ${this.pos}, beyond the end of the file (${this.fileSize} bytes)`,
        { where: this.file },
      );
    }
    throw new NeedMore(this.pos + n);
  }
  /** A count of items of at least `minBytes` each: more than the rest of the file holds is corrupt. */
  count(what: string, minBytes: number): number {
    const n = this.size();
    if (n * minBytes > this.fileSize - this.pos)
      throw new GeoZarrError(
        "Format",
        `${this.file}: truncated or corrupt NetCDF header: ${n} ${what} declared at byte ${this.pos}, more than the rest of the file (${this.fileSize} bytes) holds`,
        { where: this.file },
      );
    return n;
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
    if (n > NC_MAX_NAME) throw this.corrupt(`a name of ${n} bytes (at most ${NC_MAX_NAME})`);
    this.need(pad4(n));
    // Some writers pad names with NULs inside the declared length; netCDF-C stops at the first.
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n)).replace(/\0[\s\S]*$/, "");
    this.pos += pad4(n);
    if (s === "") throw this.corrupt("an empty name");
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
  // An attribute takes at least 16 bytes: name length, a 4-byte name, type, count.
  const n = c.count("attributes", 16);
  if (tag === 0 && n === 0) return out;
  if (tag !== NC_ATTRIBUTE)
    throw new GeoZarrError("Format", `${file}: corrupt NetCDF header (attribute list)`, { where: file });
  for (let i = 0; i < n; i++) {
    const name = c.name();
    const type = typeOf(c.u32(), file);
    out[name] = c.values(type, c.count("values", 1));
  }
  return out;
}

/** Parse the header of a classic file from its first bytes (`fileSize` resolves streamed record counts). */
export function parseNc3Header(head: Uint8Array, fileSize: number, file: string): Nc3Header {
  try {
    return parseHeader(head, fileSize, file);
  } catch (err) {
    if (err instanceof NeedMore)
      throw new GeoZarrError("Format", `${file}: truncated NetCDF header (needs ${err.bytes} bytes)`, {
        where: file,
      });
    throw err;
  }
}

function parseHeader(head: Uint8Array, fileSize: number, file: string): Nc3Header {
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
  const c = new Cursor(head, version, file, fileSize);
  const word = version === 5 ? 8 : 4;
  c.pos = 4;
  let numrecs = c.size();
  const dims: Nc3Header["dims"] = [];
  const tag = c.u32();
  // A dimension takes at least a name length, a 4-byte name and a size.
  const nd = c.count("dimensions", 2 * word + 4);
  if (!(tag === 0 && nd === 0)) {
    if (tag !== NC_DIMENSION) throw c.corrupt("dimension list");
    for (let i = 0; i < nd; i++) {
      const name = c.name();
      const size = c.size();
      dims.push({ name, size, isRecord: size === 0 });
    }
  }
  const attributes = attrList(c, file);
  const variables: Nc3Variable[] = [];
  const vtag = c.u32();
  const nv = c.count("variables", 5 * word + 8);
  if (!(vtag === 0 && nv === 0)) {
    if (vtag !== NC_VARIABLE) throw c.corrupt("variable list");
    for (let i = 0; i < nv; i++) {
      const name = c.name();
      const ndims = c.count("dimension ids", word);
      const ids: number[] = [];
      for (let k = 0; k < ndims; k++) ids.push(c.size());
      const vattrs = attrList(c, file);
      const type = typeOf(c.u32(), file);
      c.size(); // vsize: recomputed below (the stored one is capped at 2^32-4 for large variables)
      const begin = version === 1 ? c.u32() : c.u64();
      const vdims = ids.map((id) => {
        const d = dims[id];
        if (!d) throw c.corrupt(`variable ${name}: dimension id ${id}`);
        return d;
      });
      // Only the first dimension may be the record dimension (classic format spec).
      if (vdims.slice(1).some((d) => d.isRecord))
        throw c.corrupt(`variable ${name}: the record dimension is not its first`);
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
  const headerEnd = c.pos;
  const recordVars = variables.filter((v) => v.isRecord);
  const itemSize = (v: Nc3Variable) => (v.type === "char" ? 1 : dataTypeInfo(v.type).size);
  const sliceBytes = (v: Nc3Variable) => product(v.shape.slice(1)) * itemSize(v);
  // Data lies after the header and inside the file: anything else is a corrupt or truncated file,
  // refused here, before a reader allocates what the header declares (netCDF-C: NC_ENOTNC).
  for (const v of variables) {
    if (v.begin < headerEnd)
      throw c.corrupt(`variable ${v.name} begins at byte ${v.begin}, inside the header (${headerEnd} bytes)`);
    // Record variables are checked below, against the number of records (none may be stored).
    // An empty variable may begin anywhere (netCDF-C writes begins past the end for them).
    const bytes = v.isRecord ? 0 : product(v.shape) * itemSize(v);
    if (bytes > 0 && v.begin + bytes > fileSize)
      throw new GeoZarrError(
        "Format",
        `${file}: truncated or corrupt NetCDF file: variable ${v.name} declares ${bytes} bytes at byte ${v.begin}, beyond the end of the file (${fileSize} bytes)`,
        { where: file },
      );
  }
  // One record variable is stored without padding between records (classic format spec, "vsize").
  const recsize =
    recordVars.length === 1
      ? sliceBytes(recordVars[0]!)
      : recordVars.reduce((s, v) => s + pad4(sliceBytes(v)), 0);
  const streaming = version === 5 ? numrecs >= 2 ** 64 - 4096 : numrecs === 0xffffffff;
  const first = Math.min(...recordVars.map((v) => v.begin));
  if (streaming) {
    // STREAMING: the number of records follows from the file size
    numrecs = recsize > 0 ? Math.floor((fileSize - first) / recsize) : 0;
  } else if (numrecs > 0) {
    for (const v of recordVars) {
      if (v.begin + (numrecs - 1) * recsize + sliceBytes(v) > fileSize)
        throw new GeoZarrError(
          "Format",
          `${file}: truncated or corrupt NetCDF file: ${numrecs} records of ${v.name} (${recsize} bytes each) declared from byte ${v.begin}, beyond the end of the file (${fileSize} bytes)`,
          { where: file },
        );
    }
  }
  for (const v of recordVars) v.shape[0] = numrecs;
  for (const d of dims) if (d.isRecord) d.size = numrecs;
  return { version, numrecs, recsize, dims, attributes, variables };
}

/** Headers are read in growing steps; past this, a header is refused rather than read into memory. */
const HEADER_READ = 1 << 20;
const HEADER_MAX = 256 << 20;

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
    let n = Math.min(HEADER_READ, size);
    for (;;) {
      const buf = new Uint8Array(n);
      readSync(fd, buf, 0, buf.length, 0);
      try {
        return parseHeader(buf, size, file);
      } catch (err) {
        if (!(err instanceof NeedMore)) throw err;
        if (err.bytes > HEADER_MAX)
          throw new GeoZarrError(
            "Format",
            `${file}: NetCDF header declares more than ${HEADER_MAX >> 20} MiB of attributes and names: corrupt, or not supported`,
            { where: file },
          );
        n = Math.min(size, Math.max(err.bytes, n * 4));
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function openNetcdf3(file: string): SourceDataset {
  const h = readNc3Header(file);
  const ds: SourceDataset = { file, format: "netcdf3", groups: [] };
  const variables: SourceVariable[] = [];
  const others: OtherVariable[] = [];
  for (const v of h.variables) {
    if (v.type === "char") {
      const { name, dims, shape, attributes } = v;
      others.push({
        name,
        path: `/${name}`,
        dims,
        shape,
        attributes,
        reason: "its data type is text (NC_CHAR)",
        text: { kind: "char" },
      });
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
  ds.groups.push({ path: "/", attributes: h.attributes, dims, variables, others });
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
  const found = header.variables.find((x) => x.name === name);
  if (!found) throw new GeoZarrError("NotFound", `${file}: no variable ${name}`, { where: file });
  // A char variable's values are its bytes (read as uint8; readers/read.ts `readText` makes text of them).
  const v = { ...found, type: found.type === "char" ? ("uint8" as const) : found.type };
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
