/**
 * Object storage that misbehaves: a server behind a proxy that fails every third request still
 * yields a correct store and correct reads; a conversion killed mid-upload leaves no consolidated
 * metadata and a marker that the next run names; an interrupted one keeps what it uploaded, for
 * --resume (s3-resume.test.ts: resumed byte for byte).
 */

import { cpSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { downloadWithBoto3, keysUnder, killedAtThirdPut, useCloud, viaEndpoint } from "../helpers/cloud.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { startCli } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const cloud = useCloud("s3faults");
const dir = tmpDir("s3faults-out");

describe("a server that fails every third request (503 SlowDown or a connection reset)", () => {
  let s3proxy: FaultProxy;
  let httpProxy: FaultProxy;
  beforeAll(async () => {
    s3proxy = await startFaultProxy(cloud.s3.endpoint);
    httpProxy = await startFaultProxy(cloud.http.base);
  });
  afterAll(async () => {
    await s3proxy.stop();
    await httpProxy.stop();
  });

  it.each([2, 3])(
    "still yields the store a clean server gets (v%i), every PUT with a checksum that matches its body (and no SHA-256 of it, on loopback)",
    async (format) => {
      const clean = `clean-v${format}.zarr`;
      const faulty = `faulty-v${format}.zarr`;
      expect(
        (await runCli("convert", SAMPLE, cloud.s3Url(clean), "--zarr-format", String(format))).code,
      ).toBe(0);
      const before = { ...s3proxy.stats };
      const r = await viaEndpoint(s3proxy.url, () =>
        runCli("convert", SAMPLE, cloud.s3Url(faulty), "--zarr-format", String(format)),
      );
      expect(r.stderr).not.toMatch(/geozarr: error/);
      expect(r.code).toBe(0);
      expect(s3proxy.stats.throttled).toBeGreaterThan(before.throttled);
      expect(s3proxy.stats.reset).toBeGreaterThan(before.reset);
      expect(s3proxy.stats.puts - before.puts).toBeGreaterThan(8);
      expect(s3proxy.stats.putsVerified - before.putsVerified).toBe(s3proxy.stats.puts - before.puts);
      // On loopback the bodies go unsigned (s3.ts unsignedPayloadSafe), the CRC-32 their check.
      expect(s3proxy.stats.putsUnsigned - before.putsUnsigned).toBe(s3proxy.stats.puts - before.puts);
      const a = downloadWithBoto3(cloud, clean, join(dir, clean));
      const b = downloadWithBoto3(cloud, faulty, join(dir, faulty));
      expect(b).toEqual(a);
      for (const k of a.filter((k) => !/(zarr\.json|\.z\w+)$/.test(k)))
        expect(readFileSync(join(dir, faulty, k)).equals(readFileSync(join(dir, clean, k))), k).toBe(true);
    },
  );

  it("reads right through it, over S3 and over HTTP", async () => {
    const name = "clean-v3.zarr";
    cpSync(join(dir, name), join(cloud.http.root, name), { recursive: true });
    const before = { s3: s3proxy.stats.requests, http: httpProxy.stats.requests };
    for (const array of ["analysed_sst", "sea_ice_fraction", "mask", "lat"]) {
      const want = (await runCli("stats", cloud.s3Url(name), array, "--json")).stdout;
      expect(JSON.parse(want).elements).toBeGreaterThan(0);
      const viaS3 = await viaEndpoint(s3proxy.url, () => runCli("stats", cloud.s3Url(name), array, "--json"));
      expect(viaS3.stdout, array).toBe(want);
      const url = `${httpProxy.url}/${name}`;
      const viaHttp = await runCli("stats", url, array, "--json");
      expect(viaHttp.stdout.replaceAll(url, "S"), array).toBe(want.replaceAll(cloud.s3Url(name), "S"));
    }
    // Enough requests went through each proxy that some failed: every third one.
    expect(s3proxy.stats.requests - before.s3).toBeGreaterThanOrEqual(6);
    expect(httpProxy.stats.requests - before.http).toBeGreaterThanOrEqual(6);
    expect(httpProxy.stats.throttled).toBeGreaterThan(0);
    expect(httpProxy.stats.reset).toBeGreaterThan(0);
  });
});

describe("a conversion that dies mid-upload", () => {
  it("killed at its third chunk PUT: no consolidated metadata, the marker stays, the next run refuses naming it; --overwrite completes it", async () => {
    const name = "killed.zarr";
    const { pid, left } = await killedAtThirdPut(cloud, name, [
      "convert",
      SAMPLE,
      cloud.s3Url(name),
      "--workers",
      "0",
    ]);
    expect(left.filter((k) => /\/c\//.test(k)).length).toBe(2); // the two chunks before the kill
    expect(left.filter((k) => k.endsWith("zarr.json"))).toEqual([]); // no metadata at all, no root

    const next = await runCli("convert", SAMPLE, cloud.s3Url(name));
    expect(next.code).toBe(3);
    expectOneLine(
      next.stderr,
      new RegExp(
        `s3://geozarr-test/killed\\.zarr: an interrupted upload was left there \\(process ${pid} on .*\\): chunks without complete metadata; continue it with the same arguments and the resume option \\(--resume\\), or remove it with the overwrite option \\(--overwrite\\)$`,
      ),
    );
    const redo = await runCli("convert", SAMPLE, cloud.s3Url(name), "--overwrite");
    expect(redo.code).toBe(0);
    const done = await keysUnder(cloud, name);
    expect(done).toContain("zarr.json");
    expect(done.filter((k) => k.startsWith(".geozarr"))).toEqual([]);
    expect((await runCli("tree", cloud.s3Url(name))).code).toBe(0);
  });

  it("interrupted (SIGINT) mid-upload: exits 130, releases the lock and keeps the upload (no metadata) for --resume, which completes it", async () => {
    const name = "interrupted.zarr";
    // On worker threads (a hung inline task would outlast the CLI's stop grace): the second chunk
    // PUT of one of them never ends.
    const run = startCli(["convert", SAMPLE, cloud.s3Url(name), "--workers", "2"], {
      ...cloud.env,
      GEOZARR_FAULT: "s3-put:hang:2",
    });
    await run.waitFor(/geozarr-fault: s3-put hang/);
    run.child.kill("SIGINT");
    expect(await run.exit).toBe(130);
    const left = await keysUnder(cloud, name);
    expect(left).not.toContain(".geozarr-lock");
    expect(left).toContain(".geozarr-partial.json");
    expect(left).toContain(".geozarr-run/plan.json");
    expect(left.filter((k) => /(zarr\.json|\.z\w+)$/.test(k))).toEqual([]);
    const resumed = await runCli("convert", SAMPLE, cloud.s3Url(name), "--workers", "2", "--resume");
    expect(resumed.code).toBe(0);
    const done = await keysUnder(cloud, name);
    expect(done).toContain("zarr.json");
    expect(done.filter((k) => k.startsWith(".geozarr"))).toEqual([]);
    expect(
      JSON.parse((await runCli("stats", cloud.s3Url(name), "analysed_sst", "--json")).stdout).elements,
    ).toBe(719 * 1440);
  });
});
