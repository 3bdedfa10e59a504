/**
 * A GeoTIFF or COG named by URL (s3:// on the loopback S3 server, http:// on nginx) is read in
 * place: geotiff.js parses its IFDs through ranged reads and the tiles or strips of each task are
 * fetched together (readers/geotiff.ts, remote-source.ts), nothing is downloaded first. The store
 * is the local file's conversion, chunk for chunk; a COG converted without levels fetches less
 * than the file (its overviews are not read); with `--multiscales` its overviews become the levels
 * as from the local file; a truncated object is the local file's one-line error, naming the URL;
 * uploaded to s3://, the same.
 */

import { cpSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { S3Store } from "../../src/zarr/store/s3.js";
import { expectOneLine } from "../helpers/cli.js";
import { downloadWithBoto3, storeDifferences, useCloud } from "../helpers/cloud.js";
import { runCliProcess } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const cloud = useCloud("tifurl");
const dir = tmpDir("tifurl-out");
const tif = (name: string) => join(inject("geotiffs"), name);
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
const FILES = ["cog_4ovr.tif", "uint16_lzw_striped.tif", "rgb_pixel_deflate.tif", "truncated.tif"];

interface Summary {
  remoteRead?: { read: string; size: number; fetchedBytes: number };
}

async function run(args: string[], code = 0) {
  const r = await runCliProcess(args, { ...cloud.env, ...EPOCH });
  expect(r.code, r.stderr).toBe(code);
  return r;
}

beforeAll(async () => {
  const inputs = new S3Store({ bucket: cloud.s3.bucket, prefix: "tifs" });
  for (const f of FILES) {
    cpSync(tif(f), join(cloud.http.root, f));
    await inputs.set(`/${f}`, readFileSync(tif(f)));
  }
});

describe.each([
  ["s3", (f: string) => cloud.s3Url(`tifs/${f}`)],
  ["http", (f: string) => cloud.httpUrl(f)],
] as const)("a GeoTIFF named by an %s URL", (name, url) => {
  it.each([
    ["cog_4ovr.tif", []],
    ["uint16_lzw_striped.tif", ["--zarr-format", "2"]],
    ["rgb_pixel_deflate.tif", ["--chunks", "y=100,x=128"]],
  ] as const)("%s is read by ranges into the local file's store", async (file, extra) => {
    const local = join(dir, `local-${name}-${file}.zarr`);
    await run(["convert", tif(file), local, ...extra]);
    const out = join(dir, `url-${name}-${file}.zarr`);
    const r = await run(["convert", url(file), out, "--json", ...extra]);
    const s = JSON.parse(r.stdout) as Summary;
    const size = statSync(tif(file)).size;
    expect(s.remoteRead?.read).toBe("ranged");
    expect(s.remoteRead?.size).toBe(size);
    expect(s.remoteRead!.fetchedBytes).toBeGreaterThan(0);
    // The COG's overviews are not read without levels: less than the whole object is fetched.
    if (file === "cog_4ovr.tif") expect(s.remoteRead!.fetchedBytes).toBeLessThan(size);
    expect(storeDifferences(local, out)).toEqual([]);
  });

  it("a COG with --multiscales: its overviews, read by ranges, are the levels the local file gives", async () => {
    const args = ["--multiscales", "--tile-size", "256"];
    const local = join(dir, `local-${name}-ms.zarr`);
    await run(["convert", tif("cog_4ovr.tif"), local, ...args]);
    const out = join(dir, `url-${name}-ms.zarr`);
    const r = await run(["convert", url("cog_4ovr.tif"), out, "--json", ...args]);
    expect((JSON.parse(r.stdout) as Summary).remoteRead?.read).toBe("ranged");
    expect(storeDifferences(local, out)).toEqual([]);
  });

  it("a truncated object: exit 3, one line naming the URL and the missing tile", async () => {
    const r = await run(["convert", url("truncated.tif"), join(dir, `trunc-${name}.zarr`)], 3);
    expectOneLine(r.stderr, new RegExp(`${url("truncated.tif")}: .*tile \\d+ of IFD 0`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("a COG named by URL uploaded to s3://", () => {
  it("is read in place as well; boto3 downloads the local file's store", async () => {
    const local = join(dir, "local-upload.zarr");
    await run(["convert", tif("cog_4ovr.tif"), local]);
    const r = await run(["convert", cloud.s3Url("tifs/cog_4ovr.tif"), cloud.s3Url("up/cog.zarr"), "--json"]);
    expect((JSON.parse(r.stdout) as Summary).remoteRead?.read).toBe("ranged");
    const got = join(dir, "boto3-upload");
    downloadWithBoto3(cloud, "up/cog.zarr", got);
    expect(storeDifferences(local, got)).toEqual([]);
  });
});
