/**
 * `geozarr convert` on NetCDF input: options, the summary, and bad input (missing, not NetCDF,
 * truncated, corrupt, unknown variables, no CRS, full disk): one line, the right exit code, and no
 * output left behind.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const dir = tmpDir("cnc");
const nc = (name: string) => join(inject("netcdfFiles"), name);
const leftovers = (d = dir) => readdirSync(d).filter((f) => f.includes(".partial-"));

describe("convert NetCDF", () => {
  it("--require-standard-name drops what the notebook drops, and says why", async () => {
    const out = join(dir, "req.zarr");
    const r = await runCli("convert", SAMPLE, out, "--require-standard-name", "--zarr-format", "2");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "geozarr: dropped analysis_error: no standard_name\ngeozarr: dropped mask: no standard_name\ngeozarr: CRS EPSG:4326 (from latitude/longitude grid)\n",
    );
    expect(r.stdout).toMatch(
      new RegExp(`^${SAMPLE} -> ${out}: Zarr v2, 6 arrays, \\d+ chunks, .* in [\\d.]+s with 2 workers\\n$`),
    );
    expect(readdirSync(out).sort()).toEqual([
      ".zattrs",
      ".zgroup",
      ".zmetadata",
      "analysed_sst",
      "lat",
      "lon",
      "sea_ice_fraction",
      "spatial_ref",
      "time",
    ]);
  });

  it("--json prints the summary, with what was dropped and how the CRS was found", async () => {
    const out = join(dir, "json.zarr");
    const r = await runCli(
      "convert",
      SAMPLE,
      out,
      "--variables",
      "mask",
      "--json",
      "--chunks",
      "lat=256,lon=512",
      "--shard",
      "lat=512,lon=1024",
    );
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({
      inputFormat: "netcdf",
      zarrFormat: 3,
      codec: "zstd:1",
      georef: [{ group: "/", crs: "EPSG:4326", from: "latitude/longitude grid", regular: true }],
    });
    expect(s.dropped.map((d: { name: string }) => d.name)).toEqual([
      "analysed_sst",
      "analysis_error",
      "sea_ice_fraction",
    ]);
    expect(s.arrays.find((a: { path: string }) => a.path === "/mask")).toMatchObject({
      dataType: "int8",
      chunks: [1, 256, 512],
      shards: [1, 512, 1024],
    });
    expect(r.stderr).toBe("");
  });
});

describe("bad NetCDF input", () => {
  it("a missing file: exit 3", async () => {
    const r = await runCli("convert", join(dir, "nope.nc"), join(dir, "o.zarr"));
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${join(dir, "nope.nc")}: no such file or directory`);
  });

  it("a file that is not NetCDF: exit 3", async () => {
    const f = join(dir, "fake.nc");
    writeFileSync(f, "netcdf? no.");
    const r = await runCli("convert", f, join(dir, "o.zarr"));
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${f}: not a Zarr store, NetCDF, HDF5 or TIFF file`);
  });

  it("a truncated NetCDF-4 file: exit 3, HDF5's reason in one line, nothing left", async () => {
    const f = join(dir, "trunc.nc");
    writeFileSync(f, readFileSync(SAMPLE).subarray(0, 300_000));
    const out = join(dir, "trunc.zarr");
    const r = await runCli("convert", f, out);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${f}: not a readable NetCDF-4/HDF5 file: truncated file: eof = 300000`);
    expect(r.stderr).not.toContain("HDF5-DIAG");
    expect(existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it("a NetCDF-4 file with a corrupt data chunk: exit 3, the variable and the byte in one line, nothing left", async () => {
    // Where HDF5 itself says the first chunk of analysed_sst is (h5py's chunk list).
    const [address] = pythonJson<number[]>(
      'import h5py, json, sys; d = h5py.File(sys.argv[1], "r")["analysed_sst"]; print(json.dumps([d.id.get_chunk_info(0).byte_offset]))',
      [SAMPLE],
    );
    const f = join(dir, "badchunk.nc");
    const bytes = Buffer.from(readFileSync(SAMPLE));
    bytes.fill(0x5a, address! + 8, address! + 72); // inside the deflate stream
    writeFileSync(f, bytes);
    const out = join(dir, "badchunk.zarr");
    const r = await runCli("convert", f, out);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${f}: cannot read /analysed_sst: corrupt chunk at byte ${address} (`);
    expect(existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it("a classic file whose data is cut short: exit 3 at open (the header declares more), nothing left", async () => {
    const f = join(dir, "short.nc");
    const bytes = readFileSync(nc("classic.nc"));
    writeFileSync(f, bytes.subarray(0, bytes.length - 600));
    const out = join(dir, "short.zarr");
    const r = await runCli("convert", f, out);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${f}: truncated or corrupt NetCDF file: 3 records of`);
    expect(existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it("a corrupt classic header: exit 3", async () => {
    const f = join(dir, "corrupt.nc");
    const bytes = Buffer.from(readFileSync(nc("classic.nc")));
    bytes.writeUInt32BE(0x0b0b0b0b, 8); // the dimension-list tag
    writeFileSync(f, bytes);
    const r = await runCli("convert", f, join(dir, "c.zarr"));
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${f}: corrupt NetCDF header: dimension list (at byte 16)`);
  });

  it.each([
    [
      ["--variables", "analysed_sst,sst"],
      '--variables: no variable named "sst" (variables: time, lat, lon, analysed_sst, analysis_error, mask, sea_ice_fraction)',
    ],
    [["--chunks", "latitude=100"], '--chunks: no dimension named "latitude" (dimensions: lat, lon, time)'],
    [["--unpack", "float16"], '--unpack must be float32 or float64, got "float16"'],
    [["--crs", "EPSG:999999"], "--crs EPSG:999999: EPSG:999999 is not in geozarr's CRS table"],
    [["--crs", "mercator please"], '--crs: expected EPSG:<code> or a WKT string, got "mercator please"'],
  ])("usage error %j: exit 2", async (args, message) => {
    const out = join(dir, "u.zarr");
    const r = await runCli("convert", SAMPLE, out, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]!.startsWith(`geozarr: error: ${message}`), r.stderr).toBe(true);
    expect(existsSync(out)).toBe(false);
  });

  it("a grid without a CRS asks for --crs: exit 2", async () => {
    const r = await runCli("convert", nc("nocrs.nc"), join(dir, "n.zarr"));
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      `geozarr: error: ${nc("nocrs.nc")}: cannot tell the coordinate reference system of the y/x grid (no grid_mapping, not latitude/longitude): pass --crs EPSG:<code> or a WKT string`,
    );
  });
});

describe("a full disk", () => {
  const mnt = join(dir, "tiny");
  mkdirSync(mnt);
  // A 300 KiB tmpfs: mounting needs root, which CI and this machine have.
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=300k", "tmpfs", mnt]).status === 0;
  afterAll(() => {
    if (mounted) execFileSync("umount", [mnt]);
  });

  it.runIf(mounted)("stops with exit 3 and 'no space left on device', and leaves nothing", async () => {
    const out = join(mnt, "full.zarr");
    const r = await runCli("convert", SAMPLE, out, "--codec", "none");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /: cannot write: no space left on device$/);
    expect(readdirSync(mnt)).toEqual([]);
  });

  it("the same through a store whose writes fail with ENOSPC (no mount needed)", async () => {
    const { executePlan } = await import("../../src/convert/execute.js");
    const { planNetcdf } = await import("../../src/convert/netcdf/plan.js");
    const { openInputFile } = await import("../../src/readers/open.js");
    const { MemoryStore } = await import("../../src/zarr/store/memory.js");
    const { fsError } = await import("../../src/errors.js");
    class FullStore extends MemoryStore {
      written = 0;
      override async set(key: `/${string}`, value: Uint8Array) {
        this.written += value.length;
        if (this.written > 100_000)
          throw fsError(Object.assign(new Error("ENOSPC"), { code: "ENOSPC" }), `out.zarr${key}`, "write");
        await super.set(key, value);
      }
    }
    const ds = await openInputFile(SAMPLE);
    const plan = await planNetcdf(ds, { zarrFormat: 3, codec: { name: "none" }, history: "test" });
    await expect(
      executePlan(plan.nodes, new FullStore(), { zarrFormat: 3, workers: 0, useWorkers: false }),
    ).rejects.toThrow(/^out\.zarr\/.*: cannot write: no space left on device$/);
  });
});
