/**
 * `--resume` of an upload to s3:// (issue 15; docs/design.md "Object storage"): a conversion killed
 * at an exact chunk PUT leaves no metadata, its plan and the records of its finished tasks under
 * the prefix; the same command with --resume uploads only what the unfinished tasks write and
 * leaves, downloaded with boto3, byte for byte the store of an uninterrupted run and of the same
 * conversion into a directory. A resume with other arguments, or after the source changed, is
 * refused in one line.
 */

import { cpSync, mkdirSync, readFileSync, utimesSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convert } from "../../src/node.js";
import { expectOneLine } from "../helpers/cli.js";
import { downloadWithBoto3, filesUnder, keysUnder, useCloud } from "../helpers/cloud.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { runCliProcess, startCli } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const cloud = useCloud("s3resume");
const dir = tmpDir("s3resume-out");
const EPOCH = { SOURCE_DATE_EPOCH: "1796169600" };
// 3 x 3 chunks per data array, one row of 3 chunks per task (--task-size 1M), on the main thread
// (--workers 0) so that the fault's count of chunk PUTs is exact.
const ARGS = ["--chunks", "lat=240,lon=480", "--task-size", "1M", "--workers", "0"];

/** Two stores hold the same files with the same bytes. */
function expectSameFiles(a: string, b: string): void {
  const keys = filesUnder(a);
  expect(filesUnder(b)).toEqual(keys);
  for (const k of keys) expect(readFileSync(join(a, k)).equals(readFileSync(join(b, k))), k).toBe(true);
}

describe.each([3, 2] as const)(
  "an upload to s3:// (Zarr v%i) killed at its 13th chunk PUT, the first of its fifth task, then --resume",
  (format) => {
    let proxy: FaultProxy;
    // A proxy that fails nothing: it counts the PUTs that reach the server.
    beforeAll(async () => {
      proxy = await startFaultProxy(cloud.s3.endpoint, Number.MAX_SAFE_INTEGER);
    });
    afterAll(async () => {
      await proxy.stop();
    });
    const args = (out: string) => ["convert", SAMPLE, out, "--zarr-format", String(format), ...ARGS];
    const viaProxy = () => ({ ...cloud.env, ...EPOCH, AWS_ENDPOINT_URL_S3: proxy.url });

    it("resumes only the unfinished tasks and leaves the bytes of an uninterrupted run (and of a local one)", async () => {
      const whole = `v${format}/whole/run.zarr`;
      const part = `v${format}/part/run.zarr`;
      const local = join(dir, `v${format}`, "local", "run.zarr");

      let puts = proxy.stats.puts;
      const full = await runCliProcess(args(cloud.s3Url(whole)), viaProxy());
      expect(full.stderr).not.toMatch(/geozarr: error/);
      expect(full.code).toBe(0);
      const fullPuts = proxy.stats.puts - puts;

      const killed = startCli(args(cloud.s3Url(part)), {
        ...cloud.env,
        ...EPOCH,
        GEOZARR_FAULT: "s3-put:kill:13",
      });
      expect(await killed.exit).toBe(137);
      expect(killed.stderr()).toContain("geozarr-fault: s3-put kill");
      const left = await keysUnder(cloud, part);
      // No metadata document at all: nothing a reader could open.
      expect(left.filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
      expect(left).toContain(".geozarr-partial.json");
      expect(left).toContain(".geozarr-run/plan.json");
      // Four tasks of three chunks finished and left their records; the fifth task's first PUT
      // killed the run (chunk PUTs of one task may be in flight together, records come after them).
      expect(left.filter((k) => k.startsWith(".geozarr-run/tasks/"))).toEqual(
        [0, 1, 2, 3].map((i) => `.geozarr-run/tasks/${i}.json`),
      );
      expect(left.filter((k) => !k.startsWith(".geozarr")).length).toBe(12);

      // Without --resume: refused, naming both ways on.
      const plain = await runCliProcess(args(cloud.s3Url(part)), { ...cloud.env, ...EPOCH });
      expect(plain.code).toBe(3);
      expectOneLine(
        plain.stderr,
        /run\.zarr: an interrupted upload was left there \(process \d+ on .*\): chunks without complete metadata; continue it with the same arguments and the resume option \(--resume\), or remove it with the overwrite option \(--overwrite\)$/,
      );
      // Other arguments plan another conversion: refused, the upload left as it was.
      const other = await runCliProcess([...args(cloud.s3Url(part)), "--codec", "zstd:5", "--resume"], {
        ...cloud.env,
        ...EPOCH,
      });
      expect(other.code).toBe(3);
      expectOneLine(
        other.stderr,
        /run\.zarr: the interrupted upload there is of another conversion \(plan [0-9a-f]+; these arguments and inputs plan [0-9a-f]+\): resume it with the arguments and inputs it was started with, or replace it with the overwrite option \(--overwrite\)$/,
      );
      // (The refused runs took over the dead run's lock, and released it.)
      expect(await keysUnder(cloud, part)).toEqual(left.filter((k) => k !== ".geozarr-lock"));

      puts = proxy.stats.puts;
      const resumed = await runCliProcess([...args(cloud.s3Url(part)), "--resume"], viaProxy());
      expect(resumed.stderr).not.toMatch(/geozarr: error/);
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toMatch(/note: resumed: 4 of \d+ tasks were done before, their chunks kept/);
      const resumedPuts = proxy.stats.puts - puts;
      // The 12 chunks of the four finished tasks and their 4 records are not uploaded again; the
      // rest is PUT as in the uninterrupted run (lock, marker, plan, other tasks, metadata).
      expect(resumedPuts).toBe(fullPuts - 12 - 4);

      const a = join(dir, `v${format}`, "boto3-whole");
      const b = join(dir, `v${format}`, "boto3-part");
      const keys = downloadWithBoto3(cloud, whole, a);
      expect(downloadWithBoto3(cloud, part, b)).toEqual(keys);
      expect(keys.filter((k) => k.startsWith(".geozarr"))).toEqual([]);
      expect(keys).toContain(format === 3 ? "zarr.json" : ".zmetadata");
      expectSameFiles(a, b);

      // The same conversion into a directory: the same files, byte for byte (history included).
      mkdirSync(dirname(local), { recursive: true });
      const loc = await runCliProcess(args(local), EPOCH);
      expect(loc.code).toBe(0);
      expectSameFiles(local, b);
    });
  },
);

describe("a resume after the source changed", () => {
  it("is refused in one line as another conversion: the plan records the source's size and time", async () => {
    const src = join(dir, "changing.nc");
    cpSync(SAMPLE, src);
    const out = cloud.s3Url("changed/run.zarr");
    const args = ["convert", src, out, ...ARGS];
    const killed = startCli(args, { ...cloud.env, ...EPOCH, GEOZARR_FAULT: "s3-put:kill:5" });
    expect(await killed.exit).toBe(137);
    const t = new Date("2030-01-01T00:00:00Z");
    utimesSync(src, t, t);
    const r = await runCliProcess([...args, "--resume"], { ...cloud.env, ...EPOCH });
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /run\.zarr: the interrupted upload there is of another conversion \(plan [0-9a-f]+;/,
    );
    // --overwrite still replaces it: a complete store, nothing of the run left.
    const redo = await runCliProcess([...args, "--overwrite"], { ...cloud.env, ...EPOCH });
    expect(redo.code).toBe(0);
    const keys = await keysUnder(cloud, "changed/run.zarr");
    expect(keys).toContain("zarr.json");
    expect(keys.filter((k) => k.startsWith(".geozarr"))).toEqual([]);
  });
});

describe("--resume where there is nothing it can resume", () => {
  it("a conversion into a directory: refused in one line (exit 2)", async () => {
    const r = await runCliProcess(["convert", SAMPLE, join(dir, "plain.zarr"), "--resume"]);
    expect(r.code).toBe(2);
    expectOneLine(
      r.stderr,
      /--resume applies to time series \(--concat, --append\) and to one input converted to s3:\/\/$/,
      "convert",
    );
  });
});

describe("progress of an upload run as tasks", () => {
  it("counts every unit of every task and of finalize once, up to the run's total, never backwards", async () => {
    const seen: { done: number; total: number }[] = [];
    const s = await convert(SAMPLE, cloud.s3Url("progress/run.zarr"), {
      chunks: "lat=240,lon=480",
      taskBytes: 2 ** 20,
      workers: 0,
      onProgress: (p) => seen.push({ done: p.unitsDone, total: p.unitsTotal }),
    });
    const units = s.arrays.reduce((n, a) => n + a.chunksWritten + a.chunksSkipped, 0);
    expect(seen.length).toBeGreaterThan(units);
    expect(seen.every((p) => p.total === units)).toBe(true);
    expect(seen.every((p, i) => i === 0 || p.done >= seen[i - 1]!.done)).toBe(true);
    expect(seen.at(-1)!.done).toBe(units);
  });
});
