/**
 * geozarr reads what zarr-python writes: every codec, filter, layout, byte order, data type and
 * fill value of scripts/fixtures/zarr_python_stores.py, compared value by value.
 */

import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/node.js";
import { WorkerPool } from "../../src/parallel/pool.js";
import { readRegion } from "../../src/parallel/read-region.js";
import {
  arrayMeta,
  expectedValues,
  firstDifference,
  zarrPythonDir,
  zarrPythonManifest,
} from "../helpers/fixtures.js";

const manifest = zarrPythonManifest();
const pools = { inline: new WorkerPool(0), workers: new WorkerPool(2) };
afterAll(async () => {
  await pools.workers.close();
});

describe("reading zarr-python v2 stores", () => {
  for (const e of manifest) {
    for (const [mode, pool] of Object.entries(pools)) {
      it(`${e.store}${e.path} (${mode})`, async () => {
        const h = await openStore(join(zarrPythonDir(), e.store));
        expect(arrayMeta(h, e.path).shape).toEqual(e.shape);
        const { data, shape } = await readRegion(h, e.path, pool);
        expect(shape).toEqual(e.shape);
        const want = expectedValues(e);
        expect(data.constructor.name).toBe(want.constructor.name);
        expect(firstDifference(data, want)).toBe(-1);
      });
    }
  }

  it("reads a sub-box across chunk boundaries", async () => {
    const e = manifest.find((m) => m.store === "zstd.f8.zarr")!;
    const h = await openStore(join(zarrPythonDir(), e.store));
    const box = { start: [3, 7], shape: [20, 30] };
    const { data } = await readRegion(h, e.path, pools.workers, box);
    const want = expectedValues(e) as Float64Array;
    const ref = new Float64Array(600);
    for (let i = 0; i < 20; i++)
      for (let j = 0; j < 30; j++) ref[i * 30 + j] = want[(i + 3) * e.shape[1]! + j + 7]!;
    expect(firstDifference(data, ref)).toBe(-1);
  });

  it("records bare NaN/Infinity tokens as non-standard JSON and still reads the store", async () => {
    const h = await openStore(join(zarrPythonDir(), "bare-nan.f8.zarr"));
    expect(h.source).toBe("consolidated");
    const pointers = h.nonStandardJson.map((t) => `${t.key}#${t.pointer}`);
    expect(pointers).toEqual(
      expect.arrayContaining([
        "/.zmetadata#/metadata/data~1.zattrs/missing_value",
        "/.zmetadata#/metadata/data~1.zattrs/valid_range/0",
        "/.zmetadata#/metadata/data~1.zattrs/valid_range/1",
      ]),
    );
    const node = h.nodes.get("/data")!;
    expect(node.meta.attributes.missing_value).toBeNaN();
    expect(node.meta.attributes.valid_range).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
  });

  it("lists a hierarchy the same with and without consolidated metadata", async () => {
    const a = await openStore(join(zarrPythonDir(), "hierarchy-consolidated.zarr"));
    const b = await openStore(join(zarrPythonDir(), "hierarchy-listed.zarr"));
    expect(a.source).toBe("consolidated");
    expect(b.source).toBe("listing");
    expect([...a.nodes.keys()]).toEqual(["/", "/a", "/a/b", "/a/b/c", "/a/b/c/x", "/a/t", "/scalar"]);
    expect([...b.nodes.keys()]).toEqual([...a.nodes.keys()]);
    expect(a.nodes.get("/a")!.meta.attributes).toEqual({ level: 1 });
    expect(arrayMeta(a, "/scalar").shape).toEqual([]);
  });
});
