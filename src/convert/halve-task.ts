/**
 * Task "halve-band": a band of the conversion pipeline reduced by 2 along its two last dimensions
 * (Y and X), into a band of multiscale level 1 (convert/pipeline.ts `CopyJob.halve`), with the
 * level's resampling method; missing values (NaN, the fill value) never enter a statistic.
 * Integers (packed data, flags) are rounded to the nearest: averaging the decoded values and
 * re-packing them, since CF unpacking is linear.
 * @module
 */

import { downsample, halveAverage, type Resampling } from "../kernels/resample.js";
import { integerRange, viewAs } from "../zarr/dtype.js";
import type { FillValue } from "../zarr/fill-value.js";
import { product } from "../zarr/metadata/model.js";
import type { BandRef } from "./encode-task.js";

export interface HalveBandInput {
  band: BandRef;
  out: BandRef;
  method: Resampling;
  missing: FillValue;
  /** Only these output rows of every plane (so one band is halved by several workers at once). */
  rows: [number, number];
}

export async function run(input: HalveBandInput): Promise<{ output: null }> {
  const { band, out, method } = input;
  const nd = band.box.shape.length;
  const [rows, cols] = band.box.shape.slice(-2) as [number, number];
  const [outRows, outCols] = out.box.shape.slice(-2) as [number, number];
  const src = viewAs(band.dataType, new Uint8Array(band.buffer)) as Float64Array;
  const dst = viewAs(out.dataType, new Uint8Array(out.buffer)) as Float64Array;
  const fill = typeof input.missing === "number" ? input.missing : Number.NaN;
  const round = integerRange(out.dataType) !== null;
  const planes = product(band.box.shape.slice(0, nd - 2));
  const reduced = method === "average" ? null : new Float64Array((input.rows[1] - input.rows[0]) * outCols);
  const [r0, r1] = input.rows;
  const inRows = Math.min(rows, 2 * r1) - 2 * r0;
  for (let p = 0; p < planes; p++) {
    const values = src.subarray((p * rows + 2 * r0) * cols, (p * rows + 2 * r0 + inRows) * cols);
    const at = (p * outRows + r0) * outCols;
    if (!reduced) {
      halveAverage(values, inRows, cols, dst, at, outCols, fill, fill, round);
      continue;
    }
    downsample(method, { values, rows: inRows, cols }, 2, reduced, {
      missing: Number.isNaN(fill) ? undefined : fill,
      empty: fill,
    });
    const n = (r1 - r0) * outCols;
    for (let i = 0; i < n; i++) {
      const v = reduced[i]!;
      dst[at + i] = round && !Number.isNaN(v) ? Math.round(v) : v;
    }
  }
  return { output: null };
}
