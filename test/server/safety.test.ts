/**
 * The inspector's promises under hostile or careless requests (issue 10, item 6), over real HTTP:
 * the Host check on loopback (DNS rebinding), requests that cannot be parsed (4xx, one line, no
 * stack in the log), files streamed with ranges and closed when the client goes away, and
 * overview builds that are refused up front when too large or stopped at their time limit.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkerPool } from "../../src/parallel/pool.js";
import { type RunningServer, type ServeOptions, startServer } from "../../src/server/app.js";
import { zarrPythonDir } from "../helpers/fixtures.js";
import { request } from "../helpers/http.js";
import { tmpDir } from "../helpers/tmp.js";
import { blobStore, emptyGridStore, hugeStore, slowStore } from "./stores.js";

const dir = tmpDir("safety");
const pool = new WorkerPool(2);
const STORE = join(zarrPythonDir(), "zstd.f8.zarr");
const running: RunningServer[] = [];

/** A server with its log lines collected. */
async function serve(
  opts: Partial<ServeOptions> & { store: string },
): Promise<RunningServer & { log: string[] }> {
  const log: string[] = [];
  const s = await startServer({ pool, port: 0, ...opts, log: (l) => log.push(l) });
  running.push(s);
  return Object.assign(s, { log });
}

const port = (s: RunningServer) => Number(new URL(s.url).port);

/** A raw HTTP exchange: the request bytes as written, the status line and body back. */
function raw(s: RunningServer, text: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const sock = connect(port(s), "127.0.0.1", () => sock.end(text));
    let got = "";
    sock.on("data", (d) => {
      got += d;
    });
    sock.on("end", () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1]);
      ok({ status, body: got.slice(got.indexOf("\r\n\r\n") + 4) });
    });
    sock.on("error", fail);
  });
}

afterAll(async () => {
  for (const s of running) await s.close();
  await pool.close();
});

describe("Host check on loopback (DNS rebinding)", () => {
  let s: RunningServer & { log: string[] };
  beforeAll(async () => {
    s = await serve({ store: STORE });
  });

  it.each(["127.0.0.1", "localhost", "LocalHost", "[::1]"])(
    "answers Host %s with the server's port",
    async (h) => {
      const r = await request(s.url, "/api/store", { headers: { Host: `${h}:${port(s)}` } });
      expect(r.status).toBe(200);
      expect(r.json()).toMatchObject({ zarrFormat: 2 });
    },
  );

  it.each([
    "evil.example",
    "evil.example:PORT",
    "127.0.0.1",
    "127.0.0.1:1",
    "localhost",
    "localhost.evil.example:PORT",
    "127.0.0.1.nip.io:PORT",
    "127.0.0.1:PORT@evil.example",
    "[::2]:PORT",
  ])("refuses Host %s with a one-line 403, logged as one line", async (h) => {
    const host = h.replace("PORT", String(port(s)));
    const before = s.log.length;
    for (const path of ["/api/consolidated", "/store/.zarray", "/", "/api/%ZZ"]) {
      const r = await request(s.url, path, { headers: { Host: host } });
      expect(r.status).toBe(403);
      expect(r.body.toString()).toBe("forbidden: the Host header does not name this inspector\n");
      expect(r.body.toString()).not.toContain("zarr_format");
    }
    const lines = s.log.slice(before);
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(l).not.toContain("\n");
      expect(l).toContain(`for Host ${JSON.stringify(host)}: not an address of this inspector`);
    }
  });

  it("refuses a request without a Host header (HTTP/1.0)", async () => {
    const r = await raw(s, "GET /api/consolidated HTTP/1.0\r\n\r\n");
    expect(r.status).toBe(403);
    expect(r.body).not.toContain("zarr_format");
  });

  it("answers names the user allowed (a reverse proxy), any port, domains with a leading dot", async () => {
    const p = await serve({ store: STORE, allowedHosts: ["inspect.example.org", ".corp.example"] });
    const status = async (host: string) =>
      (await request(p.url, "/api/store", { headers: { Host: host } })).status;
    expect(await status("inspect.example.org")).toBe(200);
    expect(await status("inspect.example.org:443")).toBe(200);
    expect(await status("corp.example")).toBe(200);
    expect(await status("a.b.corp.example:8080")).toBe(200);
    expect(await status(`127.0.0.1:${port(p)}`)).toBe(200);
    expect(await status("evilcorp.example")).toBe(403);
    expect(await status("inspect.example.org.evil.example")).toBe(403);
    expect(await status("other.example.org")).toBe(403);
  });

  it("refuses allowed hosts that are not names, and allowed hosts beyond loopback", async () => {
    await expect(serve({ store: STORE, allowedHosts: ["evil.example/x"] })).rejects.toThrow(
      /allowed host "evil\.example\/x" is not a host name/,
    );
    await expect(serve({ store: STORE, host: "0.0.0.0", allowedHosts: ["a.example"] })).rejects.toThrow(
      /allowedHosts applies to a loopback host/,
    );
  });
});

describe("bound beyond loopback", () => {
  it("prints a reachable address, not 0.0.0.0, and lets the token (not Host) decide", async () => {
    const s = await serve({ store: STORE, host: "0.0.0.0" });
    const shown = new URL(s.url).hostname;
    expect(shown).not.toBe("0.0.0.0");
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === "IPv4")
      .map((a) => a!.address);
    expect(external.length > 0 ? external : [hostname()]).toContain(shown);
    const local = `http://127.0.0.1:${port(s)}/`;
    const evil = { Host: "evil.example" };
    expect((await request(local, "/api/store", { headers: evil })).status).toBe(403);
    expect((await request(local, `/api/store?token=${s.token}`, { headers: evil })).status).toBe(200);
  });
});

describe("requests that cannot be parsed are 4xx with one line, never 500", () => {
  let s: RunningServer & { log: string[] };
  let api: RunningServer & { log: string[] };
  beforeAll(async () => {
    s = await serve({ store: STORE });
    api = await serve({ store: slowStore(join(dir, "parse.zarr")) });
  });

  it.each([
    ["/store/%E0%A4%A", 400, /malformed percent-escape in the path "\/store\/%E0%A4%A"/],
    ["/api/%ZZ", 400, /malformed percent-escape/],
    ["/%", 400, /malformed percent-escape/],
    ["/overview/%C0%AF", 400, /malformed percent-escape/],
    ["/store/LONG", 414, /request target longer than 8192 characters/],
    ["/api/node?path=%ZZ", 404, /no array or group named "%ZZ"/],
    ["/api/node?path=/slow/../slow", 404, /no array or group/],
    ["/api/value?path=/slow&x=1e400&y=0", 400, /x must be a number/],
    ["/api/value?path=/slow&x=&y=0", 400, /missing query parameter x/],
    ["/api/value?path=/slow&x=-1e300&y=1e300", 200, null],
    ["/api/overview?path=/slow&sel=y:1", 400, /no dimension "y"/],
    ["/api/overview?path=/slow&sel=:1", 400, /expected dimension:index/],
    ["/api/overview?path=", 400, /missing query parameter path/],
    ["/api/overview?path=%00", 404, /no drawable array/],
  ] as const)("%s -> %i", async (target, status, message) => {
    const path = target.replace("LONG", "a".repeat(9000));
    const server = path.includes("/slow") || path.includes("overview?") ? api : s;
    const before = server.log.length;
    const r = await request(server.url, path);
    expect(r.status).toBe(status);
    if (message) {
      const body = r.json<{ error: string }>();
      expect(body.error).toMatch(message);
      expect(r.body.toString().trim()).not.toContain("\n");
    }
    // Nothing logged: no stack trace, no "internal error".
    expect(server.log.slice(before)).toEqual([]);
  });

  it("leaves a request line too long for Node's parser to Node (431), with nothing logged", async () => {
    const before = s.log.length;
    const r = await request(s.url, `/store/${"a".repeat(20_000)}`);
    expect(r.status).toBe(431);
    expect(s.log.length).toBe(before);
  });

  it("refuses a target that is not a path", async () => {
    const r = await raw(
      s,
      `GET http://evil.example/api/store HTTP/1.1\r\nHost: 127.0.0.1:${port(s)}\r\n\r\n`,
    );
    expect(r.status).toBe(400);
    expect(r.body).toContain("the request target must be a path starting with /");
  });
});

describe("files are streamed with ranges", () => {
  const size = 5 * 1024 * 1024 + 17;
  let s: RunningServer;
  let blob: ReturnType<typeof blobStore>;
  beforeAll(async () => {
    blob = blobStore(join(dir, "blob.zarr"), size);
    s = await serve({ store: blob.dir });
  });
  const url = () => `/store/${blob.key}`;

  it.each([
    ["bytes=0-", 206, 0, size],
    ["bytes=1000-1999", 206, 1000, 2000],
    ["bytes=-10", 206, size - 10, size],
    [`bytes=-${size * 2}`, 206, 0, size],
    [`bytes=${size - 1}-${size * 5}`, 206, size - 1, size],
    [`bytes=0-${"9".repeat(40)}`, 206, 0, size],
    // Not one valid bytes range: ignored, the whole file (RFC 9110 section 14.2).
    ["bytes=0-1,5-6", 200, 0, size],
    ["bytes=5-2", 200, 0, size],
    ["items=0-5", 200, 0, size],
    ["bytes=abc", 200, 0, size],
  ])("Range %s -> %i with the right bytes", async (range, status, start, end) => {
    const r = await request(s.url, url(), { headers: { Range: range } });
    expect(r.status).toBe(status);
    expect(r.headers["content-length"]).toBe(String(end - start));
    expect(r.body.equals(blob.chunk.subarray(start, end))).toBe(true);
    if (status === 206) expect(r.headers["content-range"]).toBe(`bytes ${start}-${end - 1}/${size}`);
  });

  it.each([`bytes=${size}-`, `bytes=${"9".repeat(40)}-`, "bytes=-0"])("Range %s -> 416", async (range) => {
    const r = await request(s.url, url(), { headers: { Range: range } });
    expect(r.status).toBe(416);
    expect(r.headers["content-range"]).toBe(`bytes */${size}`);
  });

  it("answers HEAD with the length and no body, for whole files and ranges", async () => {
    const h = await request(s.url, url(), { method: "HEAD" });
    expect(h.status).toBe(200);
    expect(h.headers["content-length"]).toBe(String(size));
    expect(h.body.length).toBe(0);
    const hr = await request(s.url, url(), { method: "HEAD", headers: { Range: "bytes=10-19" } });
    expect(hr.status).toBe(206);
    expect(hr.headers["content-length"]).toBe("10");
    expect(hr.body.length).toBe(0);
    // The page and its static files are streamed the same way.
    const page = await request(s.url, "/index.html", { method: "HEAD" });
    expect(page.status).toBe(200);
    expect(Number(page.headers["content-length"])).toBeGreaterThan(100);
  });

  it("closes the file when the client goes away mid-body", async () => {
    const file = realpathSync(join(blob.dir, blob.key));
    const openFds = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      }).length;
    const u = new URL(s.url);
    const aborted = new Promise<void>((ok, fail) => {
      const req = httpRequest({ host: u.hostname, port: u.port, path: url() }, (res) => {
        res.once("data", () => {
          // The server has the file open while it streams.
          expect(openFds()).toBe(1);
          req.destroy();
          ok();
        });
      });
      req.on("error", (e) => (req.destroyed ? undefined : fail(e)));
      req.end();
    });
    await aborted;
    // Bounded wait for the server side to notice the closed socket (not a timing assertion).
    for (let i = 0; i < 200 && openFds() > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(openFds()).toBe(0);
    // And it still serves.
    const again = await request(s.url, url(), { headers: { Range: "bytes=0-3" } });
    expect(again.body.equals(blob.chunk.subarray(0, 4))).toBe(true);
  });

  it("serves 404 for directories and keys outside the store, as before", async () => {
    expect((await request(s.url, "/store/blob/c")).status).toBe(404);
    expect((await request(s.url, "/store/blob/c/0/")).status).toBe(200);
    expect((await request(s.url, "/store/blob/c/1")).status).toBe(404);
    expect((await request(s.url, "/store/../safety.test.ts")).status).toBe(404);
  });

  it("hashes the same as the file on disk", async () => {
    const r = await request(s.url, url());
    expect(createHash("sha256").update(r.body).digest("hex")).toBe(
      createHash("sha256").update(blob.chunk).digest("hex"),
    );
  });
});

describe("overview builds have limits", () => {
  it("serves a store with a 1e15 x 1e15 array, refusing its map up front with the reason", async () => {
    const cache = join(dir, "huge-cache");
    const s = await serve({ store: hugeStore(join(dir, "huge.zarr")), cacheDir: cache });
    const tree = (await request(s.url, "/api/tree")).json<{
      children: { name: string; shape: number[] }[];
    }>();
    expect(tree.children.map((c) => [c.name, c.shape])).toEqual([["big", [1e15, 1e15]]]);
    const node = (await request(s.url, "/api/node?path=/big")).json<{ documents: { shape: number[] } }>();
    expect(node.documents).toMatchObject({ shape: [1e15, 1e15] });
    const why =
      "too large for a display overview: 1000000000000000 x 1000000000000000 cells in a plane (the limit is 17179869184 cells)";
    const layers = (await request(s.url, "/api/layers")).json<{ layers: unknown[]; skipped: unknown[] }>();
    expect(layers).toEqual({ layers: [], skipped: [{ path: "/big", why }] });
    expect(s.log).toEqual([`warning: the map of /big is unavailable: ${why}`]);
    const ov = await request(s.url, "/api/overview?path=/big");
    expect(ov.status).toBe(422);
    expect(ov.json()).toMatchObject({ error: `/big: cannot be drawn: ${why}` });
    // No build was started: nothing in the cache.
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    expect(await s.api.warmUp()).toBeNull();
  });

  it("refuses a plane of too many chunks", async () => {
    const s = await serve({
      store: emptyGridStore(join(dir, "tiny-chunks.zarr"), "t", [20000, 20000], [10, 10]),
    });
    const layers = (await request(s.url, "/api/layers")).json<{ skipped: { why: string }[] }>();
    expect(layers.skipped[0]!.why).toBe(
      "too many chunks for a display overview: 4000000 chunks in a plane (the limit is 1048576)",
    );
  });

  it("stops a build at its time limit, removes its partial entry and tells the page, once", async () => {
    const cache = join(dir, "slow-cache");
    const s = await serve({
      store: slowStore(join(dir, "slow.zarr")),
      cacheDir: cache,
      overviewTimeoutMs: 50,
    });
    const r = await request(s.url, "/api/overview?path=/slow");
    expect(r.status).toBe(422);
    const message =
      "/slow: the map overview was stopped after 0.05 s, the time limit of a build (overviewTimeout)";
    expect(r.json()).toMatchObject({ error: message });
    expect(readdirSync(cache)).toEqual([]);
    // Remembered: the page is told at once instead of a new build starting.
    const again = await request(s.url, "/api/overview?path=/slow");
    expect(again.json()).toMatchObject({ error: message });
    expect(s.log).toEqual([`warning: map overview: ${message}`]);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("runs builds one at a time (each uses the whole pool), every one under its own time limit", async () => {
    const cache = join(dir, "queue-cache");
    const store = slowStore(join(dir, "queue.zarr"));
    emptyGridStore(store, "slow2", [40000, 40000], [50, 50]);
    const s = await serve({ store, cacheDir: cache, overviewTimeoutMs: 300 });
    let most = 0;
    let done = false;
    const watch = (async () => {
      while (!done) {
        most = Math.max(most, existsSync(cache) ? readdirSync(cache).length : 0);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const [a, b] = await Promise.all([
      request(s.url, "/api/overview?path=/slow"),
      request(s.url, "/api/overview?path=/slow2"),
    ]);
    done = true;
    await watch;
    expect([a.status, b.status]).toEqual([422, 422]);
    expect(b.json<{ error: string }>().error).toMatch(/^\/slow2: the map overview was stopped after 0\.3 s/);
    expect(most).toBe(1);
    expect(readdirSync(cache)).toEqual([]);
  });

  it("stops a running build when the server closes, and removes its partial entry", async () => {
    const cache = join(dir, "close-cache");
    const s = await serve({ store: slowStore(join(dir, "close.zarr")), cacheDir: cache });
    const pending = request(s.url, "/api/overview?path=/slow").catch((e: Error) => e);
    // Bounded wait until the build has its directory (not a timing assertion).
    for (let i = 0; i < 400 && !(existsSync(cache) && readdirSync(cache).length > 0); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(readdirSync(cache)).toEqual([
      expect.stringMatching(new RegExp(`^\\.tmp-[0-9a-f]{32}-${process.pid}-`)),
    ]);
    await s.close();
    expect(readdirSync(cache)).toEqual([]);
    // The client's connection was closed with the server.
    expect(await pending).toBeInstanceOf(Error);
  });

  it("removes partial entries of processes that are gone, and keeps those of running ones", async () => {
    const cache = join(dir, "stale-cache");
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    }).stdout;
    const id = "0123456789abcdef0123456789abcdef";
    const deadDir = `.tmp-${id}-${dead}-aaaaaaaa`;
    const liveDir = `.tmp-${id}-${process.ppid}-bbbbbbbb`;
    mkdirSync(join(cache, deadDir, "store"), { recursive: true });
    mkdirSync(join(cache, liveDir), { recursive: true });
    const s = await serve({
      store: emptyGridStore(join(dir, "small.zarr"), "s", [300, 400], [100, 100]),
      cacheDir: cache,
    });
    const r = await request(s.url, "/api/overview?path=/s");
    expect(r.status).toBe(200);
    const left = readdirSync(cache).sort();
    expect(left).not.toContain(deadDir);
    expect(left).toContain(liveDir);
    expect(left.filter((n) => !n.startsWith("."))).toHaveLength(1);
  });
});
