/**
 * Multiscale levels in object storage: `convert --multiscales` to s3:// and `geozarr pyramid
 * s3://...` give, downloaded with boto3, exactly the store the same commands give in a directory,
 * which validates with no errors; a pyramid killed mid-upload leaves the store as it was for a
 * reader through its consolidated metadata, and the next run completes it.
 */

import { cpSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import {
  downloadWithBoto3,
  filesUnder,
  keysUnder,
  killedAtThirdPut,
  storeDifferences,
  useCloud,
  viaEndpoint,
} from "../helpers/cloud.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { runCliProcess, startCli } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const cloud = useCloud("s3pyr");
const dir = tmpDir("s3pyr-out");
// The sample's analysis_error and mask have no standard_name (a GeoZarr v0.4 error): dropped, so
// that validate has nothing to say.
const CLEAN = ["--require-standard-name"];

async function ok(...args: string[]): Promise<void> {
  const r = await runCli(...args);
  expect(r.stderr).not.toMatch(/geozarr: error/);
  expect(r.code).toBe(0);
}

describe.each([2, 3] as const)("convert --multiscales to s3:// (Zarr v%i)", (format) => {
  it("uploads the store the same conversion writes to a directory; validate finds no errors on S3", async () => {
    const name = `ms-v${format}.zarr`;
    const local = join(dir, `local-${name}`);
    const opts = ["--zarr-format", String(format), "--multiscales", ...CLEAN];
    await ok("convert", SAMPLE, local, ...opts);
    await ok("convert", SAMPLE, cloud.s3Url(name), ...opts);
    const keys = downloadWithBoto3(cloud, name, join(dir, `boto3-${name}`));
    expect(keys).toContain(format === 3 ? "2/analysed_sst/zarr.json" : "2/analysed_sst/.zarray");
    expect(storeDifferences(local, join(dir, `boto3-${name}`))).toEqual([]);
    const v = await runCli("validate", cloud.s3Url(name));
    expect(v.stdout).toMatch(/^0 errors, /m);
    expect(v.code).toBe(0);
  });
});

describe("convert --multiscales to s3:// killed mid-upload, then --resume", () => {
  it("leaves no metadata, its records under the prefix; --resume runs only the unfinished tasks and gives the directory's store", async () => {
    const name = "ms-resume.zarr";
    const local = join(dir, "local-ms-resume.zarr");
    // 3 x 3 chunks of 240 x 480 per array, one row of them per task, on the main thread: the PUT
    // count is exact (as in s3-resume.test.ts). The levels are then made at finalize.
    const opts = ["--zarr-format", "3", "--multiscales", "--chunks", "lat=240,lon=480", ...CLEAN];
    const small = ["--task-size", "1M", "--workers", "0"];
    await ok("convert", SAMPLE, local, ...opts);
    const args = ["convert", SAMPLE, cloud.s3Url(name), ...opts, ...small];
    const killed = startCli(args, { ...cloud.env, GEOZARR_FAULT: "s3-put:kill:13" });
    expect(await killed.exit).toBe(137);
    const left = await keysUnder(cloud, name);
    expect(left.filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
    expect(left).toContain(".geozarr-run/plan.json");
    const records = left.filter((k) => k.startsWith(".geozarr-run/tasks/"));
    expect(records).toEqual([0, 1, 2].map((i) => `.geozarr-run/tasks/${i}.json`));

    const r = await runCliProcess([...args, "--resume", "--json"], cloud.env);
    expect(r.stderr).not.toMatch(/geozarr: error/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.notes.join("\n")).toMatch(
      new RegExp(`resumed: ${records.length} of \\d+ tasks were done before, their chunks kept`),
    );
    expect(summary.multiscales.levels.length).toBeGreaterThan(1);
    const keys = downloadWithBoto3(cloud, name, join(dir, "boto3-ms-resume"));
    expect(keys.filter((k) => k.startsWith(".geozarr"))).toEqual([]);
    expect(storeDifferences(local, join(dir, "boto3-ms-resume"))).toEqual([]);
  });
});

describe("geozarr pyramid s3://", () => {
  it("turns the S3 store into the pyramid it makes of a directory: same keys and bytes, nothing of the old layout left, validate clean", async () => {
    const local = join(dir, "pyr-local.zarr");
    await ok("convert", SAMPLE, local, ...CLEAN);
    await ok("convert", SAMPLE, cloud.s3Url("pyr.zarr"), ...CLEAN);
    await ok("pyramid", local, "--levels", "2");
    // Through a proxy that only counts (it fails no request): level 0's chunks are copied by the
    // server, every other PUT carries its body's CRC-32.
    const proxy = await startFaultProxy(cloud.s3.endpoint, Number.MAX_SAFE_INTEGER);
    const r = await viaEndpoint(proxy.url, () =>
      runCli("pyramid", cloud.s3Url("pyr.zarr"), "--levels", "2", "--json"),
    ).finally(() => proxy.stop());
    expect(r.code).toBe(0);
    const level0 = filesUnder(join(local, "0")).filter((f) => f.includes("/c/"));
    expect(level0.length).toBeGreaterThan(0);
    // Level 0's chunks, and the small variables' chunks each level repeats, are server copies.
    expect(proxy.stats.copies).toBeGreaterThanOrEqual(level0.length);
    const bodies = proxy.stats.puts - proxy.stats.copies;
    expect(proxy.stats.putsVerified).toBe(bodies);
    // Bodies sent: at most every other file of the pyramid, plus the lock and the marker.
    expect(bodies).toBeLessThanOrEqual(filesUnder(local).length - level0.length + 2);
    expect(JSON.parse(r.stdout)).toMatchObject({ store: cloud.s3Url("pyr.zarr"), zarrFormat: 3 });
    const keys = downloadWithBoto3(cloud, "pyr.zarr", join(dir, "pyr-boto3"));
    expect(keys.filter((k) => k.startsWith("analysed_sst/"))).toEqual([]); // moved to level 0
    expect(keys.filter((k) => k.startsWith(".geozarr"))).toEqual([]);
    expect(storeDifferences(local, join(dir, "pyr-boto3"))).toEqual([]);
    const v = await runCli("validate", cloud.s3Url("pyr.zarr"));
    expect(v.stdout).toMatch(/^0 errors, /m);
    expect(v.code).toBe(0);
  });

  it("killed at its third chunk PUT: readers see the store as it was; the next run completes the pyramid", async () => {
    const name = "pyr-killed.zarr";
    await ok("convert", SAMPLE, cloud.s3Url(name), ...CLEAN);
    const before = downloadWithBoto3(cloud, name, join(dir, "killed-before"));
    const tree = (await runCli("tree", cloud.s3Url(name), "--json")).stdout;
    const { left } = await killedAtThirdPut(cloud, name, ["pyramid", cloud.s3Url(name), "--levels", "2"]);
    // Chunks of the levels are there, but the root document (the consolidated metadata) is the
    // old one, byte for byte, so a reader sees the old store.
    // At most the two PUTs started before the kill (copies of level 0 may have finished too).
    expect(left.filter((k) => /^[1-9][0-9]*\/.*\/c\//.test(k)).length).toBeLessThanOrEqual(2);
    const now = join(dir, "killed-now");
    downloadWithBoto3(cloud, name, now);
    expect(
      readFileSync(join(now, "zarr.json")).equals(readFileSync(join(dir, "killed-before", "zarr.json"))),
    ).toBe(true);
    expect((await runCli("tree", cloud.s3Url(name), "--json")).stdout).toBe(tree);

    await ok("pyramid", cloud.s3Url(name), "--levels", "2");
    const local = join(dir, "killed-local.zarr");
    cpSync(join(dir, "killed-before"), local, { recursive: true });
    expect(before).toContain("zarr.json");
    await ok("pyramid", local, "--levels", "2");
    downloadWithBoto3(cloud, name, join(dir, "killed-after"));
    expect(storeDifferences(local, join(dir, "killed-after"))).toEqual([]);
  });

  it("over HTTP: refused in one line, exit 3, naming the URL", async () => {
    const r = await runCli("pyramid", cloud.httpUrl("nothing.zarr"));
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /nothing\.zarr: levels cannot be added to a store over HTTP \(read-only\)/);
  });
});
