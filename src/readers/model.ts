/**
 * What a reader makes of an input file: a tree of groups with dimensions, attributes and
 * variables, in the terms of the NetCDF data model (Unidata NUG "Data Model"). Values are not
 * here: workers read them through `readers/read.ts` from a {@link VariableRef}.
 * @module
 */

import type { DataType } from "../zarr/dtype.js";
import type { JsonObject } from "../zarr/json.js";
import type { RemoteFile } from "./byte-source.js";

export type InputFormat = "netcdf4" | "netcdf3";

export interface SourceVariable {
  name: string;
  /** Path of the variable in the file ("/analysed_sst", "/group/x"). */
  path: string;
  dims: string[];
  shape: number[];
  dataType: DataType;
  /** Storage chunk shape, or null when stored contiguously (any read pattern is efficient). */
  chunks: number[] | null;
  /** Attributes as written (typed values as numbers, lists or strings); format internals removed. */
  attributes: JsonObject;
  /** NetCDF-4: where HDF5 keeps the values, so workers can read chunks without h5wasm. */
  hdf5?: Hdf5Storage | undefined;
}

/** What h5wasm tells about an HDF5 dataset's storage, enough to read its chunks directly. */
export interface Hdf5Storage {
  /** The object header address (an HDF5 object reference). */
  objectAddress: number;
  shape: number[];
  itemSize: number;
  littleEndian: boolean;
  /** The filter pipeline in order (HDF5 filter ids and client data). */
  filters: { id: number; cd_values: number[] }[];
}

/**
 * How a text variable keeps its values (CF 1.11 §2.2): NC_CHAR, bytes whose last dimension is the
 * string length; HDF5 fixed-length strings of `width` bytes (h5py's `S<n>`, ASCII or UTF-8); or
 * NC_STRING, variable-length.
 */
export type TextStorage =
  | { kind: "char" }
  | { kind: "fixed"; width: number; utf8: boolean }
  | { kind: "string" };

/**
 * A variable whose values are text (NC_CHAR, NetCDF-4 strings) or of a type we do not read: its
 * attributes still count, e.g. GDAL, CDO and NCO keep the CRS in a `char` grid-mapping variable.
 */
export interface OtherVariable {
  name: string;
  path: string;
  dims: string[];
  shape: number[];
  attributes: JsonObject;
  /** Why its values are not read as numbers ("its data type is text (NC_CHAR)"). */
  reason: string;
  /** For text, how it is stored: read whole as strings (readers/read.ts `readText`). */
  text?: TextStorage | undefined;
}

export interface SourceGroup {
  /** "/" for the root group. */
  path: string;
  attributes: JsonObject;
  /** Dimensions defined in this group, by name. */
  dims: Record<string, number>;
  variables: SourceVariable[];
  /** Variables whose values are not read (text, compound...), with their attributes. */
  others: OtherVariable[];
}

export interface SourceDataset {
  /** The path, or the URL of a file in object storage (`remote`). */
  file: string;
  /** A NetCDF-4 file read in place in object storage, by ranges (byte-source.ts). */
  remote?: RemoteFile | undefined;
  format: InputFormat;
  /** All groups, the root first, parents before children. */
  groups: SourceGroup[];
}

/** How a worker opens a variable for reading. */
export interface VariableRef {
  format: InputFormat;
  file: string;
  path: string;
  dataType: DataType;
  /** NetCDF-4: storage facts from the file's opening (else looked up on first read). */
  hdf5?: Hdf5Storage | undefined;
  /** A NetCDF-4 file in object storage, read by ranges (byte-source.ts); `file` is its URL. */
  remote?: RemoteFile | undefined;
}
