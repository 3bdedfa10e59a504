/**
 * Our NetCDF readers (h5wasm for NetCDF-4, our own for the classic formats) see the same
 * dimensions, types, attributes and values as netCDF4-python (netCDF-C) on the same files.
 */

import { join, resolve } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { SourceDataset } from "../../src/readers/model.js";
import { openInputFile } from "../../src/readers/open.js";
import { closeAll, readVariableBox } from "../../src/readers/read.js";
import { jsonEqual } from "../../src/zarr/json.js";
import { pythonJson } from "../helpers/python.js";

const dir = () => inject("netcdfFiles");
afterAll(closeAll);

const DESCRIBE = `
import json, sys, netCDF4, numpy as np
def val(x):
    if isinstance(x, str): return x
    a = np.asarray(x)
    if a.ndim == 0: return a.item()
    return a.tolist() if a.size > 1 else a.item()
out = {}
def walk(g, path):
    for name, v in g.variables.items():
        if v.dtype == np.dtype("S1"): continue
        v.set_auto_maskandscale(False)
        data = v[...]
        out[(path + "/" + name).replace("//", "/")] = {
            "dims": list(v.dimensions), "shape": list(v.shape), "dtype": v.dtype.str[1:],
            "attrs": {k: val(v.getncattr(k)) for k in v.ncattrs()},
            "values": np.asarray(data, dtype="f8").ravel().tolist()}
    for name, c in g.groups.items(): walk(c, path + "/" + name)
d = netCDF4.Dataset(sys.argv[1]); walk(d, "")
print(json.dumps({"vars": out, "globals": {k: val(d.getncattr(k)) for k in d.ncattrs()}}))
`;

const NP: Record<string, string> = {
  int8: "i1",
  uint8: "u1",
  int16: "i2",
  uint16: "u2",
  int32: "i4",
  uint32: "u4",
  int64: "i8",
  uint64: "u8",
  float32: "f4",
  float64: "f8",
};

describe.each(["classic.nc", "offset64.nc", "cdf5.nc", "groups.nc", "utm.nc"])("%s", (name) => {
  const file = () => resolve(join(dir(), name));
  let ds: SourceDataset;
  let want: {
    vars: Record<
      string,
      { dims: string[]; shape: number[]; dtype: string; attrs: Record<string, unknown>; values: number[] }
    >;
    globals: Record<string, unknown>;
  };

  it("has the variables, dimensions, types and attributes netCDF4-python sees", async () => {
    ds = await openInputFile(file());
    want = pythonJson(DESCRIBE, [file()]);
    const got = Object.fromEntries(ds.groups.flatMap((g) => g.variables.map((v) => [v.path, v])));
    expect(Object.keys(got).sort()).toEqual(Object.keys(want.vars).sort());
    for (const [path, w] of Object.entries(want.vars)) {
      const v = got[path]!;
      expect(v.dims, path).toEqual(w.dims);
      expect(v.shape, path).toEqual(w.shape);
      expect(NP[v.dataType], path).toBe(w.dtype);
      expect(jsonEqual(v.attributes, w.attrs), `${path} attributes ${JSON.stringify(v.attributes)}`).toBe(
        true,
      );
    }
    expect(jsonEqual(ds.groups[0]!.attributes, want.globals)).toBe(true);
    expect(ds.groups.flatMap((g) => g.others.map((s) => s.path))).toEqual(
      name.includes("cdf") || name === "classic.nc" || name === "offset64.nc" ? ["/name"] : [],
    );
  });

  it("reads every variable's values, whole and as a sub-box", async () => {
    for (const g of ds.groups) {
      for (const v of g.variables) {
        const ref = { format: ds.format, file: file(), path: v.path, dataType: v.dataType };
        const all = await readVariableBox(ref, { start: v.shape.map(() => 0), shape: v.shape });
        expect(Array.from(all as ArrayLike<number | bigint>, Number), v.path).toEqual(
          want.vars[v.path]!.values,
        );
        if (v.shape.length >= 2) {
          const start = v.shape.map((n) => Math.min(1, n - 1));
          const shape = v.shape.map((n, i) => Math.max(1, n - start[i]! - 1));
          const part = await readVariableBox(ref, { start, shape });
          const strides = v.shape.map((_, i) => v.shape.slice(i + 1).reduce((a, b) => a * b, 1));
          const ref_: number[] = [];
          const idx = shape.map(() => 0);
          for (;;) {
            ref_.push(
              want.vars[v.path]!.values[idx.reduce((o, x, i) => o + (x + start[i]!) * strides[i]!, 0)]!,
            );
            let d = idx.length - 1;
            while (d >= 0 && ++idx[d]! >= shape[d]!) idx[d--] = 0;
            if (d < 0) break;
          }
          expect(Array.from(part as ArrayLike<number>, Number), `${v.path} sub-box`).toEqual(ref_);
        }
      }
    }
  });
});

describe("chunked NetCDF-4 storage", () => {
  it("reports the storage chunk shape (segments align to it)", async () => {
    const ds = await openInputFile(resolve(join(dir(), "groups.nc")));
    const sst = ds.groups[0]!.variables.find((v) => v.name === "sst")!;
    expect(sst.chunks).toEqual([1, 7, 11]);
    expect(ds.groups.map((g) => g.path)).toEqual(["/", "/forecast"]);
  });
});
