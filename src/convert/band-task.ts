/**
 * Task "read-band": read one segment of a source variable (aligned to the source's own chunks, so
 * each source chunk is decoded once) into the band buffers it overlaps.
 * @module
 */

import type { Box } from "../zarr/ndarray.js";
import type { BandRef } from "./encode-task.js";
import { readSourceInto, type SourceRef } from "./source.js";

export interface ReadBandInput {
  source: SourceRef;
  segment: Box;
  bands: BandRef[];
}

export async function run(input: ReadBandInput): Promise<{ output: number }> {
  return { output: await readSourceInto(input.source, input.segment, input.bands) };
}
