import { afterAll, describe, expect, it } from "vitest";
import { isGeoZarrError } from "../../src/errors.js";
import { prestartWorkers, spareWorkers, WorkerPool } from "../../src/parallel/pool.js";
import { MemoryStore } from "../../src/zarr/store/memory.js";

const pool = new WorkerPool(2, 3);
afterAll(() => pool.close());

const meta = {
  kind: "array" as const,
  zarrFormat: 3 as const,
  shape: [4],
  chunkShape: [4],
  dataType: "float64" as const,
  endian: "little" as const,
  order: "C" as const,
  fillValue: 7,
  codecs: [{ name: "bytes", configuration: { endian: "little" } }],
  dimensionNames: null,
  attributes: {},
  chunkKeyEncoding: { name: "default" as const, separator: "/" as const },
};

/** A task reading chunk 0 of a missing array (its fill value, 7) into `buffer`. */
const read = (p: WorkerPool, buffer: SharedArrayBuffer) =>
  p.run("read-chunks", {
    store: { kind: "fs", root: "/nonexistent-root" },
    storeName: "s",
    path: "/a",
    meta,
    chunks: [[0]],
    outs: [{ buffer, dataType: "float64", box: { start: [0], shape: [4] } }],
  });

describe("worker pool", () => {
  it("rebuilds GeoZarr errors thrown on a worker with their tag and message", async () => {
    const err = await pool
      .run("read-chunks", {
        store: { kind: "fs", root: "/nonexistent-root" },
        storeName: "broken",
        path: "/a",
        meta: { ...meta, codecs: [{ name: "no-such-codec" }] },
        chunks: [[0]],
        outs: [{ buffer: new SharedArrayBuffer(32), dataType: "float64", box: { start: [0], shape: [4] } }],
      })
      .catch((e) => e);
    expect(isGeoZarrError(err, "Codec")).toBe(true);
    expect(err.message).toBe('broken/a: unknown codec "no-such-codec"');
  });

  it("runs tasks on workers into shared memory (missing chunks read as fill_value)", async () => {
    const buffer = new SharedArrayBuffer(32);
    await read(pool, buffer);
    expect(Array.from(new Float64Array(buffer))).toEqual([7, 7, 7, 7]);
  });

  it("keeps at most `capacity` tasks outstanding when callers wait for a slot", async () => {
    let peak = 0;
    const jobs = [];
    for (let i = 0; i < 12; i++) {
      await pool.slot();
      jobs.push(read(pool, new SharedArrayBuffer(32)));
      peak = Math.max(peak, pool.outstanding);
    }
    await Promise.all(jobs);
    expect(peak).toBeLessThanOrEqual(3);
    expect(pool.outstanding).toBe(0);
  });

  it("runs inline tasks one at a time with a live (in-memory) store", async () => {
    const inline = new WorkerPool(0);
    const store = new MemoryStore();
    const out = new ArrayBuffer(32);
    await inline.run("read-chunks", {
      store: { kind: "live", store },
      storeName: "m",
      path: "/a",
      meta,
      chunks: [[0]],
      outs: [{ buffer: out, dataType: "float64", box: { start: [0], shape: [4] } }],
    });
    expect(Array.from(new Float64Array(out))).toEqual([7, 7, 7, 7]);
  });
});

describe("workers started ahead of their pool", () => {
  it("are adopted by the next pool, which runs tasks on them", async () => {
    prestartWorkers(2, ["read-chunks"]);
    expect(spareWorkers()).toBe(2);
    // Asked again for as many: none more are started.
    prestartWorkers(2);
    expect(spareWorkers()).toBe(2);
    const p = new WorkerPool(2);
    try {
      expect(spareWorkers()).toBe(0);
      const buffer = new SharedArrayBuffer(32);
      await read(p, buffer);
      expect(Array.from(new Float64Array(buffer))).toEqual([7, 7, 7, 7]);
    } finally {
      await p.close();
    }
  });

  it("are not adopted when the environment changed since (the pool's workers see the new one)", async () => {
    prestartWorkers(1);
    expect(spareWorkers()).toBe(1);
    process.env.GEOZARR_FAULT = "task:read-chunks:fail:1";
    const p = new WorkerPool(1);
    try {
      expect(spareWorkers()).toBe(0);
      const err = await read(p, new SharedArrayBuffer(32)).catch((e) => e);
      expect(err.message).toBe("task:read-chunks: injected failure (GEOZARR_FAULT)");
    } finally {
      delete process.env.GEOZARR_FAULT;
      await p.close();
    }
  });
});
