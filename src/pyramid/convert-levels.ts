/**
 * `convert --multiscales`: the conversion's options that add the pyramid. The first levels are
 * computed from the conversion's own bands while they are in memory (convert/pipeline.ts
 * `CopyJob.halve`: as many as the bands line up with; MUR: levels 1 and 2), so the full-resolution
 * data is not read and decoded a second time; the other levels, and the whole layout, come from
 * `addLevels` (pyramid/build.ts) before the output is moved into place. A source with levels of its
 * own (a COG's overviews) hands them over instead: they become levels 1..n as they are.
 * @module
 */

import type { ConvertOptions } from "../convert/convert.js";
import { addLevels, type PyramidOptions, type PyramidSummary, validatePyramidOptions } from "./build.js";
import { DEFAULT_TILE_SIZE, methodFor } from "./levels.js";
import type { Resampling } from "./resample.js";

/** Where the conversion leaves its levels for `addLevels` to adopt (dropped with the old store). */
const LEVELS_PREFIX = "/.geozarr-levels";

export function multiscaleConversion(
  zarrFormat: 2 | 3,
  options: PyramidOptions,
  done: (s: PyramidSummary) => void,
): Pick<ConvertOptions, "spatialChunk" | "halve" | "finish"> {
  validatePyramidOptions(options);
  const tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
  const method = (options.resampling ?? "average") as Resampling;
  return {
    // GeoZarr v0.4 wants tiles to match chunks at every level, full resolution included.
    spatialChunk: zarrFormat === 2 && !options.tms ? tileSize : undefined,
    // WebMercatorQuad levels are reprojected, not halvings of the conversion's bands.
    halve: options.tms
      ? undefined
      : {
          prefix: LEVELS_PREFIX,
          tileSize,
          maxLevels: options.levels,
          method: (attrs) => methodFor(attrs, method),
        },
    finish: async (dir, written, sourced) => {
      const computed = Object.fromEntries(
        written.arrays.filter((a) => a.halved).map((a) => [a.path, a.halved!] as const),
      );
      done(await addLevels(dir, { ...options, computed, sourced }));
    },
  };
}
