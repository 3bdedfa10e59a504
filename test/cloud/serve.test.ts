/**
 * `geozarr serve` on a store in S3 and on one over HTTP: the same API answers as for the local
 * copy, the store's keys under /store/ with byte ranges read through the store, the map's overview
 * built from the remote chunks, and the inspector's safety (Host check, confinement) unchanged.
 */

import { cpSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FetchStore } from "@zarrita/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { convert } from "../../src/node.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { type RunningServer, startServer } from "../../src/server/app.js";
import { useCloud } from "../helpers/cloud.js";
import { request } from "../helpers/http.js";
import { tmpDir } from "../helpers/tmp.js";

const cloud = useCloud("serve-cloud");
const dir = tmpDir("serve-cloud-out");
const local = join(dir, "sample.zarr");
let pool: WorkerPool;
const servers: Record<string, RunningServer> = {};

beforeAll(async () => {
  // Started once the AWS environment is set: worker threads take the environment they start with.
  pool = new WorkerPool(2);
  await convert(resolve("examples/data/mur_small.nc"), local, {
    zarrFormat: 3,
    workers: 0,
    requireStandardName: true,
  });
  await convert(local, cloud.s3Url("sample.zarr"), { workers: 0 });
  // The S3 copy is re-encoded from `local` with the same settings, so its chunks are the same bytes.
  cpSync(local, join(cloud.http.root, "sample.zarr"), { recursive: true });
  for (const [kind, store] of [
    ["local", local],
    ["s3", cloud.s3Url("sample.zarr")],
    ["http", cloud.httpUrl("sample.zarr")],
  ] as const)
    servers[kind] = await startServer({ store, pool, port: 0, cacheDir: join(dir, `cache-${kind}`) });
}, 120_000);

afterAll(async () => {
  for (const s of Object.values(servers)) await s.close();
  await pool.close();
});

describe.each(["s3", "http"])("serve on a %s store", (kind) => {
  const base = () => servers[kind]!.url;

  it("answers the tree, a node and the layers as for the local copy", async () => {
    for (const route of ["/api/tree", "/api/node?path=/analysed_sst", "/api/layers"]) {
      const a = (await request(base(), route)).json();
      const b = (await request(servers.local!.url, route)).json();
      expect(a, route).toEqual(b);
    }
  });

  it("serves the store's keys with byte ranges and HEAD, read through the store", async () => {
    const file = readFileSync(join(local, "analysed_sst", "c", "0", "0", "0"));
    const whole = await request(base(), "/store/analysed_sst/c/0/0/0");
    expect(whole.status).toBe(200);
    expect(whole.body.equals(file)).toBe(true);
    const part = await request(base(), "/store/analysed_sst/c/0/0/0", {
      headers: { range: "bytes=1000-600999" },
    });
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe(`bytes 1000-600999/${file.length}`);
    expect(part.body.equals(file.subarray(1000, 601000))).toBe(true);
    const tail = await request(base(), "/store/analysed_sst/c/0/0/0", { headers: { range: "bytes=-10" } });
    expect(tail.body.equals(file.subarray(file.length - 10))).toBe(true);
    const head = await request(base(), "/store/analysed_sst/c/0/0/0", { method: "HEAD" });
    expect(head.headers["content-length"]).toBe(String(file.length));
    expect((await request(base(), "/store/analysed_sst/c/9/9/9")).status).toBe(404);
    expect((await request(base(), "/store/../../etc/passwd")).status).toBeGreaterThanOrEqual(400);
  });

  it("builds the map's overview from the remote chunks (zarrita reads it over HTTP)", async () => {
    const ov = (await request(base(), "/api/overview?path=/analysed_sst&sel=time:0")).json<{ url: string }>();
    expect(ov).toMatchObject({ url: expect.stringMatching(/^\/overview\/[0-9a-f]{32}$/) });
    const want = (await request(servers.local!.url, "/api/overview?path=/analysed_sst&sel=time:0")).json<{
      url: string;
    }>();
    const read = async (b: string, url: string) => {
      const root = await zarr.open.v3(new FetchStore(new URL(url, b).href), { kind: "group" });
      const level = await zarr.open.v3(root.resolve("1/analysed_sst"), { kind: "array" });
      return (await zarr.get(level)).data as Float32Array;
    };
    const [a, b] = [await read(base(), ov.url), await read(servers.local!.url, want.url)];
    expect(a.length).toBe(360 * 720);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });

  it("keeps the Host check", async () => {
    const r = await request(base(), "/api/tree", { headers: { host: "evil.example:80" } });
    expect(r.status).toBe(403);
  });
});
