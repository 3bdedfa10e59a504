/**
 * A time series (`--concat time`) converted to s3:// (issue 15, item 1): the same plan of tasks as
 * into a directory, its records kept under the prefix, the metadata and consolidated metadata
 * last. Downloaded with boto3 it is byte for byte the local store (series record and history
 * included); killed at an exact chunk PUT it shows no metadata, and --resume completes it to the
 * same bytes without re-running the finished tasks. `--append time` to it: killed half-way, every
 * key readers knew keeps its bytes; resumed, it is the append in a directory byte for byte (a
 * partly filled last chunk too); `--replace-times` is refused.
 */

import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { expectOneLine } from "../helpers/cli.js";
import { downloadWithBoto3, filesUnder, keysUnder, useCloud } from "../helpers/cloud.js";
import { runCliProcess, startCli, treeFingerprint } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const cloud = useCloud("s3series");
const root = tmpDir("s3series-out");
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
const granules = () => join(inject("seriesGranules"), "days", "*.nc");
const more = () => join(inject("seriesGranules"), "more", "*.nc");

describe("a time series to s3://", () => {
  const local = join(root, "local", "s.zarr");
  beforeAll(async () => {
    mkdirSync(join(root, "local"), { recursive: true });
    const r = await runCliProcess(["convert", granules(), local, "--concat", "time"], EPOCH);
    expect(r.code).toBe(0);
  });

  it("is byte for byte the series converted into a directory, series record included, nothing of the run left", async () => {
    const r = await runCliProcess(
      ["convert", granules(), cloud.s3Url("whole/s.zarr"), "--concat", "time", "--json"],
      { ...cloud.env, ...EPOCH },
    );
    expect(r.stderr).not.toMatch(/geozarr: error/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).plan).toMatchObject({ tasks: 6, done: 6, skipped: 0 });
    const got = join(root, "boto3-whole");
    const keys = downloadWithBoto3(cloud, "whole/s.zarr", got);
    expect(keys).toEqual(filesUnder(local));
    expect(keys).toContain(".geozarr-series.json");
    expect(treeFingerprint(got)).toEqual(treeFingerprint(local));
  });

  it("killed at its 13th chunk PUT (the first of the fourth task): no metadata; --resume re-runs 3 of 6 tasks and leaves the same bytes", async () => {
    const out = cloud.s3Url("killed/s.zarr");
    const args = ["convert", granules(), out, "--concat", "time"];
    // On the calling thread (--workers 0), so that the count is exact: 4 data arrays, one chunk
    // each per task; the records of tasks 0-2 are PUT before the 13th chunk.
    const killed = startCli([...args, "--workers", "0"], {
      ...cloud.env,
      ...EPOCH,
      GEOZARR_FAULT: "s3-put:kill:13",
    });
    expect(await killed.exit).toBe(137);
    const left = await keysUnder(cloud, "killed/s.zarr");
    expect(left.filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
    expect(left).not.toContain(".geozarr-series.json");
    expect(left.filter((k) => k.startsWith(".geozarr-run/tasks/"))).toEqual(
      [0, 1, 2].map((i) => `.geozarr-run/tasks/${i}.json`),
    );
    const again = await runCliProcess(args, { ...cloud.env, ...EPOCH });
    expect(again.code).toBe(3);
    expectOneLine(
      again.stderr,
      /s\.zarr: an interrupted upload was left there .*the resume option \(--resume\)/,
    );
    const resumed = await runCliProcess([...args, "--resume", "--json"], { ...cloud.env, ...EPOCH });
    expect(resumed.stderr).not.toMatch(/geozarr: error/);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).plan).toMatchObject({ tasks: 6, done: 3, skipped: 3 });
    const got = join(root, "boto3-killed");
    expect(downloadWithBoto3(cloud, "killed/s.zarr", got)).toEqual(filesUnder(local));
    expect(treeFingerprint(got)).toEqual(treeFingerprint(local));
  });
});

describe("--append time to a series in s3://", () => {
  const local = join(root, "local-append", "s.zarr");
  beforeAll(async () => {
    // The reference: the same series and the same append, in a directory.
    mkdirSync(join(root, "local-append"), { recursive: true });
    expect((await runCliProcess(["convert", granules(), local, "--concat", "time"], EPOCH)).code).toBe(0);
    expect((await runCliProcess(["convert", more(), local, "--append", "time"], EPOCH)).code).toBe(0);
  });

  it("killed half-way leaves what readers see exactly as before; --resume completes it to the bytes of the append in a directory", async () => {
    const name = "append/s.zarr";
    const made = await runCliProcess(["convert", granules(), cloud.s3Url(name), "--concat", "time"], {
      ...cloud.env,
      ...EPOCH,
    });
    expect(made.code).toBe(0);
    const before = join(root, "boto3-before-append");
    const beforeKeys = downloadWithBoto3(cloud, name, before);
    const args = ["convert", more(), cloud.s3Url(name), "--append", "time"];
    // Two granules, two tasks of 4 chunks: killed at the first chunk of the second task.
    const killed = startCli([...args, "--workers", "0"], {
      ...cloud.env,
      ...EPOCH,
      GEOZARR_FAULT: "s3-put:kill:5",
    });
    expect(await killed.exit).toBe(137);
    const mid = join(root, "boto3-mid-append");
    const midKeys = downloadWithBoto3(cloud, name, mid);
    // Every key readers knew is there with the same bytes (the documents, the consolidated
    // metadata, every chunk); what was added lies beyond the arrays' shapes or is the run's own.
    for (const k of beforeKeys)
      expect(readFileSync(join(mid, k)).equals(readFileSync(join(before, k))), k).toBe(true);
    const added = midKeys.filter((k) => !beforeKeys.includes(k));
    expect(added).toContain(".geozarr-partial.json");
    expect(added.filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
    expect(added.filter((k) => /\/c\/6\//.test(k)).length).toBe(4); // the first new step's chunks
    const again = await runCliProcess(args, { ...cloud.env, ...EPOCH });
    expect(again.code).toBe(3);
    expectOneLine(
      again.stderr,
      /s\.zarr: an interrupted run left its marker there .*the resume option \(--resume\)$/,
    );
    const resumed = await runCliProcess([...args, "--resume", "--json"], { ...cloud.env, ...EPOCH });
    expect(resumed.stderr).not.toMatch(/geozarr: error/);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).plan).toMatchObject({ tasks: 2, done: 1, skipped: 1 });
    const got = join(root, "boto3-appended");
    expect(downloadWithBoto3(cloud, name, got)).toEqual(filesUnder(local));
    expect(treeFingerprint(got)).toEqual(treeFingerprint(local));
  });

  it("--chunks time=2: the partly filled last chunk is replaced with its stored steps unchanged, as in a directory", async () => {
    const name = "pairs/s.zarr";
    const dirStore = join(root, "local-pairs", "s.zarr");
    mkdirSync(join(root, "local-pairs"), { recursive: true });
    const odd = join(inject("seriesGranules"), "more", "mur_0608.nc");
    for (const out of [dirStore, cloud.s3Url(name)]) {
      const env = { ...cloud.env, ...EPOCH };
      expect(
        (await runCliProcess(["convert", granules(), out, "--concat", "time", "--chunks", "time=2"], env))
          .code,
      ).toBe(0);
      expect((await runCliProcess(["convert", odd, out, "--append", "time"], env)).code).toBe(0);
    }
    const got = join(root, "boto3-pairs");
    expect(downloadWithBoto3(cloud, name, got)).toEqual(filesUnder(dirStore));
    expect(treeFingerprint(got)).toEqual(treeFingerprint(dirStore));
  });

  it("--replace-times: refused in one line, the store untouched", async () => {
    const name = "append/s.zarr";
    const was = await keysUnder(cloud, name);
    const r = await runCliProcess(
      ["convert", more(), cloud.s3Url(name), "--append", "time", "--replace-times"],
      cloud.env,
    );
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /s\.zarr: replacing times rewrites steps readers see, which object storage cannot hide until the metadata changes; append to a copy in a directory, or convert the series again$/,
    );
    expect(await keysUnder(cloud, name)).toEqual(was);
  });
});
