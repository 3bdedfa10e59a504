/**
 * The two inflaters of HDF5's deflate filter (readers/inflate.ts): the libdeflate addon and
 * node:zlib give the same bytes for every chunk of the HDF5 layout fixtures, refuse the same
 * corrupt and mis-sized streams, and a conversion reads the same values through either (the
 * GEOZARR_INFLATE=zlib switch, in a child process).
 */

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { describe, expect, inject, it } from "vitest";
import { inflateBackend, inflateChunk } from "../../src/readers/inflate.js";
import { runCliProcess, treeFingerprint } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const tmp = tmpDir("inflate");

describe("inflating HDF5 deflate chunks", () => {
  it("uses the libdeflate addon where it is built (CI builds it: libdeflate-dev)", () => {
    expect(inflateBackend()).toBe("libdeflate");
  });

  it("gives node:zlib's bytes for every stored chunk of the layout fixtures", () => {
    const dir = inject("hdf5Layouts");
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Record<
      string,
      Record<
        string,
        {
          shape: number[];
          chunks: number[] | null;
          dtype: string;
          stored: { address: number; size: number; filterMask: number }[];
        }
      >
    >;
    let checked = 0;
    for (const [file, datasets] of Object.entries(manifest)) {
      const bytes = readFileSync(join(dir, file));
      for (const d of Object.values(datasets)) {
        if (!d.chunks) continue;
        const size = d.chunks.reduce((a, b) => a * b, 1) * Number(d.dtype.slice(2));
        for (const c of d.stored) {
          const src = bytes.subarray(c.address, c.address + c.size);
          let expected: Buffer;
          try {
            expected = inflateSync(src);
          } catch {
            continue; // not deflated (another filter, or masked off)
          }
          if (expected.length !== size) continue;
          expect(Buffer.from(inflateChunk(src, size)).equals(expected)).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("refuses corrupt streams and streams of another size, with what is wrong", () => {
    const data = new Uint8Array(10_000).map((_, i) => (i * 7) % 251);
    const z = deflateSync(data);
    expect(Buffer.from(inflateChunk(z, 10_000)).equals(Buffer.from(data))).toBe(true);
    expect(() => inflateChunk(z, 9_999)).toThrow(/the stream is longer than expected/);
    expect(() => inflateChunk(z, 10_001)).toThrow(/10000 bytes, expected 10001/);
    const bad = Buffer.from(z);
    bad[20] ^= 0xff;
    expect(() => inflateChunk(bad, 10_000)).toThrow(/invalid deflate data|bytes, expected/);
  });

  it("a conversion writes the same store through libdeflate and through node:zlib", async () => {
    const sample = resolve("examples/data/mur_small.nc");
    const a = join(tmp, "libdeflate.zarr");
    const b = join(tmp, "zlib.zarr");
    expect((await runCliProcess(["convert", sample, a])).code).toBe(0);
    expect((await runCliProcess(["convert", sample, b], { GEOZARR_INFLATE: "zlib" })).code).toBe(0);
    const strip = (m: Map<string, string>) => new Map([...m].filter(([k]) => !k.endsWith("zarr.json")));
    expect(strip(treeFingerprint(b))).toEqual(strip(treeFingerprint(a)));
  });
});
