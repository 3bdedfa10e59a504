/**
 * The store contract, run against every store implementation (as zarr-python's StoreTests): reading,
 * ranges, writing, listing and deleting behave the same whatever the backend.
 */

import { describe, expect, it } from "vitest";
import type { MutableStore } from "../../src/zarr/store/types.js";

const bytes = (...xs: number[]) => new Uint8Array(xs);
const text = (s: string) => new TextEncoder().encode(s);

export interface ContractOptions {
  /** A store that cannot list (HTTP): listDir refuses with GeoZarrError("Unsupported"). */
  listable?: boolean;
}

export function storeContract(
  name: string,
  make: () => Promise<MutableStore> | MutableStore,
  options: ContractOptions = {},
): void {
  const listable = options.listable ?? true;
  describe(`store contract: ${name}`, () => {
    it("reads undefined for a missing key", async () => {
      const s = await make();
      expect(await s.get("/nope")).toBeUndefined();
      expect(await s.get("/a/b/c/.zarray")).toBeUndefined();
    });

    it("reads back what was written, byte for byte, including empty values", async () => {
      const s = await make();
      const v = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 255);
      await s.set("/a/b/0.0", v);
      await s.set("/empty", bytes());
      expect(await s.get("/a/b/0.0")).toEqual(v);
      expect(await s.get("/empty")).toEqual(bytes());
    });

    it("is not affected when the caller reuses its buffer after set", async () => {
      const s = await make();
      const v = bytes(1, 2, 3);
      await s.set("/k", v);
      v[0] = 9;
      expect(await s.get("/k")).toEqual(bytes(1, 2, 3));
    });

    it("overwrites values", async () => {
      const s = await make();
      await s.set("/k", text("first, longer value"));
      await s.set("/k", text("second"));
      expect(new TextDecoder().decode(await s.get("/k"))).toBe("second");
    });

    it("reads byte ranges: offset+length and suffix", async () => {
      const s = await make();
      await s.set("/r", bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
      expect(await s.getRange!("/r", { offset: 2, length: 3 })).toEqual(bytes(2, 3, 4));
      expect(await s.getRange!("/r", { suffixLength: 4 })).toEqual(bytes(6, 7, 8, 9));
      expect(await s.getRange!("/r", { offset: 8, length: 10 })).toEqual(bytes(8, 9));
      expect(await s.getRange!("/missing", { offset: 0, length: 1 })).toBeUndefined();
    });

    it.runIf(!listable)("refuses to list, saying why", async () => {
      const s = await make();
      await expect(s.listDir("/")).rejects.toMatchObject({ tag: "Unsupported" });
    });

    it.runIf(listable)(
      "lists the immediate children of a prefix, sorted, keys apart from prefixes",
      async () => {
        const s = await make();
        for (const k of ["/zarr.json", "/b/zarr.json", "/a/zarr.json", "/a/c/0/1", "/a/c/0/0", "/x"])
          await s.set(k as `/${string}`, text("{}"));
        expect(await s.listDir("/")).toEqual({ keys: ["x", "zarr.json"], prefixes: ["a", "b"] });
        expect(await s.listDir("/a/")).toEqual({ keys: ["zarr.json"], prefixes: ["c"] });
        expect(await s.listDir("/a/c/0/")).toEqual({ keys: ["0", "1"], prefixes: [] });
        expect(await s.listDir("/nothing/")).toEqual({ keys: [], prefixes: [] });
      },
    );

    it("deletes values; deleting a missing key is fine", async () => {
      const s = await make();
      await s.set("/d", bytes(1));
      await s.delete("/d");
      await s.delete("/never");
      expect(await s.get("/d")).toBeUndefined();
    });
  });
}
