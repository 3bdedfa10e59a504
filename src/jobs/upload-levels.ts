/**
 * The multiscale levels of a run staged in object storage (a time series, a queued or prepared run
 * to s3://), added by its finalize. In a directory the levels are added to the finished staging
 * area and the whole is renamed into place; object storage has neither the staging area nor the
 * rename, so, as `geozarr pyramid s3://...` does (pyramid/s3-build.ts):
 *  1. the documents the finalize wrote (held back, not uploaded: s3-output.ts) are put into a local
 *     temporary directory with the series record, and the chunks the tasks and the finalize PUT
 *     (level 0's at their keys, the levels the tasks computed under `.geozarr-levels/`) are
 *     downloaded beside them: the store a directory run has before its levels;
 *  2. the levels are added there by the directory code (pyramid/build.ts `addLevels`);
 *  3. the result is uploaded: chunks first (level 0's and the computed levels', hard links of the
 *     downloaded files, copied by the server from their keys), then the documents, the
 *     consolidated metadata last; then the keys of the layout before the levels are deleted.
 * Until the consolidated metadata a reader sees no store; a run killed before it keeps its task
 * records (their chunks are still there) and `--resume` (or the finalize again) does this anew.
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderedUploadStore } from "../convert/s3-output.js";
import { S3Staging } from "../convert/s3-staging.js";
import {
  deleteReplaced,
  downloadChunks,
  identities,
  namingRemote,
  uploadRebuilt,
} from "../convert/s3-transfer.js";
import type { RunStaging } from "../convert/staging.js";
import { addLevels, type PyramidOptions, type PyramidSummary } from "../pyramid/build.js";
import { openHierarchy } from "../zarr/hierarchy.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import type { StoreKey } from "../zarr/store/types.js";

/**
 * Add the levels to the finalized run in `staging` (an upload: its documents held, not yet
 * written) and publish it: every chunk, the documents, the consolidated metadata last. `prepare`
 * writes what else the directory run has before its levels (the series record) into the copy.
 */
export async function publishWithLevels(
  staging: RunStaging,
  options: PyramidOptions,
  prepare: (dir: string) => Promise<void>,
): Promise<PyramidSummary> {
  const upload = staging.store();
  if (!(staging instanceof S3Staging) || !(upload instanceof OrderedUploadStore))
    throw new Error(`${staging.where}: levels are published from an upload's own staging`);
  const { s3 } = staging;
  const tmp = await mkdtemp(join(tmpdir(), "geozarr-levels-"));
  const local = join(tmp, "store.zarr");
  try {
    const fs = new FileSystemStore(local);
    for (const [key, bytes] of upload.take()) await fs.set(key, bytes);
    await prepare(local);
    const h = await openHierarchy(fs, { name: s3.url });
    const arrays = [...h.nodes.values()].filter((n) => n.meta.kind === "array").map((n) => n.path);
    const computed = Object.values(options.computed ?? {}).flat();
    const downloaded = await downloadChunks(s3, local, [...arrays, ...computed] as StoreKey[]);
    const old = await identities(local, downloaded);
    options.signal?.throwIfAborted();
    const built = await addLevels(local, options).catch((err: unknown) => {
      throw namingRemote(err, local, s3.url);
    });
    const written = await uploadRebuilt(s3, local, old, upload);
    options.signal?.throwIfAborted();
    await upload.flush();
    // Readers see the store with its levels now: the layout without them goes.
    await deleteReplaced(s3, written);
    return built;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
