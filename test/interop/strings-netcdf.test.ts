/**
 * Text and booleans from NetCDF (issue 11, item 4), each case written by a real tool and read
 * back by the reference reader: netCDF4-python writes NC_CHAR station names (UTF-8 bytes, and
 * with `_Encoding`), an NC_STRING band coordinate of a gridded variable, and NetCDF-4 enums (a
 * FALSE/TRUE one and a category one); xarray writes a classic file (its strings as NC_CHAR with
 * `_Encoding`, its booleans as bytes with `dtype: bool`); h5py writes booleans (an HDF5 enum) and
 * fixed-length byte strings. Our v2 output is read by xarray 2023.01 (h5py for the plain HDF5
 * file) and compared with its decoding of the source; our v3 output's strings by zarrita.
 */

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";
import { zarritaRead } from "../helpers/zarrita.js";

const dir = tmpDir("strings-nc");
const f = (name: string) => join(dir, name);

interface Var {
  dims: string[];
  kind: string;
  values: unknown[];
  coord: boolean;
  attrs: Record<string, unknown>;
}

/** xarray's decoding of a NetCDF file or (v2) Zarr store: every variable, bytes as latin-1 text. */
const XARRAY = `
import sys, json, numpy as np, xarray as xr
src = sys.argv[1]
ds = xr.open_zarr(src) if src.endswith(".zarr") else xr.open_dataset(src)
def item(v):
    if isinstance(v, bytes): return {"bytes": v.decode("latin-1")}
    if isinstance(v, (np.generic,)): return v.item()
    return v
out = {}
for k, v in ds.variables.items():
    vals = v.values
    out[k] = {"dims": list(v.dims), "kind": vals.dtype.kind, "values": [item(x) for x in vals.ravel().tolist()] if vals.dtype.kind in "SUO" else vals.ravel().tolist(),
              "coord": k in ds.coords, "attrs": {a: str(b) for a, b in v.attrs.items()}}
print(json.dumps(out))
`;

const xarray = (path: string) => pythonJson<Record<string, Var>>(XARRAY, [path]);

beforeAll(() => {
  python(
    `
import sys, numpy as np, netCDF4, xarray as xr, h5py
out = sys.argv[1]
rng = np.random.default_rng(3)
def chars(items, n):
    return np.array(items, dtype=f"S{n}").view("S1").reshape(len(items), n)
with netCDF4.Dataset(f"{out}/labels.nc", "w", format="NETCDF4") as ds:
    ds.Conventions = "CF-1.11"
    for d, n in [("station", 3), ("name_strlen", 8), ("band", 3), ("lat", 4), ("lon", 5), ("letter", 3)]:
        ds.createDimension(d, n)
    la = ds.createVariable("lat", "f4", ("lat",)); la.standard_name = "latitude"; la.units = "degrees_north"
    la[:] = [10, 11, 12, 13]
    lo = ds.createVariable("lon", "f4", ("lon",)); lo.standard_name = "longitude"; lo.units = "degrees_east"
    lo[:] = [20, 21, 22, 23, 24]
    sn = ds.createVariable("station_name", "S1", ("station", "name_strlen"))
    sn.cf_role = "timeseries_id"
    sn.set_auto_chartostring(False)
    sn[:] = chars([b"alpha", "b\\u00e9ta".encode(), b"gamma_xy"], 8)
    se = ds.createVariable("station_label", "S1", ("station", "name_strlen"))
    se._Encoding = "utf-8"
    se.set_auto_chartostring(False)
    se[:] = chars(["\\u00e9t\\u00e9".encode(), b"x", b""], 8)
    t = ds.createVariable("temp", "f4", ("station",))
    t.standard_name = "air_temperature"; t.units = "K"; t.coordinates = "station_name station_label"
    t[:] = [280, 281, 282]
    b = ds.createVariable("band", str, ("band",))
    b.long_name = "band name"
    b[:] = np.array(["red", "nir", "n\\u00e4h"], dtype=object)
    r = ds.createVariable("refl", "f4", ("band", "lat", "lon"))
    r.standard_name = "surface_bidirectional_reflectance"; r.units = "1"
    r[:] = rng.random((3, 4, 5)).astype("f4")
    # A coordinate of single characters (netCDF-C's char fl_dmn(fl_dmn)): its last dimension is its
    # own, not a string length, and a word per letter on it.
    le = ds.createVariable("letter", "S1", ("letter",)); le.set_auto_chartostring(False)
    le[:] = np.array([b"a", b"b", b"3"], dtype="S1")
    wo = ds.createVariable("word", "S1", ("letter", "name_strlen")); wo.set_auto_chartostring(False)
    wo[:] = chars([b"apple", b"bee", b"three"], 8)
    bt = ds.createEnumType(np.uint8, "bool_t", {"FALSE": 0, "TRUE": 1})
    ok = ds.createVariable("valid", bt, ("lat", "lon")); ok[:] = rng.integers(0, 2, (4, 5)).astype("u1")
    ct = ds.createEnumType(np.int8, "cloud_t", {"clear": 0, "cloudy": 1, "partly cloudy": 2})
    cl = ds.createVariable("cloud", ct, ("lat", "lon")); cl[:] = rng.integers(0, 3, (4, 5)).astype("i1")
xr.Dataset(
    {"flag": (("station",), np.array([True, False, True])), "temp": (("station",), np.array([1.0, 2.0, 3.0]))},
    coords={"station": ["alpha", "b\\u00e9", "c"]},
).to_netcdf(f"{out}/xarray3.nc", format="NETCDF3_CLASSIC")
with netCDF4.Dataset(f"{out}/latin1.nc", "w", format="NETCDF3_CLASSIC") as ds:
    ds.createDimension("station", 2); ds.createDimension("strlen", 4)
    n = ds.createVariable("name", "S1", ("station", "strlen")); n.set_auto_chartostring(False)
    n[:] = chars([b"caf\\xe9", b"ok"], 4)
    t = ds.createVariable("temp", "f4", ("station",)); t.coordinates = "name"; t[:] = [1, 2]
# Arrays of single characters (netCDF-C's nctest and ref_nc_test_netcdf4_4_0 layouts): a char
# variable's last dimension is a string length only if nothing but char variables use it, last.
with netCDF4.Dataset(f"{out}/chars.nc", "w", format="NETCDF3_CLASSIC") as ds:
    sizes = {"rec": 2, "d1": 2, "w": 2, "z": 3, "len": 4}
    for d, n in sizes.items():
        ds.createDimension(d, None if d == "rec" else n)
    shape = lambda dims: tuple(sizes[d] for d in dims)
    for name, dims, items in [
        ("cr", ("rec",), [b"a", b"b"]),
        ("c1", ("d1",), [b"x", b"\\x00"]),
        ("charvar", ("w", "z"), [b"p", b"q", b"\\x00", b"\\xe9", b"s", b"t"]),
        ("label", ("w", "len"), [b"ab", b"cdef"]),
    ]:
        v = ds.createVariable(name, "S1", dims); v.set_auto_chartostring(False)
        v[:] = chars(items, 4) if name == "label" else np.array(items, dtype="S1").reshape(shape(dims))
    for name, dims in [("br", ("rec",)), ("b1", ("d1",)), ("bytevar", ("w", "z"))]:
        v = ds.createVariable(name, "i1", dims); v[:] = np.arange(int(np.prod(shape(dims))), dtype="i1").reshape(shape(dims))
with h5py.File(f"{out}/plain.h5", "w") as h:
    h["mask"] = np.array([True, False, True, True])
    h["code"] = np.array([b"ab", b"c\\xe9d", b"", b"wxyz"], dtype="S4")
`,
    [dir],
  );
});

describe("NetCDF-4 text and enums", () => {
  it("v2: xarray reads every variable of our store as it decodes the source; string coordinates stay coordinates", async () => {
    const out = f("labels-v2.zarr");
    const r = await runCli("convert", f("labels.nc"), out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/dropped/);
    const src = xarray(f("labels.nc"));
    const got = xarray(out);
    for (const name of [
      "station_name",
      "station_label",
      "temp",
      "band",
      "refl",
      "lat",
      "lon",
      "cloud",
      "letter",
      "word",
    ]) {
      expect(got[name], name).toBeDefined();
      expect(got[name]!.dims, name).toEqual(src[name]!.dims);
      expect(got[name]!.kind, name).toBe(src[name]!.kind);
      expect(got[name]!.values, name).toEqual(src[name]!.values);
      expect(got[name]!.coord, name).toBe(src[name]!.coord);
    }
    // NC_CHAR without _Encoding: bytes (|S8), as xarray decodes the source; with it, text.
    expect(src.station_name!.values).toEqual([{ bytes: "alpha" }, { bytes: "bÃ©ta" }, { bytes: "gamma_xy" }]);
    expect(src.station_label!.values).toEqual(["été", "x", ""]);
    expect(src.band!.values).toEqual(["red", "nir", "näh"]);
    expect(src.letter).toMatchObject({ dims: ["letter"], kind: "S", coord: true });
    expect(src.word).toMatchObject({
      dims: ["letter"],
      values: [{ bytes: "apple" }, { bytes: "bee" }, { bytes: "three" }],
    });
    expect(got.station_name!.attrs).toMatchObject({ cf_role: "timeseries_id" });
    // The FALSE/TRUE enum is a Zarr bool (xarray reads the source's as its uint8 storage); the
    // category enum keeps its integers, its names as CF flags (CF §3.5).
    expect(got.valid!.kind).toBe("b");
    expect(got.valid!.values).toEqual(src.valid!.values.map((v) => v === 1));
    expect(got.cloud!.attrs).toMatchObject({
      flag_values: "[0, 1, 2]",
      flag_meanings: "clear cloudy partly_cloudy",
    });
  });

  it("v3: zarrita reads the text of every string array (string, vlen-utf8); _Encoding is dropped once decoded", async () => {
    const out = f("labels-v3.zarr");
    const r = await runCli("convert", f("labels.nc"), out, "--zarr-format", "3");
    expect(r.code, r.stderr).toBe(0);
    const read = zarritaRead(out, ["station_name", "station_label", "band"]);
    expect(Object.fromEntries(Object.entries(read).map(([k, v]) => [k, v.values]))).toEqual({
      station_name: ["alpha", "béta", "gamma_xy"],
      station_label: ["été", "x", ""],
      band: ["red", "nir", "näh"],
    });
    const info = await runCli("info", out, "station_label", "--json");
    const doc = JSON.parse(info.stdout);
    expect(doc).toMatchObject({ data_type: "string", dimension_names: ["station"], fill_value: "" });
    expect(doc.attributes._Encoding).toBeUndefined();
    const tree = await runCli("tree", out);
    expect(tree.stdout).toMatch(/valid \(4, 5\) bool/);
  });
});

describe("NetCDF classic text", () => {
  it("xarray's own classic file (strings as NC_CHAR with _Encoding, booleans as bytes): xarray reads the same from our v2", async () => {
    const out = f("xarray3-v2.zarr");
    const r = await runCli("convert", f("xarray3.nc"), out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    const src = xarray(f("xarray3.nc"));
    const got = xarray(out);
    expect(src.station!.values).toEqual(["alpha", "bé", "c"]);
    expect(src.flag!.kind).toBe("b");
    for (const name of ["station", "flag", "temp"]) {
      expect(got[name]!.kind, name).toBe(src[name]!.kind);
      expect(got[name]!.values, name).toEqual(src[name]!.values);
      expect(got[name]!.coord, name).toBe(src[name]!.coord);
    }
  });

  it("bytes that are not UTF-8: v2 keeps them (|S4); v3 leaves the variable out and says why", async () => {
    const v2 = f("latin1-v2.zarr");
    expect((await runCli("convert", f("latin1.nc"), v2, "--zarr-format", "2")).code).toBe(0);
    expect(xarray(v2).name!.values).toEqual([{ bytes: "café" }, { bytes: "ok" }]);
    const r = await runCli("convert", f("latin1.nc"), f("latin1-v3.zarr"), "--zarr-format", "3");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "geozarr: dropped name: its bytes are not utf-8 text (element 0): Zarr v3 strings are UTF-8; --zarr-format 2 keeps them as |S4",
    );
  });
});

describe("NetCDF char arrays that are not strings", () => {
  it("a char dimension other variables use is not a string length (xarray's stackable): xarray reads the same from our v2", async () => {
    const out = f("chars-v2.zarr");
    const r = await runCli("convert", f("chars.nc"), out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    const src = xarray(f("chars.nc"));
    const got = xarray(out);
    // xarray keeps single characters where the dimension is shared (c1 beside b1, charvar beside
    // bytevar) and makes strings of label's (only char variables use len, as their last).
    expect(src.c1).toMatchObject({ dims: ["d1"], kind: "S", values: [{ bytes: "x" }, { bytes: "" }] });
    expect(src.charvar!.dims).toEqual(["w", "z"]);
    expect(src.label).toMatchObject({ dims: ["w"], values: [{ bytes: "ab" }, { bytes: "cdef" }] });
    for (const name of ["cr", "c1", "charvar", "label", "br", "b1", "bytevar"]) {
      expect(got[name], name).toBeDefined();
      expect(got[name]!.dims, name).toEqual(src[name]!.dims);
      expect(got[name]!.kind, name).toBe(src[name]!.kind);
      expect(got[name]!.values, name).toEqual(src[name]!.values);
    }
  });
});

describe("plain HDF5 (h5py)", () => {
  it("booleans (an HDF5 enum) and fixed-length byte strings read as h5py reads them", async () => {
    const out = f("plain-v2.zarr");
    const r = await runCli("convert", f("plain.h5"), out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    const read = (p: string) =>
      pythonJson<Record<string, unknown>>(
        `
import sys, json, h5py, zarr
def vals(a):
    return [x.decode("latin-1") if isinstance(x, bytes) else bool(x) for x in a[...].tolist()]
if sys.argv[1].endswith(".h5"):
    h = h5py.File(sys.argv[1], "r")
    print(json.dumps({k: [h[k].dtype.str, vals(h[k])] for k in ["mask", "code"]}))
else:
    g = zarr.open_group(sys.argv[1], mode="r")
    print(json.dumps({k: [g[k].dtype.str, vals(g[k])] for k in ["mask", "code"]}))
`,
        [p],
      );
    expect(read(out)).toEqual(read(f("plain.h5")));
    expect(read(out)).toEqual({
      mask: ["|b1", [true, false, true, true]],
      code: ["|S4", ["ab", "céd", "", "wxyz"]],
    });
  });
});
