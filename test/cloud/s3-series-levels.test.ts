/**
 * Multiscale levels of staged runs to s3:// (a time series; a prepared run whose tasks and
 * finalize are `geozarr task`; a queued run on real workers and redis-server): added at the
 * finalize in a local copy, uploaded before the
 * consolidated metadata. Downloaded with boto3, each store is byte for byte the same run into a
 * directory, and validates with no errors on S3. Killed just before the consolidated metadata, no
 * store is there for a reader and the task records are intact: --resume runs no task again and
 * completes it. `--append` to the store with levels is refused in one line, the store untouched.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectOneLine } from "../helpers/cli.js";
import { downloadWithBoto3, filesUnder, keysUnder, useCloud } from "../helpers/cloud.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { runCliProcess, startCli, treeFingerprint } from "../helpers/processes.js";
import { startRedis } from "../helpers/redis.js";
import { tmpDir } from "../helpers/tmp.js";
import { workerProcesses } from "../helpers/workers.js";

const cloud = useCloud("s3levels");
const root = tmpDir("s3levels-out");
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
const env = () => ({ ...cloud.env, ...EPOCH });
const three = () =>
  ["mur_0701.nc", "mur_0702.nc", "mur_0703.nc"].map((f) => join(inject("seriesGranules"), "twelve", f));
// The granules' analysis_error and mask have no standard_name (a GeoZarr error): left out, so
// that validate has nothing to say.
const ARGS = ["--concat", "time", "--multiscales", "--zarr-format", "3", "--require-standard-name"];
const local = join(root, "local", "s.zarr");

/** The store at `name` in the test bucket, downloaded with boto3, is `local`, key for key and byte for byte. */
function expectSameStore(name: string, label: string): string[] {
  const got = join(root, `boto3-${label}`);
  const keys = downloadWithBoto3(cloud, name, got);
  expect(keys).toEqual(filesUnder(local));
  expect(treeFingerprint(got)).toEqual(treeFingerprint(local));
  return keys;
}

beforeAll(async () => {
  mkdirSync(join(root, "local"), { recursive: true });
  const r = await runCliProcess(["convert", ...three(), local, ...ARGS], EPOCH);
  expect(r.code, r.stderr).toBe(0);
});

describe("a time series with --multiscales to s3://", () => {
  it("3 granules, Zarr v3: byte for byte the series with levels in a directory, nothing of the run left, validate clean on S3", async () => {
    const name = "series/s.zarr";
    // Through a proxy that only counts (it fails no request): the chunks the tasks PUT are moved
    // to their keys in the levels by server copies, not sent again.
    const proxy = await startFaultProxy(cloud.s3.endpoint, Number.MAX_SAFE_INTEGER);
    const r = await runCliProcess(["convert", ...three(), cloud.s3Url(name), ...ARGS, "--json"], {
      ...env(),
      AWS_ENDPOINT_URL_S3: proxy.url,
    }).finally(() => proxy.stop());
    expect(r.stderr).not.toMatch(/geozarr: error/);
    expect(r.code).toBe(0);
    const level0 = filesUnder(local).filter((k) => k.startsWith("0/analysed_sst/c/"));
    expect(proxy.stats.copies).toBeGreaterThanOrEqual(level0.length);
    expect(proxy.stats.putsVerified).toBe(proxy.stats.puts - proxy.stats.copies);
    const summary = JSON.parse(r.stdout);
    expect(summary.plan).toMatchObject({ tasks: 3, done: 3, skipped: 0 });
    expect(summary.multiscales.levels.map((l: { shape: number[] }) => l.shape)).toEqual([
      [719, 1440],
      [360, 720],
      [180, 360],
    ]);
    const keys = expectSameStore(name, "series");
    expect(keys).toContain("2/analysed_sst/zarr.json");
    expect(level0.length).toBeGreaterThan(0);
    // The layout before the levels, the computed levels' keys and the run's own are gone.
    expect(keys.filter((k) => k.startsWith("analysed_sst/") || k.startsWith(".geozarr"))).toEqual([]);
    const v = await runCliProcess(["validate", cloud.s3Url(name)], cloud.env);
    expect(v.stdout).toMatch(/^0 errors, /m);
    expect(v.code).toBe(0);
  });

  it("killed just before the consolidated metadata: no store for a reader, the records intact; --resume runs no task and completes it byte for byte", async () => {
    const name = "killed/s.zarr";
    const args = ["convert", ...three(), cloud.s3Url(name), ...ARGS];
    const killed = startCli(args, { ...env(), GEOZARR_FAULT: "s3-consolidate:kill" });
    expect(await killed.exit).toBe(137);
    const left = await keysUnder(cloud, name);
    // Every level's chunks and the documents below the root are there; the root's is not.
    expect(left).not.toContain("zarr.json");
    const chunks = (keys: string[], level: string) =>
      keys.filter((k) => k.startsWith(`${level}/analysed_sst/c/`)).length;
    for (const level of ["0", "1", "2"]) {
      expect(left).toContain(`${level}/analysed_sst/zarr.json`);
      expect(chunks(left, level)).toBeGreaterThan(0);
      expect(chunks(left, level)).toBe(chunks(filesUnder(local), level));
    }
    expect(left).toContain(".geozarr-partial.json");
    expect(left.filter((k) => k.startsWith(".geozarr-run/tasks/"))).toEqual(
      [0, 1, 2].map((i) => `.geozarr-run/tasks/${i}.json`),
    );
    const tree = await runCliProcess(["tree", cloud.s3Url(name)], cloud.env);
    expect(tree.code).toBe(3);
    expectOneLine(tree.stderr, /killed\/s\.zarr/);
    const resumed = await runCliProcess([...args, "--resume", "--json"], env());
    expect(resumed.stderr).not.toMatch(/geozarr: error/);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).plan).toMatchObject({ tasks: 3, done: 0, skipped: 3 });
    expectSameStore(name, "killed");
  });

  it("--append time to it: refused in one line, exit 3, the store untouched", async () => {
    const name = "series/s.zarr";
    const was = await keysUnder(cloud, name);
    const more = join(inject("seriesGranules"), "twelve", "mur_0704.nc");
    const r = await runCliProcess(["convert", more, cloud.s3Url(name), "--append", "time"], env());
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /s3:\/\/geozarr-test\/series\/s\.zarr: has multiscale levels; append to the full-resolution store, then rebuild the levels with geozarr pyramid$/,
    );
    expect(await keysUnder(cloud, name)).toEqual(was);
  });
});

describe("a prepared run with --multiscales to s3://", () => {
  it("--prepare, its tasks by geozarr task, then --finalize: byte for byte the directory run", async () => {
    const name = "prepared/s.zarr";
    const p = await runCliProcess(
      ["convert", ...three(), cloud.s3Url(name), ...ARGS, "--prepare", "--json"],
      env(),
    );
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout) as { plan: string; tasks: number };
    expect(plan).toMatchObject({ plan: `${cloud.s3Url(name)}/.geozarr-run/plan.json`, tasks: 3 });
    for (const k of [1, 0, 2]) {
      const t = await runCliProcess(["task", "--plan", plan.plan, "--index", String(k)], env());
      expect(t.code, t.stderr).toBe(0);
    }
    // The tasks PUT level 0's chunks and the levels they computed, and no document.
    const mid = await keysUnder(cloud, name);
    expect(mid.filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
    const level0 = filesUnder(local).filter((k) => k.startsWith("0/analysed_sst/c/"));
    expect(level0.length).toBeGreaterThan(0);
    expect(mid.filter((k) => k.startsWith("analysed_sst/c/"))).toEqual(level0.map((k) => k.slice(2)));
    const fin = await runCliProcess(["task", "--plan", plan.plan, "--finalize"], env());
    expect(fin.code, fin.stderr).toBe(0);
    expectSameStore(name, "prepared");
  });
});

describe("a queued run with --multiscales to s3://", () => {
  let redis = "";
  const workers = workerProcesses(
    () => redis,
    () => env(),
  );
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(workers.stop);

  it("two geozarr workers, the finalize job adding the levels: byte for byte the directory run", async () => {
    const q = "s3levels";
    const name = "queued/s.zarr";
    workers.start(q);
    workers.start(q);
    const r = await runCliProcess(
      ["convert", ...three(), cloud.s3Url(name), ...ARGS, "--queue", redis, "--queue-name", q],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/s\.zarr: 3 tasks on the queue \(3 run now\)/);
    expectSameStore(name, "queued");
  });
});
