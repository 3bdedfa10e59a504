/**
 * The converter's own findings of issue 11's validation sweep (docs/compatibility.md, "Validation
 * sweep"): patterns of GDAL's and others' test files, rebuilt small with netCDF4-python, converted
 * to v2 and v3, compared with what xarray (and GDAL) read, and validated.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { convert, FileSystemStore, validateStore } from "../../src/node.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";
import { zarritaRead } from "../helpers/zarrita.js";

const dir = tmpDir("findings");
const f = (name: string) => join(dir, name);
const meta = (store: string, v: string, format: 2 | 3) =>
  format === 2
    ? {
        ...JSON.parse(readFileSync(join(store, v, ".zarray"), "utf8")),
        attributes: JSON.parse(readFileSync(join(store, v, ".zattrs"), "utf8")),
      }
    : JSON.parse(readFileSync(join(store, v, "zarr.json"), "utf8"));
const errors = async (store: string, rules: string[]) =>
  (await validateStore(new FileSystemStore(store), store, { rules })).findings
    .filter((x) => x.severity === "error")
    .map((x) => `${x.rule} ${x.path}`);

describe("a dimension coordinate in the root, used only by a sub-group's data (CF §2.7, §4)", () => {
  // GDAL's y_x_other_dim_thanks_to_geolocation.nc: int baz(baz) in the root, rhos(foo, bar, baz)
  // in /geophysical_data, its lat/lon in /navigation_data.
  beforeAll(() => {
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    ds.createDimension("foo", 2); ds.createDimension("bar", 3); ds.createDimension("baz", 4)
    ds.createDimension("unused", 2)
    b = ds.createVariable("baz", "i4", ("baz",)); b[:] = [10, 20, 30, 40]
    u = ds.createVariable("unused", "i4", ("unused",)); u[:] = [1, 2]
    g = ds.createGroup("geophysical_data")
    r = g.createVariable("rhos", "f4", ("foo", "bar", "baz")); r[:] = np.arange(24, dtype="f4").reshape(2, 3, 4)
`,
      [f("subgroup.nc")],
    );
  });

  for (const format of [2, 3] as const) {
    it(`v${format}: baz(baz) is written with xarray's values; the unused one is dropped with its reason`, async () => {
      const out = f(`subgroup${format}.zarr`);
      const s = await convert(f("subgroup.nc"), out, { zarrFormat: format, workers: 0 });
      expect(s.dropped).toEqual([{ name: "unused", reason: "no kept variable uses its dimension" }]);
      const want = pythonJson<number[]>(
        `import sys, json, xarray as xr; print(json.dumps(xr.open_dataset(sys.argv[1])["baz"].values.tolist()))`,
        [f("subgroup.nc")],
      );
      expect(want).toEqual([10, 20, 30, 40]);
      // zarr-python 2 (Debian) reads v2, zarrita v3.
      const got =
        format === 2
          ? pythonJson<number[]>(
              `import sys, json, zarr; print(json.dumps(zarr.open_array(sys.argv[1] + "/baz", mode="r")[:].tolist()))`,
              [out],
            )
          : zarritaRead(out, ["baz"]).baz!.values;
      expect(got).toEqual(want);
      expect(meta(out, "baz", format).attributes).not.toHaveProperty("_FillValue");
      expect(await errors(out, ["CF-04", "CF-05"])).toEqual([]);
    });
  }
});
