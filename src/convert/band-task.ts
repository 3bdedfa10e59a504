/**
 * Task "read-band": read one segment of a source variable (aligned to the source's own chunks, so
 * each source chunk is decoded once) and copy it into the band buffers it overlaps.
 * @module
 */

import { viewAs } from "../zarr/dtype.js";
import { type Box, copyBox, intersect } from "../zarr/ndarray.js";
import type { BandRef } from "./encode-task.js";
import { readSourceBox, type SourceRef } from "./source.js";

export interface ReadBandInput {
  source: SourceRef;
  segment: Box;
  bands: BandRef[];
}

export async function run(input: ReadBandInput): Promise<{ output: number }> {
  const { segment } = input;
  const values = await readSourceBox(input.source, segment);
  for (const band of input.bands) {
    const part = intersect(segment, band.box);
    if (!part) continue;
    copyBox(
      values,
      segment.shape,
      part.start.map((s, d) => s - segment.start[d]!),
      viewAs(band.dataType, new Uint8Array(band.buffer)),
      band.box.shape,
      part.start.map((s, d) => s - band.box.start[d]!),
      part.shape,
    );
  }
  return { output: values.byteLength };
}
