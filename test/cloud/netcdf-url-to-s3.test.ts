/**
 * A NetCDF-4 file named by URL converted to s3:// (issue 15 items 2 and 3): read in place by ranged
 * GETs as into a directory, the plan stamped with the object's URL, size and version, so that a
 * killed upload resumes with the same URL (docs/design.md "Object storage"); an object replaced in
 * between is refused in one line as the local path refuses a changed file; a layout our chunk index
 * does not read is downloaded, and resumes too (its plan names the URL, not the temporary copy).
 */

import { cpSync, readFileSync, statSync, utimesSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkStamp, objectStamp } from "../../src/convert/staging.js";
import type { GeoZarrError } from "../../src/errors.js";
import type { RemoteFile } from "../../src/readers/byte-source.js";
import { HttpStore } from "../../src/zarr/store/http.js";
import { S3Store } from "../../src/zarr/store/s3.js";
import { expectOneLine } from "../helpers/cli.js";
import { downloadWithBoto3, keysUnder, storeDifferences, useCloud } from "../helpers/cloud.js";
import { runCliProcess, startCli } from "../helpers/processes.js";
import { unindexedHdf5 } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const SIZE = statSync(SAMPLE).size;
const cloud = useCloud("ncurls3");
const dir = tmpDir("ncurls3-out");
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
// 3 x 3 chunks per data array, one row of 3 chunks per task, on the main thread (--workers 0) so
// that the fault's count of chunk PUTs is exact (as test/cloud/s3-resume.test.ts).
const ARGS = ["--chunks", "lat=240,lon=480", "--task-size", "1M", "--workers", "0"];

/** `b` holds the files of `a`, chunks byte for byte, documents equal but for `history`. */
const expectSameStore = (a: string, b: string) => expect(storeDifferences(a, b)).toEqual([]);

interface Summary {
  notes: string[];
  remoteRead?: { read: string; size: number; fetchedBytes: number };
}

async function run(args: string[], code = 0) {
  const r = await runCliProcess(args, { ...cloud.env, ...EPOCH });
  if (code === 0) expect(r.stderr).not.toMatch(/geozarr: error/);
  expect(r.code, r.stderr).toBe(code);
  return r;
}

/** The local file converted into a directory, as the reference. */
async function localStore(name: string, file: string, args: string[]): Promise<string> {
  const out = join(dir, `local-${name}.zarr`);
  await run(["convert", file, out, ...args]);
  return out;
}

beforeAll(async () => {
  cpSync(SAMPLE, join(cloud.http.root, "mur.nc"));
  await new S3Store({ bucket: cloud.s3.bucket, prefix: "inputs" }).set("/mur.nc", readFileSync(SAMPLE));
});

describe.each([2, 3] as const)("a NetCDF-4 file named by URL, to s3:// as Zarr v%i", (format) => {
  for (const [name, url, extra] of [
    ["s3", () => cloud.s3Url("inputs/mur.nc"), []],
    ["http-multiscales", () => cloud.httpUrl("mur.nc"), ["--multiscales"]],
  ] as const) {
    it(`(${name}) is read in place by ranges into the store of the local file's conversion`, async () => {
      const opts = ["--zarr-format", String(format), ...extra];
      const local = await localStore(`${name}-v${format}`, SAMPLE, opts);
      const prefix = `v${format}/${name}.zarr`;
      const r = await run(["convert", url(), cloud.s3Url(prefix), "--json", ...opts]);
      const s = JSON.parse(r.stdout) as Summary;
      expect(s.remoteRead?.read).toBe("ranged");
      expect(s.remoteRead?.size).toBe(SIZE);
      // Every variable is converted: about the whole file is fetched, counted by the threads.
      expect(s.remoteRead!.fetchedBytes).toBeGreaterThan(SIZE * 0.5);
      const got = join(dir, `boto3-${name}-v${format}`);
      const keys = downloadWithBoto3(cloud, prefix, got);
      expect(keys.filter((k) => k.startsWith(".geozarr"))).toEqual([]);
      expectSameStore(local, got);
    });
  }
});

describe("an upload from a URL killed at its 13th chunk PUT (the first of its fifth task)", () => {
  it("resumes with the same URL: only the unfinished tasks run, the store is the local conversion's", async () => {
    const local = await localStore("resume", SAMPLE, ARGS);
    const prefix = "killed/run.zarr";
    const args = ["convert", cloud.s3Url("inputs/mur.nc"), cloud.s3Url(prefix), ...ARGS];
    const killed = startCli(args, { ...cloud.env, ...EPOCH, GEOZARR_FAULT: "s3-put:kill:13" });
    expect(await killed.exit).toBe(137);
    const left = await keysUnder(cloud, prefix);
    expect(left.filter((k) => k.startsWith(".geozarr-run/tasks/")).length).toBe(4);
    const r = await run([...args, "--resume", "--json"]);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.notes.join("\n")).toMatch(/resumed: 4 of \d+ tasks were done before, their chunks kept/);
    expect(s.remoteRead?.read).toBe("ranged");
    expect(s.remoteRead!.fetchedBytes).toBeGreaterThan(0);
    const got = join(dir, "boto3-resumed");
    downloadWithBoto3(cloud, prefix, got);
    expectSameStore(local, got);
  });

  it("is refused in one line (exit 3) when the object was replaced in between, as for a changed local file", async () => {
    const file = join(cloud.http.root, "changing.nc");
    cpSync(SAMPLE, file);
    const prefix = "replaced/run.zarr";
    const args = ["convert", cloud.httpUrl("changing.nc"), cloud.s3Url(prefix), ...ARGS];
    const killed = startCli(args, { ...cloud.env, ...EPOCH, GEOZARR_FAULT: "s3-put:kill:5" });
    expect(await killed.exit).toBe(137);
    // The same bytes, a new time: nginx's ETag (and Last-Modified) change, the size does not.
    const t = new Date("2030-01-01T00:00:00Z");
    utimesSync(file, t, t);
    const r = await run([...args, "--resume"], 3);
    expectOneLine(
      r.stderr,
      /run\.zarr: the interrupted upload there is of another conversion \(plan [0-9a-f]+;/,
    );
    expect((await keysUnder(cloud, prefix)).filter((k) => /(zarr\.json|\.zmetadata)$/.test(k))).toEqual([]);
  });
});

describe("a layout our chunk index does not read, named by URL, to s3://", () => {
  it("is downloaded, converts right, and an upload killed at its ninth chunk PUT (the first of its third task) resumes", async () => {
    const file = join(dir, "unlimited.h5");
    unindexedHdf5(file, 1024, 1024, [64, 128]);
    cpSync(file, join(cloud.http.root, "unlimited.h5"));
    const opts = ["--chunks", "phony_dim_0=128,phony_dim_1=512", "--task-size", "1M", "--workers", "0"];
    const local = await localStore("unlimited", file, opts);
    const prefix = "fallback/run.zarr";
    const args = ["convert", cloud.httpUrl("unlimited.h5"), cloud.s3Url(prefix), ...opts];
    const killed = startCli(args, { ...cloud.env, ...EPOCH, GEOZARR_FAULT: "s3-put:kill:9" });
    expect(await killed.exit).toBe(137);
    expect(await keysUnder(cloud, prefix)).toContain(".geozarr-run/plan.json");
    // A new temporary copy, the same plan: the plan names the URL, not the copy.
    const r = await run([...args, "--resume", "--json"]);
    expect((JSON.parse(r.stdout) as Summary).notes.join("\n")).toMatch(
      /resumed: 2 of 4 tasks were done before/,
    );
    const size = statSync(file).size;
    expect((JSON.parse(r.stdout) as Summary).remoteRead).toEqual({
      read: "download",
      size,
      fetchedBytes: size,
    });
    const got = join(dir, "boto3-fallback");
    downloadWithBoto3(cloud, prefix, got);
    expectSameStore(local, got);
  });
});

describe("the stamp of an object named by URL", () => {
  it("is checked by a HEAD: a replaced object is one line naming the URL, as a changed file is", async () => {
    const file = join(cloud.http.root, "stamped.nc");
    cpSync(SAMPLE, file);
    const store = new HttpStore(cloud.httpUrl(""));
    const v = await store.objectVersion("/stamped.nc");
    const url = cloud.httpUrl("stamped.nc");
    const stamp = objectStamp({
      url,
      store: store.descriptor as RemoteFile["store"],
      key: "/stamped.nc",
      ...v!,
    });
    expect(stamp).toMatchObject({ file: url, size: SIZE, mtimeMs: 0 });
    await checkStamp(stamp); // unchanged: passes
    const t = new Date("2031-01-01T00:00:00Z");
    utimesSync(file, t, t);
    const err = await checkStamp(stamp).then(
      () => null,
      (e: unknown) => e as GeoZarrError,
    );
    expect(err?.tag).toBe("Format");
    expect(err?.message).toBe(
      `${url}: changed since the run was planned (size or version); plan the run again`,
    );
  });
});
