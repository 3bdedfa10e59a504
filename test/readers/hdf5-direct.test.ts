/**
 * Direct chunk reads of HDF5 datasets (readers/hdf5-index.ts, readers/hdf5-direct.ts) against the
 * HDF5 library itself: h5py's chunk list (get_chunk_info) for where the chunks are, and h5wasm's
 * hyperslab reads for the values, over every layout in scripts/fixtures/hdf5_layouts.py. Layouts
 * the direct reader does not parse must be refused (and then read by h5wasm), never misread.
 */

import {
  closeSync,
  copyFileSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { GeoZarrError } from "../../src/errors.js";
import { localSource } from "../../src/readers/byte-source.js";
import { readChunkIndex } from "../../src/readers/hdf5-index.js";
import type { VariableRef } from "../../src/readers/model.js";
import { type H5Dataset, hdf5Storage, openH5 } from "../../src/readers/netcdf4.js";
import { closeAll, readVariableBox, readVariableInto } from "../../src/readers/read.js";
import { allocate, type DataType, viewAs } from "../../src/zarr/dtype.js";
import type { Box } from "../../src/zarr/ndarray.js";
import { tmpDir } from "../helpers/tmp.js";

interface Stored {
  offset: number[];
  address: number;
  size: number;
  filterMask: number;
}
interface Entry {
  shape: number[];
  chunks: number[] | null;
  dtype: string;
  direct: boolean;
  stored: Stored[];
  contiguousOffset: number | null;
}

const dir = () => inject("hdf5Layouts");
const manifest = () =>
  JSON.parse(readFileSync(join(dir(), "manifest.json"), "utf8")) as Record<string, Record<string, Entry>>;
afterAll(closeAll);
const tmp = tmpDir("hdf5-direct");

const TYPES: Record<string, DataType> = {
  i1: "int8",
  i2: "int16",
  i4: "int32",
  f4: "float32",
  f8: "float64",
  u8: "uint64",
};
const dataTypeOf = (dtype: string) => TYPES[dtype.slice(1)]!;

const cases = () =>
  Object.entries(manifest()).flatMap(([file, sets]) =>
    Object.entries(sets).map(([name, e]) => ({ file, name, e })),
  );

/** The object header address, as the reader takes it from h5wasm when a file is opened. */
async function objectAddress(file: string, name: string): Promise<number> {
  const f = await openH5(file);
  try {
    return hdf5Storage(f.get(name) as H5Dataset)!.objectAddress;
  } finally {
    f.close();
  }
}

/** The values of `box` read by h5wasm, as strings (so uint64 compares too). */
async function viaH5wasm(ref: VariableRef, box: Box): Promise<string[]> {
  return Array.from((await readVariableBox(ref, box)) as ArrayLike<unknown>, String);
}

/** The values of `box` read directly into a target buffer; null when the reader declines. */
async function viaDirect(ref: VariableRef, box: Box): Promise<string[] | null> {
  const n = box.shape.reduce((a, b) => a * b, 1);
  const target = allocate(ref.dataType, n);
  const ok = await readVariableInto(ref, box, [{ buffer: target.buffer, dataType: ref.dataType, box }]);
  return ok
    ? Array.from(viewAs(ref.dataType, new Uint8Array(target.buffer)) as ArrayLike<unknown>, String)
    : null;
}

/** Boxes to read: the whole array, one chunk exactly, and unaligned boxes across chunk edges. */
function boxes(shape: number[], chunks: number[]): Box[] {
  const whole = { start: shape.map(() => 0), shape };
  const first = { start: shape.map(() => 0), shape: chunks.map((c, d) => Math.min(c, shape[d]!)) };
  const across = {
    start: shape.map((n, d) => Math.min(n - 1, Math.floor(chunks[d]! / 2))),
    shape: shape.map((n, d) => Math.max(1, Math.min(n - Math.floor(chunks[d]! / 2), chunks[d]! + 3))),
  };
  const tail = { start: shape.map((n) => n - 1), shape: shape.map(() => 1) };
  return [whole, first, across, tail];
}

describe("HDF5 chunk index", () => {
  it("lists the same chunks as the HDF5 library (address, stored size, filter mask)", async () => {
    let checked = 0;
    for (const { file, name, e } of cases()) {
      if (!e.direct) continue;
      const path = join(dir(), file);
      const src = localSource(path, "test");
      try {
        const itemSize = Number(e.dtype.slice(2));
        const index = readChunkIndex(src, await objectAddress(path, name), e.shape, itemSize);
        expect(index, `${file}:${name}`).not.toBeNull();
        // A user block shifts every address: h5py reports them relative to the HDF5 base.
        const base = file === "userblock.h5" ? 1024 : 0;
        if (e.chunks === null) {
          // Contiguous: one chunk, the whole array, where HDF5 says the data starts.
          expect(index!.chunkShape).toEqual(e.shape);
          expect([...index!.chunks.values()]).toEqual([
            {
              offset: e.contiguousOffset! + base,
              size: e.shape.reduce((a, b) => a * b, itemSize),
              filterMask: 0,
            },
          ]);
          checked++;
          continue;
        }
        expect(index!.chunkShape).toEqual(e.chunks);
        expect(index!.chunks.size, `${file}:${name}`).toBe(e.stored.length);
        for (const s of e.stored) {
          const k = s.offset.map((o, d) => o / e.chunks![d]!).join(",");
          expect(index!.chunks.get(k), `${file}:${name} chunk ${k}`).toEqual({
            offset: s.address + base,
            size: s.size,
            filterMask: s.filterMask,
          });
        }
        checked++;
      } finally {
        src.close();
      }
    }
    expect(checked).toBe(cases().filter((c) => c.e.direct).length);
  });
});

describe("direct reads", () => {
  it("equal h5wasm's values on every layout, or decline (never misread)", async () => {
    for (const { file, name, e } of cases()) {
      const ref: VariableRef = {
        format: "netcdf4",
        file: join(dir(), file),
        path: `/${name}`,
        dataType: dataTypeOf(e.dtype),
      };
      for (const box of boxes(e.shape, e.chunks ?? e.shape)) {
        const direct = await viaDirect(ref, box);
        const grid = e.chunks ? e.shape.reduce((a, n, d) => a * Math.ceil(n / e.chunks![d]!), 1) : 1;
        const all = e.chunks ? e.stored.length === grid : e.contiguousOffset !== null;
        if (!e.direct) expect(direct, `${file}:${name} must go through h5wasm`).toBeNull();
        else if (all)
          expect(direct, `${file}:${name} ${JSON.stringify(box)}`).toEqual(await viaH5wasm(ref, box));
        else if (direct) expect(direct).toEqual(await viaH5wasm(ref, box));
      }
    }
  });

  it("decline a box that touches a chunk never written (h5wasm supplies the fill value)", async () => {
    const ref: VariableRef = {
      format: "netcdf4",
      file: join(dir(), "earliest.h5"),
      path: "/partial",
      dataType: "int16",
    };
    // Chunks (0,0), (0,1) and (3,3) are written.
    expect(await viaDirect(ref, { start: [0, 0], shape: [10, 20] })).toEqual(
      await viaH5wasm(ref, { start: [0, 0], shape: [10, 20] }),
    );
    expect(await viaDirect(ref, { start: [0, 15], shape: [10, 10] })).toBeNull();
    const fill = await viaH5wasm(ref, { start: [15, 15], shape: [2, 2] });
    expect(fill).toEqual(["-7", "-7", "-7", "-7"]);
  });

  it("a file rewritten in place is read anew, not through the kept chunk index", async () => {
    const path = join(tmp, "rewritten.h5");
    const box = { start: [1, 10, 20], shape: [2, 30, 40] };
    const ref: VariableRef = {
      format: "netcdf4",
      file: path,
      path: "/i2_shuffle_deflate",
      dataType: "int16",
    };
    copyFileSync(join(dir(), "earliest.h5"), path);
    const before = await viaDirect(ref, box);
    expect(before).toEqual(await viaDirect({ ...ref, file: join(dir(), "earliest.h5") }, box));
    copyFileSync(join(dir(), "latest.h5"), path); // same inode, other size and content
    const after = await viaDirect(ref, box);
    expect(after).toEqual(await viaDirect({ ...ref, file: join(dir(), "latest.h5") }, box));
    expect(after).not.toEqual(before);
    expect(await viaH5wasm(ref, box)).toEqual(after); // h5wasm's kept handle is renewed too
  });

  it("many files read once each keep a bounded number of descriptors open, and read right after", async () => {
    // 150 names of one file (symlinks): each is a file of its own to the reader's caches.
    const ref: VariableRef = {
      format: "netcdf4",
      file: join(dir(), "earliest.h5"),
      path: "/i2_shuffle_deflate",
      dataType: "int16",
    };
    const box = { start: [1, 10, 20], shape: [2, 30, 40] };
    const want = await viaDirect(ref, box);
    expect(want).not.toBeNull();
    const names = Array.from({ length: 150 }, (_, i) => join(tmp, `many-${i}.h5`));
    for (const n of names) symlinkSync(ref.file, n);
    const open = () => readdirSync("/proc/self/fd").length;
    const before = open();
    for (const n of names) expect(await viaDirect({ ...ref, file: n }, box)).toEqual(want);
    // At most 64 per thread (hdf5-direct.ts), not one per file.
    expect(open() - before).toBeLessThanOrEqual(64);
    expect(open() - before).toBeGreaterThan(0);
    // The first names' descriptors were closed; their kept indexes read through a new one.
    expect(await viaDirect({ ...ref, file: names[0]! }, box)).toEqual(want);
  });

  it("a corrupt chunk is a one-line Format error naming the file, the variable and the byte", async () => {
    const e = manifest()["earliest.h5"]!.i2_shuffle_deflate!;
    const copy = join(tmp, "corrupt.h5");
    copyFileSync(join(dir(), "earliest.h5"), copy);
    const chunk = e.stored[1]!;
    const fd = openSync(copy, "r+");
    writeSync(fd, new Uint8Array(64).fill(0x5a), 0, 64, chunk.address + 8);
    closeSync(fd);
    const ref: VariableRef = {
      format: "netcdf4",
      file: copy,
      path: "/i2_shuffle_deflate",
      dataType: "int16",
    };
    const err = await viaDirect(ref, { start: [0, 0, 0], shape: [1, 16, 64] }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(GeoZarrError);
    expect((err as GeoZarrError).tag).toBe("Format");
    expect((err as Error).message).toMatch(
      new RegExp(
        `^${copy}: cannot read /i2_shuffle_deflate: corrupt chunk at byte ${chunk.address} \\(.+\\)$`,
      ),
    );
    expect((err as Error).message).not.toContain("\n");
  });
});
