/**
 * String arrays are read, and one array we cannot read does not block the store (issue 11, item
 * 4). zarr-python 2.13 writes a v2 store with fixed-length byte and unicode strings, object
 * (vlen-utf8) strings with an unwritten chunk, booleans, numbers, and one array of a type we do
 * not read (vlen-bytes). `tree` lists every array (the unreadable one with the reason),
 * `stats` gives string arrays counts, `convert` copies strings to v2 (zarr-python reads them back
 * as they were) and v3 (zarrita, in a process of its own, reads the `string` arrays), and refuses
 * a store with an unreadable array or (v3) byte strings that are not UTF-8.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";
import { zarritaRead } from "../helpers/zarrita.js";

const dir = tmpDir("strings");
const mixed = join(dir, "mixed.zarr");
const clean = join(dir, "clean.zarr");
const latin = join(dir, "latin1.zarr");
const big = join(dir, "big.zarr");

/** Every array of a v2 store as zarr-python reads it: dtype, values (bytes as latin-1 text). */
const READ_V2 = `
import sys, json, zarr, numpy as np
g = zarr.open_group(sys.argv[1], mode="r")
def item(v):
    return v.decode("latin-1") if isinstance(v, bytes) else v if isinstance(v, str) else v.item() if hasattr(v, "item") else v
out = {}
for name, a in g.arrays():
    out[name] = {"dtype": a.dtype.str, "values": [item(v) for v in a[...].ravel().tolist()] if a.dtype.kind in "SUO" else a[...].ravel().tolist(),
                 "attrs": dict(a.attrs)}
print(json.dumps(out))
`;

type V2Arrays = Record<string, { dtype: string; values: unknown[]; attrs: Record<string, unknown> }>;

beforeAll(() => {
  python(
    `
import sys, numpy as np, zarr, numcodecs
def fill(path, with_bytes):
    g = zarr.open_group(path, mode="w")
    n = g.create_dataset("names", data=np.array([b"alpha", b"beta", b"gamma"], dtype="S7"), fill_value=b"zz")
    n.attrs["_ARRAY_DIMENSIONS"] = ["station"]
    l = g.create_dataset("labels", data=np.array(["\\u00e9t\\u00e9", "\\u00fc", "x", "x"], dtype=">U5"))
    l.attrs["_FillValue"] = "x"
    l.attrs["_ARRAY_DIMENSIONS"] = ["band"]
    s = g.create_dataset("notes", shape=(2, 3), chunks=(1, 3), dtype=str)
    s[0, :] = ["a", "bb", "\\U0001F44D"]  # row 1 never written: its chunk is absent
    s.attrs["_ARRAY_DIMENSIONS"] = ["y", "x"]
    if with_bytes:
        g.create_dataset("blobs", data=np.array([b"a", b"bb"], dtype=object), object_codec=numcodecs.VLenBytes())
    g.create_dataset("mask", data=np.array([True, False, True, True, False]))
    g.create_dataset("t", data=np.arange(6, dtype="i2") * 3)
    zarr.consolidate_metadata(path)
fill(sys.argv[1], True)
fill(sys.argv[2], False)
g = zarr.open_group(sys.argv[3], mode="w")
g.create_dataset("names", data=np.array([b"caf\\xe9", b"ok"], dtype="S4"))
zarr.consolidate_metadata(sys.argv[3])
g = zarr.open_group(sys.argv[4], mode="w")
g.create_dataset("codes", shape=(2**20 + 1,), chunks=(2**19,), dtype="S2")  # nothing written
zarr.consolidate_metadata(sys.argv[4])
`,
    [mixed, clean, latin, big],
  );
});

describe("a store with string arrays and one of a type we cannot read", () => {
  it("tree lists the string arrays with their types and the unreadable one with the reason, exit 0", async () => {
    const r = await runCli("tree", mixed);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/names \(3,\) \|S7/);
    expect(r.stdout).toMatch(/labels \(4,\) >U5/);
    expect(r.stdout).toMatch(/notes \(2, 3\) string/);
    expect(r.stdout).toContain(
      'blobs (not readable: unsupported dtype "|O" with object codec "vlen-bytes" (only vlen-utf8 strings are read))',
    );
    expect(r.stdout).toMatch(/mask \(5,\) bool/);
    expect(r.stdout).toMatch(/t \(6,\) int16/);
  });

  it("stats of a string array: counts only; a CF _FillValue given as text counts as missing", async () => {
    const names = await runCli("stats", mixed, "names", "--json");
    expect(names.code, names.stderr).toBe(0);
    expect(JSON.parse(names.stdout)).toMatchObject({
      dataType: "|S7",
      elements: 3,
      valid: 3,
      missing: 0,
      min: null,
      max: null,
      mean: null,
      strings: { distinct: 3, empty: 0, maxLength: 5 },
    });
    const labels = await runCli("stats", mixed, "labels", "--json");
    expect(JSON.parse(labels.stdout)).toMatchObject({
      elements: 4,
      valid: 2,
      missing: 2,
      strings: { distinct: 2, maxLength: 3 },
    });
    // The unwritten row reads as empty strings (zarr-python's |O fill is 0, not text).
    const notes = await runCli("stats", mixed, "notes");
    expect(notes.code, notes.stderr).toBe(0);
    expect(notes.stdout).toBe(
      [
        "/notes (2, 3) string",
        "  count     6",
        "  valid     6",
        "  missing   0",
        "  distinct  4",
        "  empty     3",
        "  longest   2",
        "",
      ].join("\n"),
    );
  });

  it("stats of the numeric arrays are zarr-python's values; bool reads as 0/1", async () => {
    const t = await runCli("stats", mixed, "t", "--json");
    expect(t.code, t.stderr).toBe(0);
    // zarr-python's v2 default fill_value 0 is xarray's _FillValue in v2: the 0 is missing there too
    expect(JSON.parse(t.stdout)).toMatchObject({ valid: 5, missing: 1, min: 3, max: 15, mean: 9 });
    const m = await runCli("stats", mixed, "mask", "--json");
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ valid: 5, min: 0, max: 1, mean: 0.6 });
  });

  it("stats of the unreadable array: exit 3, one line naming it and the reason", async () => {
    const r = await runCli("stats", mixed, "blobs");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${mixed}/blobs/.zarray: unsupported dtype "|O" with object codec "vlen-bytes"`);
  });

  it("convert refuses the store rather than leave the unreadable array out", async () => {
    const out = join(dir, "out.zarr");
    const r = await runCli("convert", mixed, out);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, new RegExp(`${mixed}: cannot convert 1 array \\(/blobs\\)`));
    expect(existsSync(out)).toBe(false);
  });
});

describe("converting string arrays", () => {
  it("to v2: zarr-python reads every array back as it was (types, values, attributes)", async () => {
    const out = join(dir, "v2.zarr");
    const r = await runCli("convert", clean, out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    const src = pythonJson<V2Arrays>(READ_V2, [clean]);
    const got = pythonJson<V2Arrays>(READ_V2, [out]);
    expect(Object.keys(got).sort()).toEqual(["labels", "mask", "names", "notes", "t"]);
    for (const name of ["names", "mask", "t"]) {
      expect(got[name]!.dtype, name).toBe(src[name]!.dtype);
      expect(got[name]!.values, name).toEqual(src[name]!.values);
    }
    // zarr-python's |O fill is 0, not text: the unwritten row reads as empty strings in ours.
    expect(src.notes!.values).toEqual(["a", "bb", "👍", 0, 0, 0]);
    expect(got.notes).toMatchObject({ dtype: "|O", values: ["a", "bb", "👍", "", "", ""] });
    // Unicode is written little-endian, the values are the same.
    expect(got.labels!.dtype).toBe("<U5");
    expect(got.labels!.values).toEqual(["été", "ü", "x", "x"]);
    expect(got.labels!.attrs).toMatchObject({ _FillValue: "x", _ARRAY_DIMENSIONS: ["band"] });
  });

  it("to v3: zarrita reads the `string` arrays (vlen-utf8), the text of every source value", async () => {
    const out = join(dir, "v3.zarr");
    const r = await runCli("convert", clean, out, "--zarr-format", "3");
    expect(r.code, r.stderr).toBe(0);
    const got = zarritaRead(out, ["names", "labels", "notes"]);
    expect(got).toEqual({
      names: { dtype: "string", values: ["alpha", "beta", "gamma"], shape: [3] },
      labels: { dtype: "string", values: ["été", "ü", "x", "x"], shape: [4] },
      notes: { dtype: "string", values: ["a", "bb", "👍", "", "", ""], shape: [2, 3] },
    });
    // Booleans read in v3 too (a v3 fill_value false is not missing: CF does not declare it).
    const mask = await runCli("stats", out, "mask", "--json");
    expect(JSON.parse(mask.stdout)).toMatchObject({ dataType: "bool", valid: 5, missing: 0, mean: 0.6 });
    const v = await runCli("validate", out, "--json");
    const findings = JSON.parse(v.stdout).findings as { rule: string; severity: string; path: string }[];
    // The Zarr rules accept the string arrays (GeoZarr's CF rules may still ask for metadata).
    expect(findings.filter((f) => f.severity === "error" && /^Z/.test(f.rule))).toEqual([]);
  });

  it("to v3, byte strings that are not UTF-8: exit 3, one line, the way to keep them", async () => {
    const out = join(dir, "latin1-v3.zarr");
    const r = await runCli("convert", latin, out, "--zarr-format", "3");
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      `${latin}/names: cannot convert: its bytes are not utf-8 text (element 0): Zarr v3 strings are UTF-8; --zarr-format 2 keeps them as |S4`,
    );
    expect(existsSync(out)).toBe(false);
    const kept = join(dir, "latin1-v2.zarr");
    expect((await runCli("convert", latin, kept, "--zarr-format", "2")).code).toBe(0);
    expect(pythonJson<V2Arrays>(READ_V2, [kept]).names!.values).toEqual(["café", "ok"]);
  });

  it("a string array too large to read whole: refused with its size and the limit", async () => {
    const r = await runCli("stats", big, "codes");
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      `${big}/codes: a string array of (1048577) is 1048577 strings (2.0 MiB), more than the 1048576 strings (64 MiB) a string array may have here`,
    );
    const tree = await runCli("tree", big);
    expect(tree.stdout).toMatch(/codes \(1048577,\) \|S2/);
  });
});
