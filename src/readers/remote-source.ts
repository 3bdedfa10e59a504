/**
 * A file in object storage as a synchronous {@link ByteSource}: the reads run on a helper thread
 * (remote-thread.ts, through the project's HttpStore / S3Store with their retries and bounded
 * concurrency) while the calling thread waits on a SharedArrayBuffer with `Atomics.wait`, and the
 * answer is taken with `receiveMessageOnPort` (the buffers transferred, not copied). One helper per
 * thread that reads remote files, started on first use, never keeping the process alive.
 *
 * Small reads (h5wasm's structure walk: superblock, object headers, B-tree nodes, heaps, attributes)
 * go through an aligned block cache, 64 KiB blocks, 32 MiB per thread at most (least recently used
 * dropped), so HDF5's many small reads become a few GETs (docs/design.md "Object storage": the
 * sizes tried); reads over 256 KiB are fetched as they are. Chunk reads (`readParts`) bypass it:
 * a segment's chunks are asked for in one call, fetched in parallel (remote-thread.ts).
 *
 * Every response is checked against the size and version (ETag) the file was planned from: an object
 * replaced while it is read is an error naming the URL, never bytes of two versions mixed.
 *
 * @module
 */

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { deserializeError, GeoZarrError, type SerializedError } from "../errors.js";
import type { ByteSource, RemoteFile } from "./byte-source.js";

const BLOCK = 64 * 1024;
const CACHE_BYTES = 32 * 2 ** 20;
/** How often the helper thread beats (remote-thread.ts); the waiter checks at 5 times that. */
export const HEARTBEAT_MS = 1000;
/** Beats missed before a helper that does not answer is taken for dead: far above any scheduling delay. */
const DEAD_AFTER_MS = 60_000;

export type Reply = { ok: true; parts: ArrayBuffer[] } | { ok: false; error: SerializedError };
export interface Request {
  file: RemoteFile;
  /** [offset, length] pairs, within the file. */
  ranges: [number, number][];
}

interface Bridge {
  worker: Worker;
  port: MessagePort;
  flag: Int32Array;
}

let bridge: Bridge | undefined;

/**
 * The helper thread: the compiled remote-thread.js beside this module, or, from the TypeScript
 * sources (tests), remote-thread.ts through tsx (as parallel/pool.ts starts its workers: Node 20
 * ignores `--import` in a worker's execArgv).
 */
function startBridge(): Bridge {
  // [0]: 0 while a call is out, 1 answered, 2 the helper ended; [1]: the helper's heartbeat.
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const workerData = { geozarr: true, flag, port: port2 };
  const options = { workerData, transferList: [port2] };
  let worker: Worker;
  if (!import.meta.url.endsWith(".ts"))
    worker = new Worker(new URL("./remote-thread.js", import.meta.url), options);
  else {
    const tsx = import.meta.resolve("tsx/esm/api");
    const entry = new URL("./remote-thread.ts", import.meta.url).href;
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    worker = new Worker(boot, { ...options, eval: true });
  }
  worker.unref();
  port1.unref();
  return { worker, port: port1, flag };
}

/** Close this thread's helper (tests; a thread's helper otherwise ends with it). */
export async function closeBridge(): Promise<void> {
  const b = bridge;
  bridge = undefined;
  if (b) {
    b.port.close();
    await b.worker.terminate();
  }
}

/** Fetch the ranges of `file` on the helper thread, waiting here for all of them. */
function fetchRanges(file: RemoteFile, ranges: [number, number][]): Uint8Array[] {
  if (ranges.length === 0) return [];
  bridge ??= startBridge();
  const b = bridge;
  Atomics.store(b.flag, 0, 0);
  b.port.postMessage({ file, ranges } satisfies Request);
  // No time limit on the reads (the helper's requests have retries and end in a reply or an error);
  // only a helper that ended, or stopped beating (killed outright), ends the wait.
  let beat = Atomics.load(b.flag, 1);
  let silent = 0;
  while (Atomics.load(b.flag, 0) === 0) {
    if (Atomics.wait(b.flag, 0, 0, 5 * HEARTBEAT_MS) !== "timed-out") continue;
    const now = Atomics.load(b.flag, 1);
    silent = now === beat ? silent + 5 * HEARTBEAT_MS : 0;
    beat = now;
    if (silent >= DEAD_AFTER_MS) Atomics.store(b.flag, 0, 2);
  }
  if (Atomics.load(b.flag, 0) === 2) {
    bridge = undefined;
    void b.worker.terminate();
    throw new GeoZarrError("IO", `${file.url}: the thread reading it ended before answering`, {
      where: file.url,
    });
  }
  const reply = receiveMessageOnPort(b.port)?.message as Reply | undefined;
  if (!reply)
    throw new GeoZarrError("IO", `${file.url}: the reading thread gave no answer`, { where: file.url });
  if (!reply.ok) throw deserializeError(reply.error);
  return reply.parts.map((p) => new Uint8Array(p));
}

/** Blocks cached on this thread, by file, version and block number, the most recently used last. */
const blocks = new Map<string, Uint8Array>();
let cachedBytes = 0;

function cacheBlock(id: string, bytes: Uint8Array): void {
  blocks.set(id, bytes);
  cachedBytes += bytes.length;
  for (const [k, v] of blocks) {
    if (cachedBytes <= CACHE_BYTES) break;
    blocks.delete(k);
    cachedBytes -= v.length;
  }
}

/** A remote file read through this thread's helper (its size and version are the planned ones). */
export function remoteSource(file: RemoteFile): ByteSource {
  const idOf = (n: number) => `${file.url}\0${file.version}\0${n}`;
  const blockLength = (n: number) => Math.min(BLOCK, file.size - n * BLOCK);
  const read = (into: Uint8Array, position: number): number => {
    const end = Math.min(file.size, position + into.length);
    if (position >= end) return 0;
    if (end - position > 4 * BLOCK) {
      // Large reads (h5wasm reading chunks it decodes itself) are not cached: they are not read twice.
      into.set(fetchRanges(file, [[position, end - position]])[0]!);
      return end - position;
    }
    const first = Math.floor(position / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    const missing: number[] = [];
    for (let n = first; n <= last; n++) if (!blocks.has(idOf(n))) missing.push(n);
    const fetched = fetchRanges(
      file,
      missing.map((n) => [n * BLOCK, blockLength(n)]),
    );
    for (const [i, n] of missing.entries()) cacheBlock(idOf(n), fetched[i]!);
    for (let n = first; n <= last; n++) {
      // Looked up again: a block fetched now may have pushed an older one out (the cache is bounded).
      const kept = blocks.get(idOf(n));
      if (kept) {
        blocks.delete(idOf(n));
        blocks.set(idOf(n), kept); // most recently used last
      }
      const block = kept ?? fetched[missing.indexOf(n)]!;
      const from = Math.max(position, n * BLOCK);
      const to = Math.min(end, (n + 1) * BLOCK);
      into.set(block.subarray(from - n * BLOCK, to - n * BLOCK), from - position);
    }
    return end - position;
  };
  return {
    name: file.url,
    size: file.size,
    version: file.version,
    read,
    readParts(parts) {
      const clipped = parts.map(
        (p) => [p.position, Math.max(0, Math.min(p.into.length, file.size - p.position))] as [number, number],
      );
      const wanted = clipped.filter(([, n]) => n > 0);
      const got = fetchRanges(file, wanted);
      let k = 0;
      return parts.map((p, i) => {
        if (clipped[i]![1] === 0) return 0;
        const bytes = got[k++]!;
        p.into.set(bytes);
        return bytes.length;
      });
    },
    // A segment's chunks in one call, within bounded memory (hdf5-direct.ts).
    batchBytes: 64 * 2 ** 20,
    close: () => undefined,
  };
}
