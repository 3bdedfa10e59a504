/**
 * Open an input file by its signature: HDF5 (NetCDF-4) through h5wasm, NetCDF classic through our
 * reader. Errors name the file: missing, not NetCDF, truncated.
 * @module
 */

import { open } from "node:fs/promises";
import { fsError, GeoZarrError } from "../errors.js";
import type { RemoteFile } from "./byte-source.js";
import type { InputFormat, SourceDataset } from "./model.js";
import { openNetcdf3 } from "./netcdf3.js";
import { openNetcdf4 } from "./netcdf4.js";

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format of a file from its first bytes, or null when it is neither HDF5 nor NetCDF classic. */
export async function sniffFormat(file: string): Promise<InputFormat | null> {
  const fh = await open(file, "r").catch((err) => {
    throw fsError(err, file, "open");
  });
  try {
    const head = new Uint8Array(8);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    if (bytesRead === 8 && HDF5_MAGIC.every((b, i) => head[i] === b)) return "netcdf4";
    // After a user block, the HDF5 superblock is at 512, 1024, 2048, ... (File Format Spec. III.A).
    const size = (await fh.stat()).size;
    const sig = new Uint8Array(8);
    for (let at = 512; at + 8 <= size; at *= 2) {
      await fh.read(sig, 0, 8, at);
      if (HDF5_MAGIC.every((b, i) => sig[i] === b)) return "netcdf4";
    }
    if (
      bytesRead >= 4 &&
      head[0] === 0x43 &&
      head[1] === 0x44 &&
      head[2] === 0x46 &&
      [1, 2, 5].includes(head[3]!)
    )
      return "netcdf3";
    return null;
  } finally {
    await fh.close();
  }
}

/** Open a local file, or (`remote`) a NetCDF-4 file in object storage named by its URL, `file`. */
export async function openInputFile(file: string, remote?: RemoteFile): Promise<SourceDataset> {
  if (remote) return openNetcdf4(file, remote);
  const format = await sniffFormat(file);
  if (format === "netcdf4") return openNetcdf4(file);
  if (format === "netcdf3") return openNetcdf3(file);
  throw new GeoZarrError("Format", `${file}: not a NetCDF or HDF5 file`, { where: file });
}
