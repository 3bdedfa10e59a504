/**
 * Multiscale levels added to a store in object storage (`geozarr pyramid s3://...`), complete or
 * invisible as an S3 conversion is (convert/s3-output.ts). Object storage has no rename to swap
 * the new store in, so:
 *  1. the store is locked and marked (`.geozarr-partial.json`), as an append is;
 *  2. its hierarchy (the nodes its consolidated metadata names, their documents and chunks) is
 *     downloaded into a local temporary directory and the levels are added there, by the same
 *     code as for a directory (build.ts `addLevels`);
 *  3. the new store is uploaded: every chunk first (the new levels' PUT, level 0's copied by the
 *     server from the dataset's own keys: CopyObject, nothing sent again), then the documents below the root, the root's, and the consolidated metadata
 *     last. Until that last PUT a reader opening through consolidated metadata sees the store as
 *     it was; after it, the pyramid, whose every chunk is already there;
 *  4. the old layout's keys (the arrays that moved to level 0) are deleted, then the marker and
 *     the lock.
 * An interrupted run leaves the old store readable and the marker; the next run starts again
 * (it downloads only what the consolidated metadata names, not the left-overs).
 * The local copy needs disk space for the store and its levels; it is removed at the end.
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderedUploadStore, prepareS3Append } from "../convert/s3-output.js";
import {
  deleteReplaced,
  downloadStore,
  identities,
  namingRemote,
  uploadRebuilt,
} from "../convert/s3-transfer.js";
import { s3Descriptor } from "../zarr/store/location.js";
import { S3Store } from "../zarr/store/s3.js";
import type { PyramidOptions, PyramidSummary } from "./build.js";

/** The plan a pyramid run names in its marker: a later pyramid run may take over what it left. */
const PYRAMID_RUN = "pyramid";

/** Add levels to the store at `url` (s3://bucket/prefix) with `build`, the directory builder. */
export async function addLevelsInS3(
  loc: { bucket: string; prefix: string },
  url: string,
  options: PyramidOptions,
  build: (dir: string, options: PyramidOptions) => Promise<PyramidSummary>,
): Promise<PyramidSummary> {
  const t0 = performance.now();
  const s3 = new S3Store(s3Descriptor(loc));
  const run = await prepareS3Append(s3, PYRAMID_RUN, true);
  const tmp = await mkdtemp(join(tmpdir(), "geozarr-pyramid-"));
  const local = join(tmp, "store.zarr");
  try {
    const downloaded = await downloadStore(s3, local);
    const old = await identities(local, downloaded);
    options.signal?.throwIfAborted();
    const summary = await build(local, options).catch((err: unknown) => {
      throw namingRemote(err, local, url);
    });
    const upload = new OrderedUploadStore(s3);
    // Level 0's chunks are the old chunks, hard-linked: copied by the server, not sent again.
    const written = await uploadRebuilt(s3, local, old, upload);
    options.signal?.throwIfAborted();
    await upload.flush();
    // Readers see the pyramid now: what is left of the old layout is deleted.
    await deleteReplaced(s3, written);
    await run.finish();
    return { ...summary, store: url, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    await run.release();
    throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
