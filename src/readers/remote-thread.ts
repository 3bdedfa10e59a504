/**
 * The helper thread of remote-source.ts: it reads ranges of files in object storage through the
 * project's stores (HttpStore, S3Store: retries with backoff, requests in flight bounded), checks
 * each answer against the file's planned size and version, and hands the bytes back to the waiting
 * thread (posted, then the shared flag set and notified).
 *
 * Ranges of one call are sorted and merged when at most 64 KiB apart (a span at most 8 MiB), as
 * the stores coalesce the ranges of a shard (zarr/store/remote.ts): a segment's adjacent chunks are
 * one GET.
 *
 * @module
 */

import { type MessagePort, workerData } from "node:worker_threads";
import { GeoZarrError, serializeError } from "../errors.js";
import { faultPoint } from "../faults.js";
import type { HttpStore } from "../zarr/store/http.js";
import { storeFromRef } from "../zarr/store/ref.js";
import type { S3Store } from "../zarr/store/s3.js";
import type { RemoteFile } from "./byte-source.js";
import { HEARTBEAT_MS, type Reply, type Request } from "./remote-source.js";

const MAX_GAP = 64 * 1024;
const MAX_SPAN = 8 * 2 ** 20;

const { flag, port } = workerData as { flag: Int32Array; port: MessagePort };

/** The store holding the file, one per descriptor and thread (zarr/store/ref.ts). */
const storeOf = (file: RemoteFile) => storeFromRef(file.store) as HttpStore | S3Store;

function changed(file: RemoteFile, why: string): GeoZarrError {
  return new GeoZarrError("IO", `${file.url}: changed while it was read (${why}); convert it again`, {
    where: file.url,
  });
}

/** One merged range: fetched, checked, counted. */
async function fetchSpan(file: RemoteFile, offset: number, length: number): Promise<Uint8Array> {
  const got = await storeOf(file).getRangeVersioned(file.key, offset, length);
  if (got === undefined) throw changed(file, "it is no longer there");
  if (file.version && got.version !== file.version)
    throw changed(file, `its version was ${file.version}, it is now ${got.version || "unknown"}`);
  if (got.size !== undefined && got.size !== file.size)
    throw changed(file, `it had ${file.size} bytes, it now has ${got.size}`);
  if (got.bytes.length !== length)
    throw changed(file, `${got.bytes.length} bytes came at byte ${offset}, ${length} were asked for`);
  // Shared by postMessage; a file description that went through JSON has lost it (`{}`).
  if (file.fetched instanceof SharedArrayBuffer)
    Atomics.add(new BigInt64Array(file.fetched), 0, BigInt(length));
  return got.bytes;
}

async function serve({ file, ranges }: Request): Promise<ArrayBuffer[]> {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]![0] - ranges[b]![0]);
  const spans: { start: number; end: number; members: number[] }[] = [];
  for (const i of order) {
    const [offset, length] = ranges[i]!;
    const last = spans.at(-1);
    if (
      last &&
      offset - last.end <= MAX_GAP &&
      Math.max(last.end, offset + length) - last.start <= MAX_SPAN
    ) {
      last.end = Math.max(last.end, offset + length);
      last.members.push(i);
    } else spans.push({ start: offset, end: offset + length, members: [i] });
  }
  const out = new Array<ArrayBuffer>(ranges.length);
  await Promise.all(
    spans.map(async (s) => {
      const bytes = await fetchSpan(file, s.start, s.end - s.start);
      for (const i of s.members) {
        const [offset, length] = ranges[i]!;
        // A copy of its own for each range: the buffers are transferred to the waiting thread.
        out[i] = bytes.slice(offset - s.start, offset - s.start + length).buffer;
      }
    }),
  );
  return out;
}

// The waiting thread cannot see this thread's exit event (it is blocked in Atomics.wait): an ending
// thread says so in the flag, and a heartbeat tells it that one killed outright (no exit event, as
// when out of memory) has stopped (remote-source.ts fetchRanges).
process.on("exit", () => {
  Atomics.store(flag, 0, 2);
  Atomics.notify(flag, 0);
});
setInterval(() => Atomics.add(flag, 1, 1), HEARTBEAT_MS).unref();

port.on("message", (req: Request) => {
  faultPoint("remote-read")
    .then(() => serve(req))
    .then(
      (parts) => port.postMessage({ ok: true, parts } satisfies Reply, parts),
      (err) => port.postMessage({ ok: false, error: serializeError(err) } satisfies Reply),
    )
    .finally(() => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
});
