/**
 * Corrupt, truncated and hostile NetCDF input (issue 10): every fault is one line naming the file,
 * the object and the cause, exit 3, no HDF5 diagnostics, no stack trace, and no output left.
 * Each corrupt file is made here from a valid one written by netCDF4-python, at offsets found with
 * h5py (object headers, chunk index) or from the classic header layout that ncdump reads.
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { python, pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("faults-nc");
const leftovers = () => readdirSync(dir).filter((f) => f.includes(".partial-"));
const NC4 = join(dir, "good4.nc");
const NC3 = join(dir, "good3.nc");
const CDF5 = join(dir, "good5.nc");

/** Where things are in the NetCDF-4 file, found with h5py. */
let at: { timeHeader: number; unitsAt: number; rootHeader: number; chunkSizeAt: number; chunkSize: number };

beforeAll(() => {
  python(
    `
import sys, netCDF4, numpy as np
for path, fmt in [(sys.argv[1], "NETCDF4"), (sys.argv[2], "NETCDF3_CLASSIC"), (sys.argv[3], "NETCDF3_64BIT_DATA")]:
    with netCDF4.Dataset(path, "w", format=fmt) as ds:
        ds.createDimension("time", 10)
        ds.createDimension("lat", 4)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t.standard_name = "time"
        t[:] = np.arange(10)
        v = ds.createVariable("v", "f4", ("time", "lat"), **({"zlib": True} if fmt == "NETCDF4" else {}))
        v.units = "K"
        v[:] = np.arange(40).reshape(10, 4)
`,
    [NC4, NC3, CDF5],
  );
  at = pythonJson(
    `
import sys, json, struct, h5py
f = h5py.File(sys.argv[1], "r")
time = h5py.h5o.get_info(f["time"].id).addr
root = h5py.h5o.get_info(f.id).addr
data = open(sys.argv[1], "rb").read()
units = data.index(b"days since", time)
# The chunk B-tree of v (version 1, III.A.1): signature, type, level, entries, siblings, then the
# first key, whose first field is the chunk's stored size (what get_chunk_info reports).
tree = data.index(b"TREE")
size = struct.unpack_from("<I", data, tree + 24)[0]
assert size == f["v"].id.get_chunk_info(0).size, (size, f["v"].id.get_chunk_info(0))
print(json.dumps({"timeHeader": time, "unitsAt": units, "rootHeader": root, "chunkSizeAt": tree + 24, "chunkSize": size}))
`,
    [NC4],
  );
});

function corrupt(src: string, name: string, edit: (b: Buffer) => Buffer | undefined): string {
  const b = Buffer.from(readFileSync(src));
  const out = join(dir, name);
  writeFileSync(out, edit(b) ?? b);
  return out;
}

async function refused(file: string, message: RegExp | string): Promise<void> {
  const out = join(dir, "out.zarr");
  const r = await runCli("convert", file, out);
  expect(r.code, r.stderr).toBe(3);
  expectOneLine(r.stderr, message);
  expect(r.stderr).not.toMatch(/HDF5-DIAG|#0\d\d:|\n\s+at /);
  expect(existsSync(out)).toBe(false);
  expect(leftovers()).toEqual([]);
}

describe("NetCDF-4 (HDF5) metadata faults", () => {
  it("the valid file converts and keeps time's units (the reference for the faults below)", async () => {
    const out = join(dir, "good.zarr");
    const r = await runCli("convert", NC4, out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    const attrs = JSON.parse(readFileSync(join(out, "time", ".zattrs"), "utf8"));
    expect(attrs.units).toBe("days since 2000-01-01");
  });

  it("an attribute byte that fails HDF5's checksum (h5py refuses it): exit 3, attributes never dropped", async () => {
    const f = corrupt(NC4, "checksum.nc", (b) => {
      b[at.unitsAt] ^= 0x20; // "days" -> "Days": the object header's checksum no longer matches
      return b;
    });
    // h5py, the reference reader, refuses the object too
    expect(() => python("import sys, h5py; dict(h5py.File(sys.argv[1])['time'].attrs)", [f])).toThrow(
      /checksum/,
    );
    await refused(
      f,
      `${f}: /time: cannot read its object header: incorrect metadata checksum after all read attempts`,
    );
  });

  it("a corrupt root group header: exit 3 naming the group", async () => {
    const f = corrupt(NC4, "root.nc", (b) => {
      b[at.rootHeader + 6] ^= 0xff; // inside the root object header (after "OHDR", version, flags)
      return b;
    });
    await refused(f, new RegExp(`^geozarr: error: ${f}: (not a readable NetCDF-4/HDF5 file|/: cannot read)`));
  });

  it("a chunk index declaring a chunk beyond the end of the file: exit 3 naming the variable", async () => {
    const f = corrupt(NC4, "index.nc", (b) => {
      b.writeUInt32LE(0x7ffffff0, at.chunkSizeAt);
      return b;
    });
    await refused(f, `${f}: cannot read /v: corrupt chunk index: a chunk of ${0x7ffffff0} bytes at byte`);
  });

  it("a NetCDF-4 file cut in half: exit 3", async () => {
    const f = corrupt(NC4, "half.nc", (b) => b.subarray(0, b.length >> 1));
    await refused(f, new RegExp(`^geozarr: error: ${f}: `));
  });
});

/** Offsets in a classic header (NUG "Classic Format Specification"): after the name, the size. */
function dimSizeOffset(b: Buffer, name: string): number {
  const at = b.indexOf(Buffer.from(name, "latin1"), 8);
  return at + Math.ceil(name.length / 4) * 4;
}

describe("NetCDF classic and CDF-5 header faults", () => {
  it("the valid classic files list the variables ncdump lists", () => {
    for (const f of [NC3, CDF5]) {
      const header = python(
        "import sys, subprocess; print(subprocess.run(['ncdump', '-h', sys.argv[1]], capture_output=True, text=True).stdout)",
        [f],
      );
      expect(header).toMatch(/double time\(time\)/);
      expect(header).toMatch(/float v\(time, lat\)/);
    }
  });

  it("a dimension declared 2^31-1 long (hostile): refused at once, nothing allocated", async () => {
    const f = corrupt(NC3, "hugedim.nc", (b) => {
      b.writeUInt32BE(0x7fffffff, dimSizeOffset(b, "lat"));
      return b;
    });
    await refused(
      f,
      new RegExp(
        `${f}: truncated or corrupt NetCDF file: variable v declares \\d+ bytes at byte \\d+, beyond the end of the file \\(\\d+ bytes\\)`,
      ),
    );
  });

  it("a CDF-5 dimension of 2^40 cells: refused at once", async () => {
    const f = corrupt(CDF5, "hugedim5.nc", (b) => {
      b.writeBigUInt64BE(2n ** 40n, dimSizeOffset(b, "lat"));
      return b;
    });
    await refused(f, new RegExp(`${f}: truncated or corrupt NetCDF file: variable v declares`));
  });

  it("a CDF-5 header declaring 2^60 dimensions: corrupt, no loop over them", async () => {
    const f = corrupt(CDF5, "ndims.nc", (b) => {
      b.writeBigUInt64BE(2n ** 60n, 4 + 8 + 4); // magic, numrecs (8), NC_DIMENSION tag, count
      return b;
    });
    await refused(
      f,
      new RegExp(
        `${f}: truncated or corrupt NetCDF header: \\d+ dimensions declared at byte 24, more than the rest of the file \\(\\d+ bytes\\) holds`,
      ),
    );
  });

  it("a name length of 2^31 (hostile): corrupt, not read", async () => {
    const f = corrupt(NC3, "name.nc", (b) => {
      b.writeUInt32BE(0x80000000, 4 + 4 + 4 + 4); // magic, numrecs, tag, count, then the first name's length
      return b;
    });
    await refused(f, `${f}: corrupt NetCDF header: a name of 2147483648 bytes (at most 256)`);
  });

  it("a variable that begins inside the header (netCDF-C's bad_cdf5_begin.nc): corrupt", async () => {
    const f = corrupt(CDF5, "begin.nc", (b) => {
      // The header's last field is v's begin: the header's end plus time's 80 bytes of data.
      let field = -1;
      for (let end = 40; end < 600 && field < 0; end += 4)
        if (b.readBigUInt64BE(end - 8) === BigInt(end + 80)) field = end - 8;
      expect(field).toBeGreaterThan(0);
      b.writeBigUInt64BE(16n, field);
      return b;
    });
    await refused(
      f,
      new RegExp(`${f}: corrupt NetCDF header: variable v begins at byte 16, inside the header`),
    );
  });

  it("a classic file cut inside its header: exit 3", async () => {
    const f = corrupt(NC3, "cut.nc", (b) => b.subarray(0, 60));
    await refused(
      f,
      new RegExp(
        `${f}: truncated or corrupt NetCDF header: 2 variables declared at byte 56, more than the rest of the file \\(60 bytes\\) holds`,
      ),
    );
  });
});

describe("valid edge cases the checks must not refuse", () => {
  it("record variables with no records, their begin at the end of the file (GDAL's test6645.nc layout)", async () => {
    const f = join(dir, "norecords.nc");
    python(
      `
import sys, netCDF4, numpy as np
with netCDF4.Dataset(sys.argv[1], "w", format="NETCDF3_CLASSIC") as ds:
    ds.createDimension("time", None); ds.createDimension("lat", 2); ds.createDimension("s", 10)
    la = ds.createVariable("lat", "f4", ("lat",)); la.units = "degrees_north"; la[:] = [90, 87.5]
    t = ds.createVariable("time", "f8", ("time",)); t.units = "hours since 2000-01-01"
    c = ds.createVariable("label", "S1", ("time", "s"))
    o = ds.createVariable("obs", "f4", ("time", "lat"))
`,
      [f],
    );
    const out = join(dir, "norecords.zarr");
    const r = await runCli("convert", f, out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "obs", ".zarray"), "utf8")).shape).toEqual([0, 2]);
  });

  it("HDF5 datasets without dimension scales get netCDF-C's phony dimensions, one per length", async () => {
    const f = join(dir, "phony.h5");
    python(
      `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as h:
    h["a"] = np.arange(200, dtype="i4").reshape(10, 20)
    h["b"] = np.arange(300, dtype="f4").reshape(30, 10)
`,
      [f],
    );
    const out = join(dir, "phony.zarr");
    const r = await runCli("convert", f, out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    const same = pythonJson<Record<string, unknown>>(
      `import sys, json, numpy as np, xarray as xr
a = xr.open_dataset(sys.argv[1]); b = xr.open_zarr(sys.argv[2])
print(json.dumps({"dims": dict(b.sizes) == dict(a.sizes), "a": list(b.a.dims) == list(a.a.dims), "b": list(b.b.dims) == list(a.b.dims),
  "values": bool(np.array_equal(a.a.values, b.a.values) and np.array_equal(a.b.values, b.b.values))}))`,
      [f, out],
    );
    expect(same).toEqual({ dims: true, a: true, b: true, values: true });
  });

  it("an HDF5 file with a user block (superblock at 512) is read, not called 'not HDF5'", async () => {
    const f = join(dir, "userblock.h5");
    python(
      `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w", userblock_size=512) as h:
    h["v"] = np.arange(12, dtype="f8").reshape(3, 4)
with open(sys.argv[1], "rb") as fh:
    assert fh.read(8) != b"\\x89HDF\\r\\n\\x1a\\n"
`,
      [f],
    );
    const out = join(dir, "userblock.zarr");
    const r = await runCli("convert", f, out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    const same = python(
      "import sys, numpy as np, h5py, xarray as xr; print(bool(np.array_equal(h5py.File(sys.argv[1])['v'][()], xr.open_zarr(sys.argv[2]).v.values)))",
      [f, out],
    );
    expect(same.trim()).toBe("True");
  });

  it("a classic name NUL-padded inside its declared length is cut at the NUL, as ncdump shows it", async () => {
    const f = corrupt(NC3, "nulname.nc", (b) => {
      b[b.indexOf(Buffer.from("time", "latin1"), 8) + 3] = 0; // "time" -> "tim\0"
      return b;
    });
    const header = python(
      "import sys, subprocess; print(subprocess.run(['ncdump', '-h', sys.argv[1]], capture_output=True, text=True).stdout)",
      [f],
    );
    expect(header).toMatch(/\ttim = 10 ;/);
    const out = join(dir, "nulname.zarr");
    const r = await runCli("convert", f, out, "--zarr-format", "2");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "v", ".zattrs"), "utf8"))._ARRAY_DIMENSIONS).toEqual([
      "tim",
      "lat",
    ]);
  });
});
