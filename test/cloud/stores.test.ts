/**
 * The remote stores against real servers on loopback: the store contract for S3 (s3rver) and HTTP
 * (nginx serving a directory), and what each does with missing keys, refusals and bad settings.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { HttpStore } from "../../src/zarr/store/http.js";
import { S3Store, unsignedPayloadSafe } from "../../src/zarr/store/s3.js";
import type { MutableStore, StoreKey } from "../../src/zarr/store/types.js";
import { storeContract } from "../contracts/store-contract.js";
import { useCloud } from "../helpers/cloud.js";
import { freePort } from "../setup/servers.js";

const cloud = useCloud("stores");
let n = 0;

storeContract("S3 (s3rver)", () => new S3Store({ bucket: cloud.s3.bucket, prefix: `contract/${n++}.zarr` }));

/** HTTP reads what is written into the directory nginx serves. */
storeContract(
  "HTTP (nginx)",
  (): MutableStore => {
    const name = `contract-${n++}`;
    mkdirSync(join(cloud.http.root, name));
    const files = new FileSystemStore(join(cloud.http.root, name));
    const http = new HttpStore(cloud.httpUrl(name));
    return {
      get: (k) => http.get(k),
      getRange: (k, r) => http.getRange(k, r),
      listDir: (p) => http.listDir(p),
      set: (k, v) => files.set(k, v),
      delete: (k) => files.delete(k),
    };
  },
  { listable: false },
);

describe("S3 store", () => {
  const store = (prefix = "s.zarr", extra = {}) => new S3Store({ bucket: cloud.s3.bucket, prefix, ...extra });

  it("coalesces ranges of one key asked for together into one request, each caller getting its bytes", async () => {
    const s = store("coalesce.zarr");
    const v = Uint8Array.from({ length: 4096 }, (_, i) => i & 255);
    await s.set("/shard", v);
    const got = await Promise.all([
      s.getRange("/shard", { offset: 0, length: 10 }),
      s.getRange("/shard", { offset: 100, length: 50 }),
      s.getRange("/shard", { offset: 4000, length: 200 }),
    ]);
    expect(got).toEqual([v.subarray(0, 10), v.subarray(100, 150), v.subarray(4000)]);
  });

  it("lists chunk directories that hold only deeper keys, and gives their sizes", async () => {
    const s = store("deep.zarr");
    await s.set("/a/c/0/0/1", new Uint8Array(7));
    await s.set("/a/zarr.json", new Uint8Array(3));
    expect(await s.listDir("/a/")).toEqual({ keys: ["zarr.json"], prefixes: ["c"] });
    expect(await s.listDir("/a/c/0/0/")).toEqual({ keys: ["1"], prefixes: [] });
    expect(await s.sizeOf("/a/c/0/0/1")).toBe(7);
    expect(await s.sizeOf("/a/c/0/0/2")).toBeUndefined();
  });

  it("reads without credentials when anonymous (unsigned requests)", async () => {
    await store("anon.zarr").set("/k", new Uint8Array([1, 2, 3]));
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = "not-the-secret";
    try {
      expect(await store("anon.zarr", { anonymous: true }).get("/k")).toEqual(new Uint8Array([1, 2, 3]));
      await expect(store("anon.zarr").get("/k")).rejects.toThrow(
        /^s3:\/\/geozarr-test\/anon\.zarr\/k: cannot read: 403 Forbidden \(SignatureDoesNotMatch: check AWS credentials/,
      );
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });

  it("takes credentials, region and endpoint from AWS_PROFILE's sections of the shared files", async () => {
    await store("profile.zarr").set("/k", new Uint8Array([7]));
    const files = join(cloud.http.root, "..", "aws");
    mkdirSync(files, { recursive: true });
    writeFileSync(
      join(files, "credentials"),
      `[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n[geozarr]\naws_access_key_id = ${cloud.s3.accessKeyId}\naws_secret_access_key = ${cloud.s3.secretAccessKey}\n`,
    );
    writeFileSync(
      join(files, "config"),
      `[profile geozarr]\nregion = eu-west-1\nendpoint_url = ${cloud.s3.endpoint}\n`,
    );
    const names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_REGION"];
    const saved = Object.fromEntries(names.map((k) => [k, process.env[k]]));
    const files0 = { c: process.env.AWS_CONFIG_FILE, s: process.env.AWS_SHARED_CREDENTIALS_FILE };
    for (const k of names) delete process.env[k];
    Object.assign(process.env, {
      AWS_PROFILE: "geozarr",
      AWS_CONFIG_FILE: join(files, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(files, "credentials"),
    });
    try {
      // Path-style follows the profile's endpoint (s3rver has no bucket subdomains).
      expect(await store("profile.zarr").get("/k")).toEqual(new Uint8Array([7]));
    } finally {
      Object.assign(process.env, saved, { AWS_CONFIG_FILE: files0.c, AWS_SHARED_CREDENTIALS_FILE: files0.s });
      delete process.env.AWS_PROFILE;
    }
  });

  it("without any credentials: one line naming the variables and the anonymous option", async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      await expect(store("nocreds.zarr").get("/zarr.json")).rejects.toMatchObject({
        tag: "IO",
        message:
          "s3://geozarr-test/nocreds.zarr/zarr.json: cannot read: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE; a public bucket needs the anonymous option (--anonymous))",
      });
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it("names the bucket that does not exist, and the endpoint it cannot reach, in one line", async () => {
    const nb = new S3Store({ bucket: "no-such-bucket", prefix: "x.zarr" });
    await expect(nb.get("/zarr.json")).rejects.toMatchObject({
      tag: "NotFound",
      message: "s3://no-such-bucket: no such bucket",
    });
    const down = new S3Store({ bucket: "b-b", prefix: "x.zarr", endpoint: "http://127.0.0.1:1" });
    await expect(down.get("/zarr.json")).rejects.toMatchObject({
      tag: "IO",
      message: "s3://b-b/x.zarr/zarr.json: cannot read: cannot reach http://127.0.0.1:1: ECONNREFUSED",
    });
  });

  it("sends bodies unsigned (their CRC-32 checked) only over TLS or to loopback; signs them over plain http elsewhere", () => {
    expect(unsignedPayloadSafe(undefined)).toBe(true); // AWS S3, https
    expect(unsignedPayloadSafe("https://minio.example.org:9000")).toBe(true);
    expect(unsignedPayloadSafe("http://127.0.0.1:9000")).toBe(true);
    expect(unsignedPayloadSafe("http://localhost:9000")).toBe(true);
    expect(unsignedPayloadSafe("http://[::1]:9000")).toBe(true);
    expect(unsignedPayloadSafe("http://minio.internal:9000")).toBe(false);
    expect(unsignedPayloadSafe("http://10.0.0.5")).toBe(false);
    expect(unsignedPayloadSafe("not a url")).toBe(false);
  });

  it("writes the lock-style object only if absent when the server supports it, and says so", async () => {
    const s = store("cond.zarr");
    expect(await s.put("/lock" as StoreKey, new Uint8Array([1]), { ifAbsent: true })).toBe(true);
    // s3rver ignores If-None-Match on PUT (AWS S3, MinIO and Ceph honour it): the second PUT lands.
    expect(await s.put("/lock" as StoreKey, new Uint8Array([2]), { ifAbsent: true })).toBe(true);
    expect(await s.get("/lock" as StoreKey)).toEqual(new Uint8Array([2]));
  });
});

describe("HTTP store", () => {
  it("reads a missing key as undefined, and refuses listing in one line naming the URL and the way out", async () => {
    mkdirSync(join(cloud.http.root, "h.zarr"), { recursive: true });
    writeFileSync(join(cloud.http.root, "h.zarr", "zarr.json"), "{}");
    const h = new HttpStore(cloud.httpUrl("h.zarr"));
    expect(await h.get("/nope/zarr.json")).toBeUndefined();
    expect(new TextDecoder().decode(await h.get("/zarr.json"))).toBe("{}");
    expect(await h.sizeOf("/zarr.json")).toBe(2);
    await expect(h.listDir("/")).rejects.toThrow(
      /^http:\/\/127\.0\.0\.1:\d+\/h\.zarr\/: cannot list a store over plain HTTP .*consolidated metadata/,
    );
  });

  it("names the URL and the cause when the server cannot be reached (after its retries)", async () => {
    const port = await freePort(); // nothing listens there
    const h = new HttpStore(`http://127.0.0.1:${port}/x.zarr`, {
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await expect(h.get("/zarr.json")).rejects.toMatchObject({
      tag: "IO",
      message: `http://127.0.0.1:${port}/x.zarr/zarr.json: cannot connect: ECONNREFUSED (after 2 attempts)`,
    });
  });
});

describe("a sharded store read over HTTP and S3", () => {
  it("reads the inner chunks of a shard in a few coalesced range requests, values as from the directory", async () => {
    const { convert, readRegion, WorkerPool, openStore } = await import("../../src/node.js");
    const local = join(cloud.http.root, "sharded.zarr");
    const opts = { chunks: "lat=90,lon=180", shards: "lat=720,lon=1440", workers: 0 } as const;
    await convert("examples/data/mur_small.nc", local, opts);
    await convert("examples/data/mur_small.nc", cloud.s3Url("sharded.zarr"), opts);
    const pool = new WorkerPool(0);
    try {
      const want = (await readRegion(await openStore(local), "/analysed_sst", pool)).data as Int16Array;
      const http = new HttpStore(cloud.httpUrl("sharded.zarr"));
      const { openHierarchy } = await import("../../src/zarr/hierarchy.js");
      const h = await openHierarchy(http, { name: "sharded" });
      const before = http.requests;
      const got = (await readRegion(h, "/analysed_sst", pool)).data as Int16Array;
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      // 8 x 8 = 64 inner chunks in one shard: its index, then their ranges merged (16 at a time).
      const requests = http.requests - before;
      expect(requests).toBeGreaterThanOrEqual(2);
      expect(requests).toBeLessThanOrEqual(6);
      const s3 = await openStore(cloud.s3Url("sharded.zarr"));
      const viaS3 = (await readRegion(s3, "/analysed_sst", pool)).data as Int16Array;
      expect(Buffer.from(viaS3.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
