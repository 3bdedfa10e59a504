/**
 * Downsampling kernels against a brute-force reference: NaN and fill values never count, a cell
 * with no valid input is empty, edge cells cover only what is inside the block, and partial
 * averages of arbitrary (unaligned) blocks add up to the whole.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  accumulateAverage,
  downsample,
  halveAverage,
  type Resampling,
  reducedSize,
} from "../../src/kernels/resample.js";

function cellValues(
  v: number[],
  rows: number,
  cols: number,
  f: number,
  or: number,
  oc: number,
  missing?: number,
): number[] {
  const out: number[] = [];
  for (let r = or * f; r < Math.min(rows, (or + 1) * f); r++)
    for (let c = oc * f; c < Math.min(cols, (oc + 1) * f); c++) {
      const x = v[r * cols + c]!;
      if (!Number.isNaN(x) && x !== missing) out.push(x);
    }
  return out;
}

function reference(
  method: Resampling,
  v: number[],
  rows: number,
  cols: number,
  f: number,
  missing?: number,
): number[] {
  const out: number[] = [];
  for (let or = 0; or < reducedSize(rows, f); or++)
    for (let oc = 0; oc < reducedSize(cols, f); oc++) {
      const xs = cellValues(v, rows, cols, f, or, oc, missing);
      if (method === "nearest") {
        const r = Math.min(rows - 1, or * f + (f >> 1));
        const c = Math.min(cols - 1, oc * f + (f >> 1));
        out.push(v[r * cols + c]!);
      } else if (xs.length === 0) out.push(Number.NaN);
      else if (method === "average") out.push(xs.reduce((a, b) => a + b, 0) / xs.length);
      else if (method === "min") out.push(Math.min(...xs));
      else if (method === "max") out.push(Math.max(...xs));
      else {
        const counts = new Map<number, number>();
        for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
        const best = Math.max(...counts.values());
        out.push(Math.min(...[...counts].filter(([, n]) => n === best).map(([x]) => x)));
      }
    }
  return out;
}

const block = fc
  .record({
    rows: fc.integer({ min: 1, max: 23 }),
    cols: fc.integer({ min: 1, max: 23 }),
    f: fc.integer({ min: 1, max: 6 }),
  })
  .chain(({ rows, cols, f }) =>
    fc.record({
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      f: fc.constant(f),
      values: fc.array(
        fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(Number.NaN), fc.constant(-999)),
        {
          minLength: rows * cols,
          maxLength: rows * cols,
        },
      ),
    }),
  );

describe("downsample", () => {
  it.each(["average", "min", "max", "mode", "nearest"] as Resampling[])(
    "%s matches the brute-force reference",
    (method) => {
      fc.assert(
        fc.property(block, ({ rows, cols, f, values }) => {
          const dst = new Float64Array(reducedSize(rows, f) * reducedSize(cols, f));
          downsample(method, { values: Float64Array.from(values), rows, cols }, f, dst, { missing: -999 });
          const want = reference(method, values, rows, cols, f, -999);
          for (let i = 0; i < want.length; i++) {
            if (Number.isNaN(want[i]!)) expect(dst[i]).toBeNaN();
            else expect(dst[i]).toBeCloseTo(want[i]!, 12);
          }
        }),
        { numRuns: 150 },
      );
    },
  );

  it("a cell is missing only when all its inputs are (NaN and the fill value)", () => {
    const v = Float32Array.from([Number.NaN, -999, 4, Number.NaN, Number.NaN, -999, Number.NaN, Number.NaN]);
    const dst = new Float32Array(2);
    downsample("average", { values: v, rows: 2, cols: 4 }, 2, dst, { missing: -999 });
    // Cell 0 holds only NaN and fill; cell 1 one valid 4 among NaNs.
    expect(dst[0]).toBeNaN();
    expect(dst[1]).toBe(4);
  });

  it("writes `empty` for missing cells when asked (a fill value for integer outputs)", () => {
    const dst = new Int16Array(1);
    downsample("mode", { values: Int16Array.from([-1, -1, -1, -1]), rows: 2, cols: 2 }, 2, dst, {
      missing: -1,
      empty: -1,
    });
    expect(dst[0]).toBe(-1);
  });

  it("rejects a non-integer factor", () => {
    expect(() =>
      downsample("average", { values: new Float32Array(4), rows: 2, cols: 2 }, 1.5, new Float32Array(4)),
    ).toThrow(RangeError);
  });
});

describe("accumulateAverage", () => {
  it("partial sums of unaligned blocks (any split, either row direction) equal the whole average", () => {
    fc.assert(
      fc.property(
        block,
        fc.integer({ min: 1, max: 22 }),
        fc.integer({ min: 1, max: 22 }),
        fc.boolean(),
        ({ rows, cols, f, values }, sr, sc, flip) => {
          const splitR = Math.min(sr, rows);
          const splitC = Math.min(sc, cols);
          const oR = reducedSize(rows, f);
          const oC = reducedSize(cols, f);
          const sum = new Float64Array(oR * oC);
          const count = new Uint32Array(oR * oC);
          const win = { cellRow0: 0, cellCol0: 0, cellRows: oR, cellCols: oC };
          // The grid as stored: flipped rows when `flip` (south-up source, north-up output).
          const stored = flip
            ? Array.from({ length: rows }, (_, r) =>
                values.slice((rows - 1 - r) * cols, (rows - r) * cols),
              ).flat()
            : values;
          for (const [r0, r1] of [
            [0, splitR],
            [splitR, rows],
          ] as const)
            for (const [c0, c1] of [
              [0, splitC],
              [splitC, cols],
            ] as const) {
              if (r1 <= r0 || c1 <= c0) continue;
              const part: number[] = [];
              for (let r = r0; r < r1; r++) part.push(...stored.slice(r * cols + c0, r * cols + c1));
              const row0 = flip ? rows - 1 - r0 : r0;
              accumulateAverage(
                { values: Float64Array.from(part), rows: r1 - r0, cols: c1 - c0 },
                { row0, rowStep: flip ? -1 : 1, col0: c0 },
                f,
                win,
                sum,
                count,
                [-999],
              );
            }
          const want = reference("average", values, rows, cols, f, -999);
          for (let i = 0; i < want.length; i++) {
            if (Number.isNaN(want[i]!)) expect(count[i]).toBe(0);
            else expect(sum[i]! / count[i]!).toBeCloseTo(want[i]!, 12);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("halveAverage (the pyramid's hot kernel)", () => {
  it("equals downsample's average by 2, into an offset and strided destination (rounded for integers)", () => {
    const halves = fc
      .record({ rows: fc.integer({ min: 1, max: 17 }), cols: fc.integer({ min: 1, max: 17 }) })
      .chain(({ rows, cols }) =>
        fc.record({
          rows: fc.constant(rows),
          cols: fc.constant(cols),
          values: fc.array(fc.oneof(fc.integer({ min: -300, max: 300 }), fc.constant(-999)), {
            minLength: rows * cols,
            maxLength: rows * cols,
          }),
          nan: fc.boolean(),
        }),
      );
    fc.assert(
      fc.property(halves, ({ rows, cols, values, nan }) => {
        const outRows = reducedSize(rows, 2);
        const outCols = reducedSize(cols, 2);
        const want = new Float64Array(outRows * outCols);
        // Integers: -999 is the fill value; floats: NaN too.
        const src = nan
          ? Float64Array.from(values, (v) => (v === -999 ? Number.NaN : v))
          : Int16Array.from(values);
        downsample("average", { values: src, rows, cols }, 2, want, { missing: -999, empty: -999 });
        const stride = outCols + 3;
        const got = nan ? new Float64Array(5 + outRows * stride) : new Int16Array(5 + outRows * stride);
        halveAverage(src, rows, cols, got, 5, stride, -999, nan ? Number.NaN : -999, !nan);
        for (let r = 0; r < outRows; r++)
          for (let c = 0; c < outCols; c++) {
            const w = want[r * outCols + c]!;
            const g = got[5 + r * stride + c]!;
            const missing = Number.isNaN(w) || w === -999;
            if (nan) expect(missing ? Number.isNaN(g) : g === w, `${r},${c}`).toBe(true);
            // (+ 0: an integer array stores -0 as 0)
            else expect(g).toBe(missing ? -999 : Math.round(w) + 0);
          }
      }),
    );
  });
});
