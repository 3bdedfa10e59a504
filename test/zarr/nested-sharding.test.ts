/**
 * Nested sharding (GDAL's autotest nested_sharding.zarr layout: a shard's inner chunks sharded
 * again): `info` and `tree` describe it, reading it is one line naming the array (zarrita reads one
 * level of sharding), and nothing overflows the stack (issue 11).
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("nested");
const bytes = { name: "bytes", configuration: { endian: "little" } };
const shard = (chunk: number[], codecs: unknown[]) => ({
  name: "sharding_indexed",
  configuration: { chunk_shape: chunk, codecs, index_codecs: [bytes], index_location: "end" },
});

describe("nested sharding", () => {
  const store = join(dir, "nested.zarr");
  mkdirSync(store, { recursive: true });
  writeFileSync(
    join(store, "zarr.json"),
    JSON.stringify({
      zarr_format: 3,
      node_type: "array",
      shape: [5, 10],
      data_type: "uint16",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [4, 8] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: 0,
      codecs: [shard([2, 4], [shard([1, 2], [bytes])])],
      attributes: {},
    }),
  );

  it("info describes both levels", async () => {
    const r = await runCli("info", store);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Codecs\s+: sharding\(chunks=\[2, 4\]\) \+ sharding\(chunks=\[1, 2\]\)/);
  });

  it("stats refuses it in one line (exit 3)", async () => {
    const r = await runCli("stats", store, "/");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, `${store}/: nested sharding (inner chunks sharded again) is not supported`);
  });
});
