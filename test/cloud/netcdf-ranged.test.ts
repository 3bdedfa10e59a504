/**
 * NetCDF-4 inputs in object storage read in place (issue 15 item 2): the sample in s3rver and
 * behind nginx converts by ranged GETs of its chunks (readers/remote-source.ts) into stores equal
 * to the local conversion's, through a proxy failing every third request too; a layout our chunk
 * index does not read is downloaded instead; a truncated or replaced file is one line naming it.
 */

import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadInput } from "../../src/convert/remote-input.js";
import type { RemoteFile } from "../../src/readers/byte-source.js";
import { closeBridge, remoteSource } from "../../src/readers/remote-source.js";
import { HttpStore } from "../../src/zarr/store/http.js";
import { S3Store } from "../../src/zarr/store/s3.js";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { storeDifferences, useCloud } from "../helpers/cloud.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { runCliProcess } from "../helpers/processes.js";
import { python, unindexedHdf5 } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const SIZE = statSync(SAMPLE).size;
const cloud = useCloud("ncranged");
const dir = tmpDir("ncranged-out");
const inputs = () => new S3Store({ bucket: cloud.s3.bucket, prefix: "inputs" });

/** Every file of `b` equals the one of `a`, documents compared without their history line. */
const expectSameStore = (a: string, b: string) => expect(storeDifferences(a, b)).toEqual([]);

interface Summary {
  remoteRead?: { read: string; size: number; fetchedBytes: number };
}

async function convertJson(input: string, out: string, ...args: string[]): Promise<Summary> {
  const r = await runCli("convert", input, out, "--json", ...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Summary;
}

beforeAll(async () => {
  await inputs().set("/mur.nc", readFileSync(SAMPLE));
  cpSync(SAMPLE, join(cloud.http.root, "mur.nc"));
});

describe.each([2, 3] as const)("a NetCDF-4 file in object storage, to Zarr v%i", (format) => {
  const local = join(dir, `local-v${format}.zarr`);
  beforeAll(async () => {
    const r = await runCli("convert", SAMPLE, local, "--zarr-format", String(format));
    expect(r.code, r.stderr).toBe(0);
  });

  it("is read in place by ranges, from S3 and over HTTP, into the local conversion's store", async () => {
    for (const [name, url] of [
      ["s3", cloud.s3Url("inputs/mur.nc")],
      ["http", cloud.httpUrl("mur.nc")],
    ] as const) {
      const out = join(dir, `${name}-v${format}.zarr`);
      const s = await convertJson(url, out, "--zarr-format", String(format));
      expect(s.remoteRead?.read, name).toBe("ranged");
      expect(s.remoteRead?.size).toBe(SIZE);
      // Every variable is converted: about the whole file is fetched (blocks of its structure twice at most).
      expect(s.remoteRead!.fetchedBytes).toBeGreaterThan(SIZE * 0.5);
      expectSameStore(local, out);
    }
  });
});

describe("reads in place", () => {
  it("fetch less than the file when one variable is selected", async () => {
    const local = join(dir, "local-one.zarr");
    const r = await runCli("convert", SAMPLE, local, "--variables", "mask");
    expect(r.code, r.stderr).toBe(0);
    const out = join(dir, "s3-one.zarr");
    const s = await convertJson(cloud.s3Url("inputs/mur.nc"), out, "--variables", "mask");
    expect(s.remoteRead?.read).toBe("ranged");
    expect(s.remoteRead!.fetchedBytes).toBeLessThan(SIZE / 2);
    expectSameStore(local, out);
    // Over HTTP, counted by the server too: nginx's access log (combined format: status, then bytes).
    const log = join(cloud.http.root, "..", "access.log");
    const before = readFileSync(log, "utf8").length;
    const viaHttp = join(dir, "http-one.zarr");
    const h = await convertJson(cloud.httpUrl("mur.nc"), viaHttp, "--variables", "mask");
    expect(h.remoteRead?.read).toBe("ranged");
    const sent = readFileSync(log, "utf8")
      .slice(before)
      .split("\n")
      .map((line) => /"GET \/mur\.nc HTTP\/1\.1" 206 (\d+)/.exec(line))
      .reduce((n, m) => n + (m ? Number(m[1]) : 0), 0);
    // The summary counts what the readers fetched; the server also sent the two 8-byte probes of
    // the file's signature made before (detectRemoteInput, remoteHdf5).
    expect(sent - h.remoteRead!.fetchedBytes).toBe(16);
    expect(sent).toBeLessThan(SIZE / 2);
    expectSameStore(local, viaHttp);
  });

  it("read the segments that touch a chunk never written through h5wasm, which knows the fill value", async () => {
    const file = join(dir, "sparse.h5");
    python(
      `import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    d = f.create_dataset("v", shape=(64, 96), dtype="<f4", chunks=(16, 32), compression="gzip", shuffle=True, fillvalue=-1)
    d[0:32, 0:64] = np.arange(32 * 64, dtype="<f4").reshape(32, 64) / 3
`,
      [file],
    );
    await inputs().set("/sparse.h5", readFileSync(file));
    const local = join(dir, "local-sparse.zarr");
    expect((await runCli("convert", file, local)).code).toBe(0);
    const out = join(dir, "s3-sparse.zarr");
    const s = await convertJson(cloud.s3Url("inputs/sparse.h5"), out);
    expect(s.remoteRead?.read).toBe("ranged");
    expectSameStore(local, out);
  });

  describe("through a proxy failing every third request", () => {
    const proxies: FaultProxy[] = [];
    beforeAll(async () => {
      proxies.push(await startFaultProxy(cloud.http.base), await startFaultProxy(cloud.s3.endpoint));
    });
    afterAll(async () => {
      for (const p of proxies) await p.stop();
    });

    // In a child process: a reading thread waits (Atomics.wait) while its helper fetches, and the
    // proxy runs on this test's thread, which must stay free to answer.
    it("still give the local conversion's store, from S3 and over HTTP", async () => {
      const local = join(dir, "local-v3.zarr");
      const [http, s3] = proxies as [FaultProxy, FaultProxy];
      for (const [name, url, env] of [
        ["http", `${http.url}/mur.nc`, {}],
        ["s3", cloud.s3Url("inputs/mur.nc"), { AWS_ENDPOINT_URL_S3: s3.url }],
      ] as const) {
        const out = join(dir, `faulty-${name}.zarr`);
        const r = await runCliProcess(["convert", url, out, "--json"], { ...cloud.env, ...env });
        expect(r.code, r.stderr).toBe(0);
        expect((JSON.parse(r.stdout) as Summary).remoteRead?.read).toBe("ranged");
        expectSameStore(local, out);
      }
      for (const p of proxies) expect(p.stats.throttled + p.stats.reset).toBeGreaterThan(0);
    });
  });
});

describe("the remote byte source", () => {
  it("reads what the file holds at any position: within a block, across blocks, large, at and past the end", async () => {
    const bytes = readFileSync(SAMPLE);
    const store = new HttpStore(cloud.http.base);
    const v = await store.objectVersion("/mur.nc");
    expect(v?.size).toBe(SIZE);
    const file: RemoteFile = {
      url: cloud.httpUrl("mur.nc"),
      store: store.descriptor as RemoteFile["store"],
      key: "/mur.nc",
      size: SIZE,
      version: v!.version,
      fetched: new SharedArrayBuffer(8),
    };
    try {
      const src = remoteSource(file);
      for (const [pos, n] of [
        [0, 8],
        [65530, 20],
        [100_000, 300_000],
        [SIZE - 10, 10],
        [SIZE - 5, 64],
        [SIZE, 16],
      ] as const) {
        const into = new Uint8Array(n);
        const got = src.read(into, pos);
        const want = bytes.subarray(pos, pos + n);
        expect(got, `${pos}+${n}`).toBe(want.length);
        expect(Buffer.from(into.subarray(0, got)).equals(want), `${pos}+${n}`).toBe(true);
      }
      const parts = [
        { position: 500_000, into: new Uint8Array(1000) },
        { position: 10, into: new Uint8Array(5) },
        { position: 501_500, into: new Uint8Array(3000) },
      ];
      expect(src.readParts(parts)).toEqual([1000, 5, 3000]);
      for (const p of parts)
        expect(Buffer.from(p.into).equals(bytes.subarray(p.position, p.position + p.into.length))).toBe(true);
      // Blocks of 64 KiB for the small reads, the large read as asked, the parts as asked.
      expect(Number(new BigInt64Array(file.fetched!)[0])).toBeLessThan(8 * 65536 + 300_000 + 4005);
    } finally {
      await closeBridge();
    }
  });
});

describe("what is not read in place", () => {
  it("a layout our chunk index does not read (v2 B-tree, unlimited, latest format) is downloaded, and converts right", async () => {
    const file = join(dir, "unlimited.h5");
    unindexedHdf5(file, 40, 60, [8, 16]);
    await inputs().set("/unlimited.h5", readFileSync(file));
    const local = join(dir, "local-unlimited.zarr");
    expect((await runCli("convert", file, local)).code).toBe(0);
    const out = join(dir, "s3-unlimited.zarr");
    const s = await convertJson(cloud.s3Url("inputs/unlimited.h5"), out);
    expect(s.remoteRead).toEqual({
      read: "download",
      size: statSync(file).size,
      fetchedBytes: statSync(file).size,
    });
    expectSameStore(local, out);
  });

  it("a file behind a server that ignores Range (Python's http.server) is downloaded once, not fetched whole per read", async () => {
    const root = join(dir, "plain-http");
    mkdirSync(root, { recursive: true });
    cpSync(SAMPLE, join(root, "mur.nc"));
    const server = spawn(
      "/usr/bin/python3",
      ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    try {
      const port = await new Promise<number>((ok, fail) => {
        let out = "";
        server.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /port (\d+)/.exec(out);
          if (m) ok(Number(m[1]));
        });
        server.on("exit", (code) => fail(new Error(`http.server exited (${code})`)));
      });
      const out = join(dir, "plain-http.zarr");
      const s = await convertJson(`http://127.0.0.1:${port}/mur.nc`, out);
      expect(s.remoteRead).toEqual({ read: "download", size: SIZE, fetchedBytes: SIZE });
      expectSameStore(join(dir, "local-v3.zarr"), out);
    } finally {
      server.kill();
    }
  });

  it("a truncated file: one line naming the URL, exit 3", async () => {
    writeFileSync(join(cloud.http.root, "cut.nc"), readFileSync(SAMPLE).subarray(0, 200_000));
    const r = await runCli("convert", cloud.httpUrl("cut.nc"), join(dir, "cut.zarr"));
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /cut\.nc: .*truncated/);
  });

  it("a file replaced on the server once its structure was read: one line naming the URL, exit 3", async () => {
    const root = cloud.http.root;
    writeFileSync(join(root, "changing.nc"), readFileSync(SAMPLE));
    // A proxy in front of nginx that replaces the file (same size, another ETag) as soon as the
    // planner's first structure block has been sent: every read after it sees the new version.
    let replaced = false;
    const proxy = createServer((req, res) => {
      const first = req.url === "/changing.nc" && req.headers.range === "bytes=0-65535";
      const up = httpRequest(
        {
          host: "127.0.0.1",
          port: new URL(cloud.http.base).port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      res.on("finish", () => {
        if (!first || replaced) return;
        replaced = true;
        const other = Buffer.from(readFileSync(SAMPLE));
        other[SIZE - 1] ^= 0xff;
        writeFileSync(join(root, "changing.tmp"), other);
        const later = new Date(Date.now() + 100_000);
        utimesSync(join(root, "changing.tmp"), later, later);
        renameSync(join(root, "changing.tmp"), join(root, "changing.nc"));
      });
      req.pipe(up);
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    try {
      const { port } = proxy.address() as { port: number };
      // In a child process: the reading thread waits while the proxy, on this thread, must answer.
      const r = await runCliProcess(
        ["convert", `http://127.0.0.1:${port}/changing.nc`, join(dir, "changing.zarr")],
        cloud.env,
      );
      expect(replaced).toBe(true);
      expect(r.code).toBe(3);
      expectOneLine(
        r.stderr.replace(/^geozarr: note: .*\n/gm, ""),
        /changing\.nc: changed while it was read \(its version was "[^"]+", it is now "[^"]+"\); convert it again$/,
      );
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((ok) => proxy.close(() => ok()));
    }
  });

  it("a file replaced while it is downloaded: an error naming the URL, never a copy of two versions", async () => {
    const path = join(cloud.http.root, "swapped.nc");
    writeFileSync(path, readFileSync(SAMPLE));
    let swapped = false;
    // Replaced (other bytes, same size, a new time: nginx's ETag changes) before any piece is read.
    const replace = () => {
      if (swapped) return;
      swapped = true;
      const other = Buffer.from(readFileSync(SAMPLE));
      other[SIZE - 1] ^= 0xff;
      writeFileSync(path, other);
      utimesSync(path, new Date(2001, 0, 1), new Date(2001, 0, 1));
    };
    await expect(downloadInput(cloud.httpUrl("swapped.nc"), {}, replace)).rejects.toThrow(
      /swapped\.nc: changed during the download \(its version or size\); convert it again/,
    );
    expect(swapped).toBe(true);
  });

  it("a reading thread that dies under its caller: one line naming the URL, exit 3, no hang", async () => {
    // The helper thread ends (process.exit in that thread) at its third call: the waiting thread
    // learns it from the shared flag the helper's exit sets (remote-source.ts fetchRanges).
    const out = join(dir, "helper-died.zarr");
    const r = await runCliProcess(["convert", cloud.httpUrl("mur.nc"), out], {
      ...cloud.env,
      GEOZARR_FAULT: "remote-read:exit:3",
    });
    expect(r.code).toBe(3);
    const lines = r.stderr
      .trimEnd()
      .split("\n")
      .filter((l) => !l.startsWith("geozarr-fault: "));
    expect(r.stderr).toContain("geozarr-fault: remote-read exit");
    expectOneLine(lines.join("\n"), /mur\.nc: the thread reading it ended before answering/);
    expect(existsSync(out)).toBe(false);
  });

  it("an object replaced while it is read: an error naming the URL, never bytes of two versions", async () => {
    await inputs().set("/replaced.nc", readFileSync(SAMPLE));
    const store = inputs();
    const v = await store.objectVersion("/replaced.nc");
    const file: RemoteFile = {
      url: cloud.s3Url("inputs/replaced.nc"),
      store: store.descriptor,
      key: "/replaced.nc",
      size: v!.size,
      version: v!.version,
    };
    try {
      const src = remoteSource(file);
      const head = new Uint8Array(8);
      expect(src.read(head, 0)).toBe(8);
      expect([...head]).toEqual([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
      // The same size, other bytes: only the version tells.
      const other = Buffer.from(readFileSync(SAMPLE));
      other[SIZE - 1] ^= 0xff;
      await store.set("/replaced.nc", other);
      const tail = new Uint8Array(16);
      expect(() => src.readParts([{ position: SIZE - 16, into: tail }])).toThrow(
        /s3:\/\/geozarr-test\/inputs\/replaced\.nc: changed while it was read \(its version was "[0-9a-f]+", it is now "[0-9a-f]+"\); convert it again/,
      );
    } finally {
      await closeBridge();
    }
  });
});
