/**
 * Element-wise transforms applied between the source values and the stored values.
 *
 * - identity: values are stored as read (same data type).
 * - unpack: CF packed integers decoded as xarray's mask_and_scale does (CF §8.1, §2.5.1): values
 *   equal to `_FillValue` or `missing_value` become NaN, the others `raw * scale_factor + add_offset`,
 *   stored as float32 or float64.
 *
 * @module
 */

import type { AnyTypedArray } from "../zarr/dtype.js";

export type Transform =
  | { kind: "identity" }
  | { kind: "unpack"; scale: number; offset: number; missing: number[] };

export const IDENTITY: Transform = { kind: "identity" };

/** Apply `t` from `src` into `dst` (same length). */
export function applyTransform(t: Transform, src: AnyTypedArray, dst: AnyTypedArray): void {
  if (t.kind === "identity") {
    (dst as Float64Array).set(src as Float64Array);
    return;
  }
  const s = src as unknown as ArrayLike<number>;
  const d = dst as Float64Array;
  const { scale, offset, missing } = t;
  const n = s.length;
  if (missing.length === 0) {
    for (let i = 0; i < n; i++) d[i] = s[i]! * scale + offset;
  } else if (missing.length === 1) {
    const m = missing[0]!;
    for (let i = 0; i < n; i++) {
      const v = s[i]!;
      d[i] = v === m ? Number.NaN : v * scale + offset;
    }
  } else {
    const set = new Set(missing);
    for (let i = 0; i < n; i++) {
      const v = s[i]!;
      d[i] = set.has(v) ? Number.NaN : v * scale + offset;
    }
  }
}
