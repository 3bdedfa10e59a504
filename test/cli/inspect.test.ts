/**
 * tree / info / stats against zarr-python's own answers on the same stores.
 */

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { zarrPythonDir } from "../helpers/fixtures.js";
import { python, pythonJson } from "../helpers/python.js";

const store = (name: string) => join(zarrPythonDir(), name);

describe("geozarr tree", () => {
  it.each(["hierarchy-consolidated.zarr", "hierarchy-listed.zarr", "zstd.f8.zarr"])(
    "prints exactly what zarr-python's Group.tree() prints (%s)",
    async (name) => {
      const want = python("import sys, zarr; print(zarr.open_group(sys.argv[1], mode='r').tree())", [
        store(name),
      ]);
      const r = await runCli("tree", store(name));
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(want);
      expect(r.stderr).toBe("");
    },
  );

  it("--verbose adds chunks, codecs, fill value and dimensions", async () => {
    const r = await runCli("tree", "-v", store("zstd.f8.zarr"));
    expect(r.stdout).toBe(
      [
        "/",
        " └── data (37, 53) float64",
        "       chunks (10, 16) x16 · zstd(level=3) · fill NaN · dims (d0, d1)",
        "",
      ].join("\n"),
    );
  });

  it("--json prints the tree as data", async () => {
    const r = await runCli("tree", "--json", store("hierarchy-listed.zarr"));
    const t = JSON.parse(r.stdout);
    expect(t.children.map((c: { name: string }) => c.name)).toEqual(["a", "scalar"]);
    expect(t.children[1]).toMatchObject({
      kind: "array",
      shape: [],
      dtype: "int64",
      chunks: [],
      fillValue: "0",
    });
  });
});

describe("geozarr info", () => {
  it("--json prints the consolidated metadata as one strict JSON document that zarr-python's agrees with", async () => {
    const r = await runCli("info", "--json", store("bare-nan.f8.zarr"));
    expect(r.code).toBe(0);
    // Strict: Python refuses bare NaN/Infinity here.
    const same = python(
      `import json, sys
def strict(c): raise ValueError("non-standard token " + c)
ours = json.loads(sys.stdin.read(), parse_constant=strict)
theirs = json.load(open(sys.argv[1] + "/.zmetadata"))
a = theirs["metadata"]["data/.zattrs"]
b = ours["metadata"]["data/.zattrs"]
print(b["missing_value"], b["valid_range"], ours["metadata"]["data/.zarray"] == theirs["metadata"]["data/.zarray"])`.replace(
        "sys.stdin.read()",
        JSON.stringify(r.stdout),
      ),
      [store("bare-nan.f8.zarr")],
    );
    expect(same.trim()).toBe("NaN ['-Infinity', 'Infinity'] True");
  });

  it("--json synthesizes the consolidated document for stores without one", async () => {
    const r = await runCli("info", "--json", store("hierarchy-listed.zarr"));
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc.metadata).sort()).toEqual(
      [
        ".zattrs",
        ".zgroup",
        "a/.zattrs",
        "a/.zgroup",
        "a/b/.zgroup",
        "a/b/c/.zgroup",
        "a/b/c/x/.zarray",
        "a/b/c/x/.zattrs",
        "a/t/.zarray",
        "a/t/.zattrs",
        "scalar/.zarray",
        "scalar/.zattrs",
      ].sort(),
    );
    expect(doc.zarr_consolidated_format).toBe(1);
  });

  it("describes one array like zarr-python's .info", async () => {
    const r = await runCli("info", store("fill-nan.f4.zarr"), "data");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Shape              : (20, 30)");
    expect(r.stdout).toContain("Chunk shape        : (10, 10)");
    expect(r.stdout).toContain("Fill value         : NaN");
    expect(r.stdout).toContain("Chunks initialized : 1/6");
  });
});

describe("geozarr stats", () => {
  it.each(["zstd.f8.zarr", "fill-nan.f4.zarr", "fill-int.i2.zarr", "bigendian.i2.zarr"])(
    "agrees with numpy on count, missing, min, max, mean (%s)",
    async (name) => {
      const want = pythonJson<{ n: number; missing: number; min: number; max: number; mean: number }>(
        `import json, sys, zarr, numpy as np
a = zarr.open(sys.argv[1], mode="r")["data"]
v = a[...].astype("f8")
miss = np.isnan(v) | (v == a.fill_value if a.fill_value is not None and not np.isnan(a.fill_value) else False)
ok = v[~miss]
print(json.dumps({"n": int(v.size), "missing": int(miss.sum()), "min": float(ok.min()), "max": float(ok.max()), "mean": float(ok.mean())}))`,
        [store(name)],
      );
      const r = await runCli("stats", "--json", "--workers", "2", store(name), "data");
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.elements).toBe(want.n);
      expect(s.missing).toBe(want.missing);
      expect(s.valid).toBe(want.n - want.missing);
      expect(s.min).toBe(want.min);
      expect(s.max).toBe(want.max);
      expect(s.mean).toBeCloseTo(want.mean, 9);
    },
  );

  it("prints a readable summary", async () => {
    const r = await runCli("stats", store("fill-int.i2.zarr"), "/data");
    expect(r.stdout).toMatch(
      /^\/data \(20, 30\) int16\n {2}count {4}600\n {2}valid {4}100\n {2}missing {2}500 \(83\.3%\)\n/,
    );
  });
});

describe("non-standard JSON", () => {
  it("is read leniently, with a one-line warning on stderr", async () => {
    const r = await runCli("tree", store("bare-nan.f8.zarr"));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `geozarr: warning: 3 non-standard JSON tokens (bare NaN/Infinity) read leniently, first in ${store("bare-nan.f8.zarr")}/.zmetadata at /metadata/data~1.zattrs/missing_value; 'geozarr validate' reports them\n`,
    );
  });
});
