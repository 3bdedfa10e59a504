/**
 * The inspector's memory bound holds for a remote store too: `geozarr serve` on a store over HTTP
 * (nginx), 100 concurrent range requests for a 32 MB chunk, read through the store in
 * pieces (server/remote-files.ts); the server's peak RSS (VmHWM) stays under 500 MB, bodies exact.
 */

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { useCloud } from "../helpers/cloud.js";
import { peakRss, rangeRounds, type ServeChild, startServe } from "../helpers/serve-child.js";
import { blobStore } from "../server/stores.js";

const SIZE = 32 * 1024 * 1024;
// Lighter than test/server/memory.test.ts (it may run beside it): whole-chunk buffering would still
// take 100 x 32 MB.
const CONCURRENT = 100;
const ROUNDS = 1;
const cloud = useCloud("serve-memory");

let serve: ServeChild | undefined;
afterAll(() => {
  serve?.child.kill("SIGKILL");
});

it("serves 100 concurrent 32 MB range requests of a store over HTTP with a peak RSS under 500 MB", async () => {
  const blob = blobStore(join(cloud.http.root, "blob.zarr"), SIZE);
  // Over HTTP the store opens through consolidated metadata.
  const root = JSON.parse(readFileSync(join(blob.dir, "zarr.json"), "utf8"));
  const array = JSON.parse(readFileSync(join(blob.dir, "blob", "zarr.json"), "utf8"));
  root.consolidated_metadata = { kind: "inline", must_understand: false, metadata: { blob: array } };
  writeFileSync(join(blob.dir, "zarr.json"), JSON.stringify(root));
  const want = createHash("sha256").update(blob.chunk).digest("hex");
  serve = await startServe(cloud.httpUrl("blob.zarr"), "--no-cache", "--workers", "0");
  const url = new URL(serve.url);
  await rangeRounds(url, `/store/${blob.key}`, SIZE, CONCURRENT, ROUNDS, want);
  const peak = peakRss(serve.child.pid!);
  expect(peak).toBeLessThan(500 * 1024 * 1024);
  console.log(`server peak RSS ${(peak / 2 ** 20).toFixed(0)} MB (remote store)`);
}, 600_000);
