/**
 * O_DIRECT chunk writes (GEOZARR_DIRECT_IO=1, zarr/store/direct-write.ts, native/directio): the
 * file holds exactly the bytes, whatever their length against the 4096-byte alignment; nothing of
 * it is left in the page cache (fincore, util-linux); small values and the switch off take the
 * buffered path; a failed open is an error with its code; a conversion writes the same store.
 */

import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

process.env.GEOZARR_DIRECT_IO = "1";

import { DIRECT_MIN_BYTES, directWrites, writeDirect } from "../../src/zarr/store/direct-write.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { storeDifferences } from "../helpers/cloud.js";
import { runCliProcess } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("direct-write");

/** Pages of `file` in the page cache (fincore's RES, in pages). */
function cachedPages(file: string): number {
  const r = spawnSync("fincore", ["--bytes", "--noheadings", "--output", "PAGES", file], {
    encoding: "utf8",
  });
  expect(r.status).toBe(0);
  return Number(r.stdout.trim());
}

describe("writeDirect", () => {
  it("is on: the addon is built on Linux by the install step and the switch is set", () => {
    expect(directWrites()).toBe(true);
  });

  it.each([DIRECT_MIN_BYTES, DIRECT_MIN_BYTES + 1, 4 * 2 ** 20 + 4095, 9 * 2 ** 20 + 7])(
    "%i bytes: written exactly, not through the page cache",
    (n) => {
      const bytes = randomFillSync(new Uint8Array(n));
      const file = join(dir, `f-${n}`);
      expect(writeDirect(file, bytes)).toBe(true);
      expect(cachedPages(file)).toBe(0);
      expect(statSync(file).size).toBe(n);
      expect(readFileSync(file).equals(bytes)).toBe(true);
    },
  );

  it("leaves values under 1 MiB to the buffered write", () => {
    expect(writeDirect(join(dir, "small"), new Uint8Array(DIRECT_MIN_BYTES - 1))).toBe(false);
  });

  it("a directory that does not exist: an error with its code, which the store names", async () => {
    const bytes = new Uint8Array(DIRECT_MIN_BYTES);
    expect(() => writeDirect(join(dir, "none", "x"), bytes)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
    // The store makes the directory first, so through it the same write succeeds.
    const store = new FileSystemStore(join(dir, "store"));
    await store.set("/a/b/c", bytes.fill(7));
    expect(readFileSync(join(dir, "store", "a", "b", "c")).equals(bytes)).toBe(true);
  });
});

describe("a conversion with GEOZARR_DIRECT_IO=1", () => {
  it("writes byte for byte the store of a buffered run", async () => {
    const sample = resolve("examples/data/mur_small.nc");
    const epoch = { SOURCE_DATE_EPOCH: "1796169600" };
    const args = (out: string) => ["convert", sample, out, "--zarr-format", "2", "--unpack", "float64"];
    // Same name (the history names it), two directories.
    const a = join(dir, "buffered", "out.zarr");
    const b = join(dir, "direct", "out.zarr");
    for (const d of [a, b]) mkdirSync(dirname(d), { recursive: true });
    expect((await runCliProcess(args(a), { ...epoch, GEOZARR_DIRECT_IO: "0" })).code).toBe(0);
    expect((await runCliProcess(args(b), { ...epoch, GEOZARR_DIRECT_IO: "1" })).code).toBe(0);
    // The data chunks are over 1 MiB, so they took the direct path.
    expect(statSync(join(b, "analysed_sst", "0.0.0")).size).toBeGreaterThan(DIRECT_MIN_BYTES);
    expect(cachedPages(join(b, "analysed_sst", "0.0.0"))).toBe(0);
    expect(storeDifferences(a, b)).toEqual([]);
    expect(readFileSync(join(a, ".zmetadata")).equals(readFileSync(join(b, ".zmetadata")))).toBe(true);
  });
});
