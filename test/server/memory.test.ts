/**
 * Memory stays bounded however many clients read large files at once (issue 10): `geozarr serve`
 * as a child process, a store with one 32 MB chunk, rounds of 200 concurrent range requests for
 * the whole chunk with a client that reads every body; the server's peak resident memory
 * (VmHWM) must stay under 500 MB. When each file was read whole into memory this reached 3.5 GB.
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { peakRss, rangeRounds, type ServeChild, startServe } from "../helpers/serve-child.js";
import { tmpDir } from "../helpers/tmp.js";
import { blobStore } from "./stores.js";

const SIZE = 32 * 1024 * 1024;
const CONCURRENT = 200;
const ROUNDS = 2;

let serve: ServeChild | undefined;
afterAll(() => {
  serve?.child.kill("SIGKILL");
});

it("serves 200 concurrent 32 MB range requests with a peak RSS under 500 MB", async () => {
  const blob = blobStore(join(tmpDir("memory"), "blob.zarr"), SIZE);
  const want = createHash("sha256").update(blob.chunk).digest("hex");
  serve = await startServe(blob.dir, "--no-cache", "--workers", "0");
  const url = new URL(serve.url);
  const before = peakRss(serve.child.pid!);
  await rangeRounds(url, `/store/${blob.key}`, SIZE, CONCURRENT, ROUNDS, want);
  const peak = peakRss(serve.child.pid!);
  // 12.8 GB went through; the server held a few buffers per connection.
  expect(peak).toBeLessThan(500 * 1024 * 1024);
  console.log(
    `server peak RSS ${(peak / 2 ** 20).toFixed(0)} MB (${(before / 2 ** 20).toFixed(0)} MB at start)`,
  );
}, 600_000);
