import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkKey } from "../../src/zarr/metadata/model.js";
import {
  chunkBox,
  chunksOverlapping,
  copyBox,
  gridIndices,
  intersect,
  stridesOf,
} from "../../src/zarr/ndarray.js";

/** Naive reference: element by element. */
function copyRef(
  src: Float64Array,
  ss: number[],
  s0: number[],
  dst: Float64Array,
  ds: number[],
  d0: number[],
  count: number[],
) {
  const sst = stridesOf(ss);
  const dst_ = stridesOf(ds);
  for (const idx of gridIndices(count)) {
    let a = 0;
    let b = 0;
    idx.forEach((i, d) => {
      a += (i + s0[d]!) * sst[d]!;
      b += (i + d0[d]!) * dst_[d]!;
    });
    dst[b] = src[a]!;
  }
}

const shapeAndBox = fc
  .array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(
        ...shape.map((n) =>
          fc
            .integer({ min: 0, max: n - 1 })
            .chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: n - s }))),
        ),
      ),
    ),
  );

describe("copyBox (property)", () => {
  it("copies exactly the box, as an element-by-element reference does", () => {
    fc.assert(
      fc.property(shapeAndBox, shapeAndBox, ([ss, sbox], [ds, dbox]) => {
        if (ss.length !== ds.length) return true;
        const count = sbox.map(([, c], d) => Math.min(c, dbox[d]![1]));
        const src = Float64Array.from({ length: ss.reduce((a, b) => a * b, 1) }, (_, i) => i + 1);
        const a = new Float64Array(ds.reduce((x, y) => x * y, 1));
        const b = new Float64Array(a.length);
        copyBox(
          src,
          ss,
          sbox.map(([s]) => s),
          a,
          ds,
          dbox.map(([s]) => s),
          count,
        );
        copyRef(
          src,
          ss,
          sbox.map(([s]) => s),
          b,
          ds,
          dbox.map(([s]) => s),
          count,
        );
        expect(Array.from(a)).toEqual(Array.from(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe("chunk indexing (property)", () => {
  const grid = fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 9 })), {
    minLength: 1,
    maxLength: 3,
  });

  it("chunks overlapping a box tile it exactly once", () => {
    fc.assert(
      fc.property(grid, fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), (dims, seeds) => {
        const shape = dims.map(([n]) => n);
        const chunks = dims.map(([, c]) => c);
        const start = shape.map((n, d) => (n === 0 ? 0 : seeds[d]! % n));
        const box = { start, shape: shape.map((n, d) => Math.min(n - start[d]!, 1 + (seeds[d]! % 13))) };
        let covered = 0;
        for (const coords of chunksOverlapping(box, chunks)) {
          const part = intersect(chunkBox(coords, chunks, shape), box);
          expect(part).not.toBeNull();
          covered += part!.shape.reduce((a, b) => a * b, 1);
        }
        expect(covered).toBe(box.shape.reduce((a, b) => a * b, 1));
      }),
      { numRuns: 500 },
    );
  });

  it("edge chunks are clipped to the array", () => {
    expect(chunkBox([3, 2], [10, 16], [37, 53])).toEqual({ start: [30, 32], shape: [7, 16] });
    expect(chunkBox([3, 3], [10, 16], [37, 53])).toEqual({ start: [30, 48], shape: [7, 5] });
  });

  it("chunk keys follow the v2 and v3 default encodings", () => {
    expect(chunkKey({ name: "v2", separator: "." }, [0, 3, 7])).toBe("0.3.7");
    expect(chunkKey({ name: "v2", separator: "/" }, [0, 3, 7])).toBe("0/3/7");
    expect(chunkKey({ name: "v2", separator: "." }, [])).toBe("0");
    expect(chunkKey({ name: "default", separator: "/" }, [0, 3, 7])).toBe("c/0/3/7");
    expect(chunkKey({ name: "default", separator: "/" }, [])).toBe("c");
  });
});
