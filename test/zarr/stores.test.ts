import { mkdtempSync } from "node:fs";
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
