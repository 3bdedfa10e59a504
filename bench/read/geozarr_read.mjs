#!/usr/bin/env node
// Our side of the read benchmark: geozarr reads one chunk or a whole array, in process, chunks
// decoded on the worker pool. Same protocol as zarr_python_read.py.
// Usage: node --expose-gc bench/read/geozarr_read.mjs STORE ARRAY chunk|array RUNS reuse|fresh [WORKERS]
import { defaultWorkerCount, openStore, readRegion, WorkerPool } from "../../dist/node.js";

const [store, path, mode, runsArg, alloc, workersArg] = process.argv.slice(2);
const runs = Number(runsArg);
const pool = new WorkerPool(workersArg === undefined ? defaultWorkerCount() : Number(workersArg));

const h0 = await openStore(store);
const { shape, chunkShape: c } = h0.nodes.get(`/${path}`).meta;
const box =
  mode === "chunk"
    ? { start: [0, c[1], c[2]], shape: [1, c[1], c[2]] }
    : { start: shape.map(() => 0), shape: shape.slice() };
const n = box.shape.reduce((a, b) => a * b, 1);
const out = alloc === "reuse" ? new Float64Array(new SharedArrayBuffer(n * 8)) : undefined;

async function read() {
  const h = await openStore(store);
  return readRegion(h, `/${path}`, pool, box, out ? { out } : {});
}

let r;
for (let i = 0; i < 2; i++) r = await read();
const times = [];
for (let i = 0; i < runs; i++) {
  // Free the previous result first, as Python's reference counting does for zarr-python's.
  r = undefined;
  globalThis.gc?.();
  const t = performance.now();
  r = await read();
  times.push((performance.now() - t) / 1000);
}
let checksum = 0;
for (const v of r.data) if (!Number.isNaN(v)) checksum += v;
await pool.close();
console.log(JSON.stringify({ times, bytes: r.data.byteLength, checksum }));
