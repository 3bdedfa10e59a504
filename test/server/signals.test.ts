/**
 * `geozarr serve` stops on SIGINT/SIGTERM even while an overview build runs (issue 10, item 5):
 * a child process, a store whose first overview takes long (640,000 chunk tasks), the signal
 * sent while the build's partial cache directory exists. It must exit (130 for SIGINT, 143 for
 * SIGTERM) with its listener closed and no partial directory left. The wait for the exit is
 * bounded generously: it checks that the server terminates, not how fast.
 */

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { request } from "../helpers/http.js";
import { type ServeChild, startServe } from "../helpers/serve-child.js";
import { tmpDir } from "../helpers/tmp.js";
import { hugeStore, slowStore } from "./stores.js";

const dir = tmpDir("signals");
const children: ServeChild[] = [];
afterAll(() => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
});

const partial = (cache: string) =>
  existsSync(cache) ? readdirSync(cache).filter((n) => n.startsWith(".tmp-")) : [];

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!ok()) throw new Error(`gave up waiting for ${what}`);
}

/** The exit code, or "still running" after a generous bound. */
function exitWithin(c: ServeChild, ms: number): Promise<number | string> {
  return Promise.race([
    c.exit,
    new Promise<string>((ok) => setTimeout(() => ok("still running"), ms).unref()),
  ]);
}

describe("serve on a signal", () => {
  it.each([
    ["SIGTERM", 143, "terminated"],
    ["SIGINT", 130, "interrupted"],
  ] as const)(
    "stops a running overview build on %s, exits %i and leaves no partial cache entry",
    async (sig, code, said) => {
      const cache = join(dir, `cache-${sig}`);
      const c = await startServe(
        slowStore(join(dir, `slow-${sig}.zarr`)),
        "--cache-dir",
        cache,
        "--workers",
        "1",
      );
      children.push(c);
      await until("the build's partial directory", () => partial(cache).length === 1);
      c.child.kill(sig);
      expect(await exitWithin(c, 10_000)).toBe(code);
      expect(partial(cache)).toEqual([]);
      expect(readdirSync(cache)).toEqual([]);
      // One line saying so; the stopped build is not reported as a failure.
      expect(c.stderr()).toBe(`geozarr: ${said}\n`);
      await expect(request(c.url, "/api/store")).rejects.toThrow(/ECONNREFUSED/);
    },
  );

  it("serves a store with a 1e15 x 1e15 array, says why its map is unavailable, and stops on SIGTERM", async () => {
    const cache = join(dir, "cache-huge");
    const c = await startServe(hugeStore(join(dir, "huge.zarr")), "--cache-dir", cache);
    children.push(c);
    const tree = (await request(c.url, "/api/tree")).json<{ children: { name: string }[] }>();
    expect(tree.children.map((n) => n.name)).toEqual(["big"]);
    const node = await request(c.url, "/api/node?path=/big");
    expect(node.status).toBe(200);
    const layers = (await request(c.url, "/api/layers")).json<{
      layers: unknown[];
      skipped: { why: string }[];
    }>();
    expect(layers.layers).toEqual([]);
    expect(layers.skipped[0]!.why).toMatch(
      /^too large for a display overview: 1000000000000000 x 1000000000000000 cells/,
    );
    await until("the log line", () => c.stderr().includes("unavailable"));
    expect(c.stderr()).toBe(`geozarr: warning: the map of /big is unavailable: ${layers.skipped[0]!.why}\n`);
    c.child.kill("SIGTERM");
    expect(await exitWithin(c, 10_000)).toBe(143);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
  });
});
