import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isGeoZarrError } from "../../src/errors.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";
import { storeContract } from "../contracts/store-contract.js";
import { tmpDir } from "../helpers/tmp.js";

const root = tmpDir("stores");
storeContract("MemoryStore", () => new MemoryStore());
storeContract("FileSystemStore", () => new FileSystemStore(mkdtempSync(join(root, "fs-"))));

describe("FileSystemStore", () => {
  it("never resolves keys outside its root", async () => {
    const s = new FileSystemStore(mkdtempSync(join(root, "fs-")));
    for (const key of ["/../etc/passwd", "/a/../../x", "/./x"] as const) {
      await expect(s.get(key)).rejects.toSatisfy((e) => isGeoZarrError(e, "NotFound"));
    }
  });
});

describe("FileSystemStore writes", () => {
  it("writes a value larger than one write piece whole, and a shorter one over it truncates", async () => {
    const dir = mkdtempSync(join(root, "fs-"));
    const s = new FileSystemStore(dir);
    // 3 MiB + 5 bytes: more than fs/promises' 512 KiB pieces, not a multiple of them.
    const big = new Uint8Array(3 * 2 ** 20 + 5);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 255;
    await s.set("/a/c/0", big);
    expect(Buffer.compare(readFileSync(join(dir, "a/c/0")), big)).toBe(0);
    await s.set("/a/c/0", new Uint8Array([7, 8, 9]));
    expect([...readFileSync(join(dir, "a/c/0"))]).toEqual([7, 8, 9]);
    await s.set("/a/c/1", new Uint8Array(0));
    expect(statSync(join(dir, "a/c/1")).size).toBe(0);
  });
});
