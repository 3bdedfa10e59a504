/**
 * The streaming pipeline re-tiles any chunking into any other, in any band mode, without changing
 * a value: a property test over random shapes, source chunks, output chunks, shards and budgets.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { executePlan } from "../../src/convert/execute.js";
import { BufferStock, planCopy } from "../../src/convert/pipeline.js";
import { planZarrCopy } from "../../src/convert/zarr-to-zarr.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { readRegion } from "../../src/parallel/read-region.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { chunkBox, copyBox, gridIndices } from "../../src/zarr/ndarray.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";
import { encodeChunk } from "../../src/zarr/write/encode.js";
import { HierarchyWriter } from "../../src/zarr/write/writer.js";
import { firstDifference } from "../helpers/fixtures.js";

async function sourceStore(shape: number[], chunks: number[], values: Float32Array): Promise<MemoryStore> {
  const store = new MemoryStore();
  const w = new HierarchyWriter(store, 2);
  await w.group("/", {});
  const dims = shape.map((_, i) => `d${i}`);
  await w.array("/v", {
    shape,
    chunkShape: chunks,
    dataType: "float32",
    fillValue: Number.NaN,
    dimensionNames: dims,
    attributes: {},
    codec: { name: "zstd", level: 1 },
  });
  for (const coords of gridIndices(shape.map((n, d) => Math.ceil(n / chunks[d]!)))) {
    const box = chunkBox(coords, chunks, shape);
    const buf = new Float32Array(chunks.reduce((a, b) => a * b, 1)).fill(Number.NaN);
    copyBox(
      values,
      shape,
      box.start,
      buf,
      chunks,
      chunks.map(() => 0),
      box.shape,
    );
    const bytes = await encodeChunk(buf, chunks, {
      dataType: "float32",
      fillValue: Number.NaN,
      codec: { name: "zstd", level: 1 },
    });
    if (bytes) await w.chunk("/v", coords, bytes);
  }
  return store;
}

const caseArb = fc.array(fc.integer({ min: 1, max: 23 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    src: fc.tuple(...shape.map((n) => fc.integer({ min: 1, max: n }))),
    dst: fc.tuple(...shape.map((n) => fc.integer({ min: 1, max: n }))),
    shardFactor: fc.tuple(...shape.map(() => fc.integer({ min: 1, max: 3 }))),
    sharded: fc.boolean(),
    format: fc.constantFrom(2 as const, 3 as const),
    // tiny budgets force the low-memory modes (few unit buffers, unaligned reads)
    budget: fc.constantFrom(16, 256, 4096, 1 << 20),
    holes: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
);

describe("streaming copy (property)", () => {
  it("preserves every value whatever the chunking, shards, format and memory budget", async () => {
    const pool = new WorkerPool(0);
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const values = Float32Array.from({ length: n }, (_, i) =>
          ((i * 7919) % 101) / 10 > c.holes * 10 ? i : Number.NaN,
        );
        const src = await openHierarchy(await sourceStore(c.shape, c.src, values));
        const sizes = Object.fromEntries(c.dst.map((v, i) => [`d${i}`, v]));
        const shards =
          c.sharded && c.format === 3
            ? Object.fromEntries(c.dst.map((v, i) => [`d${i}`, v * c.shardFactor[i]!]))
            : undefined;
        const plan = await planZarrCopy(src, {
          zarrFormat: c.format,
          chunks: sizes,
          shards,
          codec: { name: "zstd", level: 1 },
          useWorkers: false,
        });
        const out = new MemoryStore();
        await executePlan(plan, out, {
          zarrFormat: c.format,
          workers: 0,
          useWorkers: false,
          memoryBudget: c.budget,
        });
        const back = await readRegion(await openHierarchy(out), "/v", pool);
        expect(firstDifference(back.data, values)).toBe(-1);
      }),
      { numRuns: 200, timeout: 10000 },
    );
  });
});

describe("copy planning", () => {
  it("MUR int16 (1, 17999, 36000): aligned segments, a cache of one 1023-row strip, units within the budget", () => {
    const p = planCopy([1, 17999, 36000], [1, 4096, 4096], [1, 1023, 2047], 2, 384 * 2 ** 20);
    expect(p.aligned).toBe(true);
    expect(p.group).toBe(1); // one 4.2 MB source chunk is a segment
    // one strip of source chunks straddling the 4096-row units, and the next column's chunks
    expect(p.cacheBytes).toBe(1023 * 36000 * 2 + 4096 * 2047 * 2);
    expect(p.unitBytes).toBe(4096 * 4096 * 2);
    expect(p.maxUnits).toBe(Math.floor((384 * 2 ** 20 - p.cacheBytes) / p.unitBytes));
  });

  it("no cache when source chunks tile the units", () => {
    const p = planCopy([1, 17999, 36000], [1, 4096, 4096], [1, 4096, 4096], 8, 384 * 2 ** 20);
    expect(p).toMatchObject({ aligned: true, cacheBytes: 0, maxUnits: 3 }); // 128 MiB units
  });

  it("groups small source chunks into segments no wider than a unit", () => {
    expect(planCopy([100, 4096], [10, 1024], [10, 64], 8, 1e9).group).toBe(16);
    expect(planCopy([100, 4096], [10, 4096], [10, 64], 1, 1e9).group).toBe(64);
  });

  it("reads each unit's own box when the cache would not fit", () => {
    expect(planCopy([100, 100], [10, 10], [100, 100], 8, 1000)).toMatchObject({
      aligned: false,
      maxUnits: 2,
    });
  });
});

describe("BufferStock", () => {
  it("hands back the smallest kept buffer that fits (at most twice the size), of the right kind", () => {
    const stock = new BufferStock(1000);
    const a = stock.take(10, true);
    expect(a).toBeInstanceOf(SharedArrayBuffer);
    expect(a.byteLength).toBe(16); // a multiple of 8: any typed view fits
    const b = stock.take(100, true);
    const c = stock.take(50, false);
    expect(c).toBeInstanceOf(ArrayBuffer);
    stock.give(a);
    stock.give(b);
    expect(stock.take(12, true)).toBe(a); // smallest that fits
    expect(stock.take(12, true)).not.toBe(b); // b is more than twice 12 bytes: a new buffer
    stock.give(a);
    expect(stock.take(12, false)).not.toBe(a); // shared and plain buffers are not interchangeable
    expect(stock.take(60, true)).toBe(b);
  });

  it("keeps spares up to its byte cap, letting the smallest go", () => {
    const stock = new BufferStock(200);
    const small = stock.take(16, true);
    const big = [stock.take(96, true), stock.take(96, true)];
    stock.give(small);
    for (const b of big) stock.give(b); // 208 bytes: over the cap, the 16-byte spare is let go
    expect(stock.take(16, true)).not.toBe(small);
    expect(big).toContain(stock.take(96, true));
  });
});
