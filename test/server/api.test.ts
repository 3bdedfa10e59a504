/**
 * `geozarr serve` over real HTTP: the JSON API, the read-only store with byte ranges, overviews a
 * GeoZarr client (zarrita over fetch) reads, the token when bound beyond loopback, and every way
 * to ask for something outside the store.
 */

import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FetchStore } from "@zarrita/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { convert } from "../../src/jobs/convert.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { readRegion } from "../../src/parallel/read-region.js";
import { type RunningServer, startServer } from "../../src/server/app.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { zarrPythonDir } from "../helpers/fixtures.js";
import { request } from "../helpers/http.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("serve");
const storePath = join(dir, "sample_v3.zarr");
const pool = new WorkerPool(2);
let server: RunningServer;
let base: string;

beforeAll(async () => {
  await convert("examples/data/mur_small.nc", storePath, {
    zarrFormat: 3,
    workers: 0,
    requireStandardName: true,
  });
  // A secret next to the store, and a symlink inside the store pointing at it.
  writeFileSync(join(dir, "secret.txt"), "do not serve");
  symlinkSync(join(dir, "secret.txt"), join(storePath, "link.txt"));
  server = await startServer({ store: storePath, pool, cacheDir: join(dir, "cache"), port: 0 });
  base = server.url;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await pool.close();
});

describe("JSON API", () => {
  it("describes the store, its tree and a node's documents", async () => {
    const s = await request(base, "/api/store");
    expect(s.status).toBe(200);
    expect(s.headers["content-type"]).toBe("application/json");
    expect(s.json()).toEqual({ name: storePath, zarrFormat: 3, consolidated: true, nonStandardJson: [] });
    const t = (await request(base, "/api/tree")).json<{ children: { name: string }[] }>();
    expect(t.children.map((c) => c.name)).toEqual([
      "analysed_sst",
      "lat",
      "lon",
      "sea_ice_fraction",
      "spatial_ref",
      "time",
    ]);
    const n = (await request(base, "/api/node?path=/analysed_sst")).json<{
      info: { kind: string; chunksStored: number };
      documents: { attributes: Record<string, unknown> };
    }>();
    expect(n.info.kind).toBe("array");
    expect(n.info.chunksStored).toBe(1);
    expect(n.documents.attributes.standard_name).toBe("sea_surface_foundation_temperature");
  });

  it("reports bare NaN tokens of a v2 store by pointer", async () => {
    const p2 = new WorkerPool(0);
    const s2 = await startServer({ store: join(zarrPythonDir(), "bare-nan.f8.zarr"), pool: p2, port: 0 });
    try {
      // zarr-python wrote bare NaN/-Infinity/Infinity attribute values; the v2 fill_value is the spec's string "NaN".
      const node = (await request(s2.url, "/api/node?path=/data")).json<{
        documents: Record<string, Record<string, unknown>>;
        nonStandard: string[];
      }>();
      expect(node.nonStandard.sort()).toEqual([
        "/.zattrs/missing_value",
        "/.zattrs/valid_range/0",
        "/.zattrs/valid_range/1",
      ]);
      expect(node.documents[".zattrs"]!.missing_value).toBe("NaN");
      expect(node.documents[".zarray"]!.fill_value).toBe("NaN");
    } finally {
      await s2.close();
      await p2.close();
    }
  });

  it("runs the validator", async () => {
    const r = (await request(base, "/api/validate")).json<{
      summary: { errors: number };
      zarr_format: number;
    }>();
    expect(r.zarr_format).toBe(3);
    expect(r.summary.errors).toBe(0);
  });

  it("lists the drawable layers with decoded time labels, and says why others are not", async () => {
    const l = (await request(base, "/api/layers")).json<{
      layers: {
        path: string;
        units: string;
        dims: { name: string; labels: string[] }[];
        crs: { code: string };
      }[];
      skipped: unknown[];
    }>();
    expect(l.layers.map((x) => x.path)).toEqual(["/analysed_sst", "/sea_ice_fraction"]);
    expect(l.layers[0]!.units).toBe("kelvin");
    expect(l.layers[0]!.crs.code).toBe("EPSG:4326");
    expect(l.layers[0]!.dims).toEqual([{ name: "time", axis: 0, size: 1, labels: ["2002-06-01T09:00:00Z"] }]);
  });

  it("serves an overview that zarrita reads over HTTP, equal to the unpacked, north-up data", async () => {
    const ov = (await request(base, "/api/overview?path=/analysed_sst&sel=time:0")).json<{
      url: string;
      levels: { shape: number[] }[];
      cached: boolean;
    }>();
    expect(ov.url).toMatch(/^\/overview\/[0-9a-f]{32}$/);
    expect(ov.levels.map((l) => l.shape)).toEqual([
      [719, 1440],
      [360, 720],
      [180, 360],
    ]);
    const root = await zarr.open.v3(new FetchStore(new URL(ov.url, base).href), { kind: "group" });
    const level0 = await zarr.open.v3(root.resolve("0/analysed_sst"), { kind: "array" });
    const got = (await zarr.get(level0)).data as Float32Array;
    // Reference: the source through the library, unpacked (scale/offset, fill -> NaN) and flipped.
    const h = await openHierarchy(new FileSystemStore(storePath));
    const raw = (await readRegion(h, "/analysed_sst", pool)).data as Int16Array;
    for (const [row, col] of [
      [0, 0],
      [100, 200],
      [359, 119],
      [718, 1439],
      [500, 1000],
    ] as const) {
      const v = raw[(718 - row) * 1440 + col]!;
      const want = v === -32768 ? Number.NaN : v * 0.001 + 298.15;
      if (Number.isNaN(want)) expect(got[row * 1440 + col]).toBeNaN();
      else expect(got[row * 1440 + col]).toBeCloseTo(want, 3);
    }
    // The second request is served from memory; a new server finds it in the disk cache.
    const again = (await request(base, "/api/overview?path=/analysed_sst&sel=time:0")).json<{
      url: string;
    }>();
    expect(again.url).toBe(ov.url);
    const p2 = new WorkerPool(0);
    const s2 = await startServer({ store: storePath, pool: p2, cacheDir: join(dir, "cache"), port: 0 });
    try {
      const cached = (await request(s2.url, "/api/overview?path=/analysed_sst")).json<{
        url: string;
        cached: boolean;
      }>();
      expect(cached).toMatchObject({ url: ov.url, cached: true });
      expect((await request(s2.url, `${ov.url}/zarr.json`)).status).toBe(200);
    } finally {
      await s2.close();
      await p2.close();
    }
  });

  it("reads the exact value of the cell under a map coordinate", async () => {
    const v = (await request(base, "/api/value?path=/analysed_sst&x=-150&y=0")).json<{
      row: number;
      col: number;
      raw: number;
      value: number;
    }>();
    expect({ row: v.row, col: v.col }).toEqual({ row: 359, col: 119 });
    expect(v.value).toBeCloseTo(v.raw * 0.001 + 298.15, 6);
    expect((await request(base, "/api/value?path=/analysed_sst&x=-150&y=95")).json()).toBeNull();
  });

  it.each([
    ["/api/node?path=/nope", 404, /no node \/nope|\/nope/],
    ["/api/nope", 404, /no API route "nope"/],
    ["/api/value?path=/analysed_sst&x=abc&y=0", 400, /x must be a number/],
    ["/api/value?path=/analysed_sst&y=0", 400, /missing query parameter x/],
    ["/api/overview?path=/analysed_sst&sel=time:5", 400, /time=5 is outside 0..0/],
    ["/api/overview?path=/analysed_sst&sel=depth:0", 400, /no dimension "depth"/],
    ["/api/overview?path=/analysed_sst&sel=time", 400, /expected dimension:index/],
    ["/api/overview?path=/lat", 404, /no drawable array/],
  ])("%s -> %i with a one-line error", async (path, status, message) => {
    const r = await request(base, path);
    expect(r.status).toBe(status);
    const body = r.json<{ error: string }>();
    expect(body.error).toMatch(message);
    expect(body.error).not.toContain("\n");
  });
});

describe("the store, read-only", () => {
  const chunk = "/store/analysed_sst/c/0/0/0";
  const onDisk = () => readFileSync(join(storePath, "analysed_sst/c/0/0/0"));

  it("serves metadata and chunks, whole and by byte range", async () => {
    const doc = await request(base, "/store/zarr.json");
    expect(doc.status).toBe(200);
    expect(doc.json<{ zarr_format: number }>().zarr_format).toBe(3);
    const whole = await request(base, chunk);
    expect(whole.body.equals(onDisk())).toBe(true);
    expect(whole.headers["accept-ranges"]).toBe("bytes");
    const part = await request(base, chunk, { headers: { Range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe(`bytes 10-19/${onDisk().length}`);
    expect(part.body.equals(onDisk().subarray(10, 20))).toBe(true);
    const suffix = await request(base, chunk, { headers: { Range: "bytes=-4" } });
    expect(suffix.body.equals(onDisk().subarray(-4))).toBe(true);
    expect((await request(base, chunk, { headers: { Range: "bytes=99999999-" } })).status).toBe(416);
    const head = await request(base, chunk, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers["content-length"]).toBe(String(onDisk().length));
  });

  it("answers a missing key with 404 (Zarr readers probe keys)", async () => {
    expect((await request(base, "/store/.zmetadata")).status).toBe(404);
    expect((await request(base, "/store/analysed_sst/c/9/9/9")).status).toBe(404);
  });

  it.each([
    "/store/../secret.txt",
    "/store/%2e%2e/secret.txt",
    "/store/..%2fsecret.txt",
    "/store/analysed_sst/../../secret.txt",
    "/store/link.txt",
    "/store/%00",
    "/store/..\\secret.txt",
    "/../package.json",
    "/assets/../../package.json",
    "/%2e%2e/%2e%2e/package.json",
    "/overview/0123456789abcdef0123456789abcdef/zarr.json",
  ])("path traversal %s -> 404", async (path) => {
    const r = await request(base, path);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain("do not serve");
    expect(r.body.toString()).not.toContain('"name": "geozarr"');
  });

  it.each(["POST", "PUT", "DELETE", "PATCH"])("refuses %s (read-only) with 405", async (method) => {
    const r = await request(base, "/store/zarr.json", { method });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD");
  });

  it("sends security headers and no CORS header", async () => {
    for (const path of ["/", "/api/store", "/store/zarr.json"]) {
      const r = await request(base, path);
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(r.headers["access-control-allow-origin"]).toBeUndefined();
    }
  });

  it("serves the built page", async () => {
    const r = await request(base, "/");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toContain("text/html");
    expect(r.body.toString()).toContain("geozarr inspector");
  });
});

describe("binding beyond loopback", () => {
  it("requires the random token, then a cookie", async () => {
    const p = new WorkerPool(0);
    const s = await startServer({ store: storePath, pool: p, host: "0.0.0.0", port: 0 });
    try {
      expect(s.token).toMatch(/^[0-9a-f]{32}$/);
      expect(s.url).toContain(`?token=${s.token}`);
      // The printed URL names an address of this machine (safety.test.ts); ask on loopback.
      const local = `http://127.0.0.1:${new URL(s.url).port}/`;
      expect((await request(local, "/api/store")).status).toBe(403);
      expect((await request(local, "/api/store?token=wrong")).status).toBe(403);
      const ok = await request(local, `/api/store?token=${s.token}`);
      expect(ok.status).toBe(200);
      const cookie = String(ok.headers["set-cookie"]).split(";")[0]!;
      expect(String(ok.headers["set-cookie"])).toContain("HttpOnly");
      expect((await request(local, "/store/zarr.json", { headers: { Cookie: cookie } })).status).toBe(200);
    } finally {
      await s.close();
      await p.close();
    }
  });

  it("does not need a token on loopback", () => {
    expect(server.token).toBeNull();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
});

describe("startServer errors", () => {
  it("names a missing store", async () => {
    await expect(startServer({ store: join(dir, "nope.zarr"), pool, port: 0 })).rejects.toThrow(
      /nope\.zarr: no such file or directory/,
    );
  });
  it("names a directory that is not a store", async () => {
    mkdirSync(join(dir, "empty"));
    await expect(startServer({ store: join(dir, "empty"), pool, port: 0 })).rejects.toThrow(
      /not a Zarr store/,
    );
  });
  it("names a port in use", async () => {
    const port = Number(new URL(base).port);
    await expect(startServer({ store: storePath, pool, port })).rejects.toThrow(
      new RegExp(`cannot listen on 127.0.0.1:${port}`),
    );
  });
});
