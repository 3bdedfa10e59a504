/**
 * The keys of a remote store (s3://, http(s)://) served under /store/ as files.ts serves a
 * directory's: whole or one byte range (RFC 9110 §14), HEAD, streamed. The bytes come through the
 * store's `getRange` in pieces of 512 KiB, each written with backpressure before the next is
 * read, so a request holds one piece whatever the chunk size (the memory bound of files.ts); a
 * client that goes away stops the reads.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { SizedStore } from "../zarr/store/sizes.js";
import type { ReadableStore, StoreKey } from "../zarr/store/types.js";
import { startBody } from "./http-util.js";

const PIECE = 512 * 1024;

/** Send `key` of `store`; false (nothing sent) when there is no such key. */
export async function serveStoreKey(
  req: IncomingMessage,
  res: ServerResponse,
  store: ReadableStore & SizedStore,
  key: StoreKey,
  type: string,
): Promise<boolean> {
  const size = await store.sizeOf(key);
  if (size === undefined) return false;
  const body = startBody(req, res, size, type);
  if (!body) return true;
  const { start, end } = body;
  let gone = false;
  res.once("close", () => {
    gone = true;
  });
  for (let at = start; at <= end && !gone; at += PIECE) {
    const length = Math.min(PIECE, end + 1 - at);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await store.getRange!(key, { offset: at, length });
    } catch {
      bytes = undefined;
    }
    if (!bytes || bytes.length !== length) {
      // The headers are out: a value that vanished or failed mid-way can only cut the response.
      res.destroy();
      return true;
    }
    if (!res.write(bytes)) await new Promise<void>((ok) => res.once("drain", ok).once("close", ok));
  }
  res.end();
  return true;
}
