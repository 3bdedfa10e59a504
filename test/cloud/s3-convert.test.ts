/**
 * The sample converted to s3:// (v2 and v3) and checked as the local conversions are: downloaded
 * with boto3 (an independent S3 client) and opened with xarray/rioxarray (v2) and zarrita (v3);
 * tree, info, stats and validate give the same answers on the S3 store, on the same store over
 * HTTP (nginx) and on the local copy; a missing chunk reads as fill over both.
 */

import { cpSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { convert } from "../../src/node.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { S3Store } from "../../src/zarr/store/s3.js";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { downloadWithBoto3, filesUnder, useCloud, withoutHistory } from "../helpers/cloud.js";
import { pythonJson } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const cloud = useCloud("s3conv");
const dir = tmpDir("s3conv-out");

describe.each([2, 3] as const)("the sample converted to s3:// as Zarr v%i", (format) => {
  const name = `mur-v${format}.zarr`;
  const local = join(dir, `local-${name}`);
  const downloaded = join(dir, `boto3-${name}`);
  let keys: string[] = [];
  beforeAll(async () => {
    await convert(SAMPLE, local, { zarrFormat: format, workers: 2 });
    const r = await runCli("convert", SAMPLE, cloud.s3Url(name), "--zarr-format", String(format));
    expect(r.stderr).not.toMatch(/geozarr: error/);
    expect(r.code).toBe(0);
    keys = downloadWithBoto3(cloud, name, downloaded);
    // The same store over HTTP: nginx serves the downloaded copy.
    cpSync(downloaded, join(cloud.http.root, name), { recursive: true });
  });

  it("holds exactly the files of the local conversion: chunks byte for byte, documents equal but for history, no lock or marker left", () => {
    expect(keys).toEqual(filesUnder(local));
    for (const k of keys) {
      const a = readFileSync(join(downloaded, k));
      const b = readFileSync(join(local, k));
      if (/(zarr\.json|\.z\w+)$/.test(k))
        expect(withoutHistory(a.toString()), k).toEqual(withoutHistory(b.toString()));
      else expect(a.equals(b), k).toBe(true);
    }
  });

  it.runIf(format === 2)(
    "xarray decodes the source's values from the downloaded store; rioxarray finds EPSG:4326",
    () => {
      const r = pythonJson<Record<string, unknown>>(
        `import json, sys, numpy as np, xarray as xr, rioxarray
src = xr.open_dataset(sys.argv[1]); ds = xr.open_zarr(sys.argv[2], decode_coords="all")
print(json.dumps({v: bool(np.array_equal(ds[v].values, src[v].values, equal_nan=True)) for v in ["analysed_sst", "sea_ice_fraction", "lat", "lon"]} | {"epsg": ds.analysed_sst.rio.crs.to_epsg()}))`,
        [SAMPLE, downloaded],
      );
      expect(r).toEqual({ analysed_sst: true, sea_ice_fraction: true, lat: true, lon: true, epsg: 4326 });
    },
  );

  it.runIf(format === 3)(
    "zarrita reads the downloaded store's values as it reads the local conversion's",
    async () => {
      const read = async (root: string) => {
        const arr = await zarr.open.v3(zarr.root(new FileSystemStore(root)).resolve("analysed_sst"), {
          kind: "array",
        });
        return (await zarr.get(arr)).data as Int16Array;
      };
      const [a, b] = [await read(downloaded), await read(local)];
      expect(a.length).toBe(1 * 719 * 1440);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    },
  );

  /** A command's JSON output with the store's name replaced, to compare across locations. */
  const answer = async (where: string, ...args: string[]) => {
    const r = await runCli(args[0]!, where, ...args.slice(1), "--json");
    return { code: r.code, out: r.stdout.split(where.replace(/\/$/, "")).join("STORE"), err: r.stderr };
  };

  it.each(["tree", "info", "info analysed_sst", "stats analysed_sst", "validate"])(
    "%s: the same answer on S3, over HTTP and on the downloaded copy",
    async (cmd) => {
      const args = cmd.split(" ");
      const want = await answer(downloaded, ...args);
      expect(want.code).toBeLessThanOrEqual(1);
      expect(await answer(cloud.s3Url(name), ...args)).toEqual(want);
      expect(await answer(cloud.httpUrl(name), ...args)).toEqual(want);
    },
  );

  it("info (not --json) reports the stored bytes and chunks as locally, over S3 (listing) and HTTP (probes)", async () => {
    const text = async (where: string) =>
      (await runCli("info", where, "analysed_sst")).stdout.replace(/^Attributes[\s\S]*/m, "");
    const want = await text(downloaded);
    expect(want).toMatch(/Chunks initialized\s+: 1\/1/);
    expect(await text(cloud.s3Url(name))).toBe(want);
    expect(await text(cloud.httpUrl(name))).toBe(want);
  });

  it("a missing chunk reads as the fill value over S3 and over HTTP (404, and S3's 403)", async () => {
    const chunk = format === 3 ? "analysed_sst/c/0/0/0" : "analysed_sst/0.0.0";
    const gap = join(dir, `gap-${name}`);
    cpSync(local, gap, { recursive: true });
    rmSync(join(gap, chunk));
    const want = await answer(gap, "stats", "analysed_sst");
    expect(JSON.parse(want.out)).toMatchObject({ valid: 0, missing: 719 * 1440 });
    const gapName = `gap-${name}`;
    await runCli("convert", local, cloud.s3Url(gapName), "--zarr-format", String(format));
    await new S3Store({ bucket: cloud.s3.bucket, prefix: gapName }).delete(`/${chunk}`);
    cpSync(gap, join(cloud.http.root, gapName), { recursive: true });
    cpSync(gap, join(cloud.http.root, "s3like", gapName), { recursive: true });
    expect(await answer(cloud.s3Url(gapName), "stats", "analysed_sst")).toEqual(want);
    expect(await answer(cloud.httpUrl(gapName), "stats", "analysed_sst")).toEqual(want);
    expect(await answer(cloud.httpUrl(`s3like/${gapName}`), "stats", "analysed_sst")).toEqual(want);
  });
});

describe("the summary of an upload run as tasks", () => {
  it("counts the raw bytes of edge chunks as they are, the same as the conversion into a directory", async () => {
    const args = ["--chunks", "lat=500,lon=1000", "--task-size", "1M", "--json"];
    const summary = async (out: string) => {
      const r = await runCli("convert", SAMPLE, out, ...args);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { rawBytes: number; storedBytes: number };
    };
    const local = await summary(join(dir, "edges.zarr"));
    // 719 x 1440 values of 2 x int16 and 2 x int8, plus the coordinates: not whole 500 x 1000 chunks.
    expect(local.rawBytes).toBe(6_220_808);
    const s3 = await summary(cloud.s3Url("edges.zarr"));
    expect(s3.rawBytes).toBe(local.rawBytes);
    expect(s3.storedBytes).toBe(local.storedBytes);
  });
});

describe("what an s3:// output refuses, in one line, exit 3", () => {
  it("an existing store without --overwrite; objects that are not a store even with it; bad credentials", async () => {
    await runCli("convert", SAMPLE, cloud.s3Url("exists.zarr"));
    const again = await runCli("convert", SAMPLE, cloud.s3Url("exists.zarr"));
    expect(again.code).toBe(3);
    expectOneLine(
      again.stderr,
      /s3:\/\/geozarr-test\/exists\.zarr: already exists \(use the overwrite option, --overwrite/,
    );
    const replaced = await runCli(
      "convert",
      SAMPLE,
      cloud.s3Url("exists.zarr"),
      "--overwrite",
      "--zarr-format",
      "2",
    );
    expect(replaced.code).toBe(0);
    const after = downloadWithBoto3(cloud, "exists.zarr", join(dir, "exists"));
    expect(after).toContain(".zmetadata");
    expect(after.filter((k) => k.endsWith("zarr.json"))).toEqual([]); // nothing of the v3 store is left

    const other = new S3Store({ bucket: cloud.s3.bucket, prefix: "photos" });
    await other.set("/holiday.jpg", new Uint8Array([0xff, 0xd8]));
    const refused = await runCli("convert", SAMPLE, cloud.s3Url("photos"), "--overwrite");
    expect(refused.code).toBe(3);
    expectOneLine(
      refused.stderr,
      /s3:\/\/geozarr-test\/photos: will not replace it: it holds objects that are not a Zarr store/,
    );
    expect(await other.get("/holiday.jpg")).toEqual(new Uint8Array([0xff, 0xd8]));
    expect(await other.get("/.geozarr-lock")).toBeUndefined();

    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = "wrong-secret";
    try {
      const denied = await runCli("convert", SAMPLE, cloud.s3Url("denied.zarr"));
      expect(denied.code).toBe(3);
      expectOneLine(
        denied.stderr,
        /s3:\/\/geozarr-test\/denied\.zarr\/\S+: cannot \w+: 403 Forbidden \(SignatureDoesNotMatch: check AWS credentials/,
      );
      expect(denied.stderr).not.toContain("wrong-secret");
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });

  it("an HTTP output, and a store URL of an unknown scheme", async () => {
    const http = await runCli("convert", SAMPLE, cloud.httpUrl("out.zarr"));
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/HTTP stores are read-only; write to a directory or s3:\/\//);
    const ftp = await runCli("tree", "ftp://example.org/x.zarr");
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toMatch(/unsupported URL scheme/);
  });
});

describe("inputs named by URL", () => {
  it("a NetCDF file in S3 and over HTTP converts as the local file does, and leaves no download behind", async () => {
    await new S3Store({ bucket: cloud.s3.bucket, prefix: "inputs" }).set("/mur.nc", readFileSync(SAMPLE));
    cpSync(SAMPLE, join(cloud.http.root, "mur.nc"));
    const want = join(dir, "from-local.zarr");
    await runCli("convert", SAMPLE, want);
    const { readdirSync: ls } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const downloadsBefore = ls(tmpdir()).filter((f) => f.startsWith("geozarr-input-")).length;
    for (const [i, url] of [cloud.s3Url("inputs/mur.nc"), cloud.httpUrl("mur.nc")].entries()) {
      const out = join(dir, `from-url-${i}.zarr`);
      const r = await runCli("convert", url, out);
      expect(r.code, r.stderr).toBe(0);
      for (const k of filesUnder(want).filter((k) => !/(zarr\.json|\.z\w+)$/.test(k)))
        expect(readFileSync(join(out, k)).equals(readFileSync(join(want, k))), k).toBe(true);
    }
    expect(ls(tmpdir()).filter((f) => f.startsWith("geozarr-input-")).length).toBe(downloadsBefore);
  });

  it("a URL with nothing there, and bad credentials for tree and info: one line, exit 3", async () => {
    const none = await runCli("convert", cloud.s3Url("nothing-here"), join(dir, "x.zarr"));
    expect(none.code).toBe(3);
    expectOneLine(none.stderr, /s3:\/\/geozarr-test\/nothing-here: no such store or file/);
    const tree = await runCli("tree", cloud.httpUrl("no-store.zarr"));
    expect(tree.code).toBe(3);
    expectOneLine(
      tree.stderr,
      /no-store\.zarr: not a Zarr store \(no zarr\.json, \.zgroup or \.zarray at its root\)$/,
    );
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = "wrong-secret";
    try {
      const info = await runCli("info", cloud.s3Url("mur-v3.zarr"));
      expect(info.code).toBe(3);
      expectOneLine(
        info.stderr,
        /s3:\/\/geozarr-test\/mur-v3\.zarr\/zarr\.json: cannot read: 403 Forbidden \(SignatureDoesNotMatch/,
      );
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });

  it("over plain HTTP, a store without consolidated metadata is refused with the reason (no listing); on S3 it is walked", async () => {
    const v2 = join(cloud.http.root, "unconsolidated-v2.zarr");
    cpSync(join(dir, "boto3-mur-v2.zarr"), v2, { recursive: true });
    rmSync(join(v2, ".zmetadata"));
    const r = await runCli("tree", cloud.httpUrl("unconsolidated-v2.zarr"));
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /unconsolidated-v2\.zarr\/: cannot list a store over plain HTTP \(HTTP has no directory listing\); this needs consolidated metadata/,
    );
    // The same store in S3 lists through ListObjectsV2.
    const s3 = new S3Store({ bucket: cloud.s3.bucket, prefix: "unconsolidated-v2.zarr" });
    for (const k of filesUnder(v2)) await s3.set(`/${k}` as `/${string}`, readFileSync(join(v2, k)));
    const walked = await runCli("tree", cloud.s3Url("unconsolidated-v2.zarr"), "--json");
    const local = await runCli("tree", v2, "--json");
    expect(walked.code).toBe(0);
    expect(walked.stdout.replaceAll(cloud.s3Url("unconsolidated-v2.zarr"), "S")).toBe(
      local.stdout.replaceAll(v2, "S"),
    );
  });
});
