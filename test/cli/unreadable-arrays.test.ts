/**
 * One array we cannot read does not block the store (issue 11, item 4): zarr-python writes a v2
 * store with fixed-length byte and unicode strings, an object (vlen-utf8) array, booleans and a
 * number array. `tree` lists every array (the unreadable ones with the reason), `info`/`stats`
 * work on the others, refuse the unreadable one in one line, and read booleans as zarr-python
 * does; `convert` refuses rather than write a store without them.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { python } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("unreadable");
const store = join(dir, "mixed.zarr");

beforeAll(() => {
  python(
    `
import sys, numpy as np, zarr, numcodecs
g = zarr.open_group(sys.argv[1], mode="w")
g.create_dataset("names", data=np.array([b"alpha", b"beta", b"gamma"], dtype="S7"))
g.create_dataset("labels", data=np.array(["é", "ü", "x"], dtype="U5"))
g.create_dataset("notes", data=np.array(["a", "bb", "ccc"], dtype=object), object_codec=numcodecs.VLenUTF8())
g.create_dataset("mask", data=np.array([True, False, True, True, False]))
g.create_dataset("t", data=np.arange(6, dtype="i2") * 3)
zarr.consolidate_metadata(sys.argv[1])
`,
    [store],
  );
});

describe("a store with arrays of types we cannot read", () => {
  it("tree lists them with the reason, exit 0", async () => {
    const r = await runCli("tree", store);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('names (not readable: unsupported dtype "|S7")');
    expect(r.stdout).toContain('labels (not readable: unsupported dtype "<U5")');
    expect(r.stdout).toContain('notes (not readable: unsupported dtype "|O")');
    expect(r.stdout).toMatch(/mask \(5,\) bool/);
    expect(r.stdout).toMatch(/t \(6,\) int16/);
  });

  it("stats of the readable arrays are zarr-python's values; bool reads as 0/1", async () => {
    const t = await runCli("stats", store, "t", "--json");
    expect(t.code, t.stderr).toBe(0);
    // zarr-python's v2 default fill_value 0 is xarray's _FillValue in v2: the 0 is missing there too
    expect(JSON.parse(t.stdout)).toMatchObject({ valid: 5, missing: 1, min: 3, max: 15, mean: 9 });
    const m = await runCli("stats", store, "mask", "--json");
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ valid: 5, min: 0, max: 1, mean: 0.6 });
  });

  it("stats of an unreadable array: exit 3, one line naming it and the reason", async () => {
    const r = await runCli("stats", store, "names");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${store}/names/.zarray: unsupported dtype "|S7"`);
  });

  it("convert refuses the store rather than leave the arrays out", async () => {
    const out = join(dir, "out.zarr");
    const r = await runCli("convert", store, out);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, new RegExp(`${store}: cannot convert 3 arrays \\(/labels, /names, /notes\\)`));
    expect(existsSync(out)).toBe(false);
  });
});
