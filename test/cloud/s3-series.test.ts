/**
 * A time series (`--concat time`) converted to s3:// (issue 15, item 1): the same plan of tasks as
 * into a directory, its records kept under the prefix, the metadata and consolidated metadata
 * last. Downloaded with boto3 it is byte for byte the local store (series record and history
 * included); killed at an exact chunk PUT it shows no metadata, and --resume completes it to the
 * same bytes without re-running the finished tasks.
 */

import { mkdirSync } from "node:fs";
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

  it("with multiscale levels: refused in one line before anything is written", async () => {
    const r = await runCliProcess(
      ["convert", granules(), cloud.s3Url("ms/s.zarr"), "--concat", "time", "--multiscales"],
      cloud.env,
    );
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /s3:\/\/geozarr-test\/ms\/s\.zarr: multiscale levels cannot be written to S3 yet; convert the series to a directory$/,
    );
    expect(await keysUnder(cloud, "ms/s.zarr")).toEqual([]);
  });
});
