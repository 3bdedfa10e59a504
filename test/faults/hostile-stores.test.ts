/**
 * Fault corpus, hostile and corrupt stores: each is refused with one line and exit 3, or read
 * completely and correctly; never a crash, a hang, a stack trace or a silent wrong answer.
 */

import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { zarrPythonDir } from "../helpers/fixtures.js";
import { treeFingerprint } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const root = tmpDir("faults-hostile");
const SAMPLE = "examples/data/mur_small.nc";

function json(path: string, doc: unknown): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(doc));
}

/** A v3 store with one float32 array `a` of `shape`, chunks `chunks`, and the given chunks stored. */
function v3Store(
  name: string,
  shape: (number | string)[],
  chunks: number[],
  stored: Record<string, Float32Array> = {},
) {
  const dir = join(root, name);
  json(join(dir, "zarr.json"), { zarr_format: 3, node_type: "group", attributes: {} });
  // shape entries given as strings are written as bare JSON integers (beyond what JSON.stringify keeps)
  const doc = JSON.stringify({
    zarr_format: 3,
    node_type: "array",
    shape: shape.map((s) => (typeof s === "string" ? `@${s}@` : s)),
    data_type: "float32",
    chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    // CF declares the fill as missing: a v3 fill_value alone is data (docs/design.md, "Fill values")
    attributes: { _FillValue: 0 },
  }).replace(/"@(\d+)@"/g, "$1");
  mkdirSync(join(dir, "a"), { recursive: true });
  writeFileSync(join(dir, "a", "zarr.json"), doc);
  for (const [key, values] of Object.entries(stored)) {
    mkdirSync(join(dir, "a", key, ".."), { recursive: true });
    writeFileSync(join(dir, "a", key), new Uint8Array(values.buffer));
  }
  return dir;
}

/** The bundled sample converted to v3, consolidated metadata removed so that stores are walked. */
async function walkedSample(name: string): Promise<string> {
  const dir = join(root, name);
  expect((await runCli("convert", SAMPLE, dir)).code).toBe(0);
  const rootDoc = JSON.parse(readFileSync(join(dir, "zarr.json"), "utf8"));
  delete rootDoc.consolidated_metadata;
  writeFileSync(join(dir, "zarr.json"), JSON.stringify(rootDoc));
  return dir;
}

describe("hostile metadata", () => {
  it("JSON nested 100,000 levels deep: one line for info, stats, tree and convert", async () => {
    const dir = await walkedSample("deep");
    const doc = readFileSync(join(dir, "time", "zarr.json"), "utf8");
    writeFileSync(
      join(dir, "time", "zarr.json"),
      doc.replace(
        /}\s*$/,
        `, "x": {"must_understand": false, "v": ${"[".repeat(100_000)}${"]".repeat(100_000)}}}`,
      ),
    );
    const before = treeFingerprint(dir);
    for (const args of [
      ["info", dir],
      ["stats", dir, "time"],
      ["tree", dir],
      ["convert", dir, join(root, "deep-out")],
    ]) {
      const r = await runCli(...args);
      expect(r.code).toBe(3);
      expectOneLine(r.stderr, /deep\/time\/zarr\.json: invalid JSON: nested deeper than 512 levels/);
    }
    expect(existsSync(join(root, "deep-out"))).toBe(false);
    expect(treeFingerprint(dir)).toEqual(before);
  });

  it("a metadata document larger than 256 MiB is refused before it is read", async () => {
    const dir = v3Store("bigdoc", [4], [4]);
    truncateSync(join(dir, "a", "zarr.json"), 300 * 2 ** 20); // sparse: no 300 MB written
    const r = await runCli("info", dir, "a");
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /bigdoc\/a\/zarr\.json: metadata document of 300 MiB is larger than the 256 MiB accepted/,
    );
  });

  it("a shape of 2^64 is one line, not a BigInt crash", async () => {
    const dir = v3Store("bigint", ["18446744073709551616", 10], [1000, 10]);
    for (const args of [
      ["info", dir, "a"],
      ["stats", dir, "a"],
      ["convert", dir, join(root, "bigint-out")],
    ]) {
      const r = await runCli(...args);
      expect(r.code).toBe(3);
      expectOneLine(
        r.stderr,
        /bigint\/a\/zarr\.json: "shape"\[0\] is 18446744073709551616, more than the largest length supported here \(2\^53 - 1\)/,
      );
    }
  });

  it("a chunk too large to decode in bounded memory is refused up front", async () => {
    const dir = v3Store("hugechunk", [100_000, 100_000], [100_000, 100_000]);
    for (const args of [
      ["stats", dir, "a"],
      ["convert", dir, join(root, "hugechunk-out")],
    ]) {
      const r = await runCli(...args);
      expect(r.code).toBe(3);
      expectOneLine(
        r.stderr,
        /a: a chunk of \(100000, 100000\) float32 is 37\.3 GiB decoded, more than the 2 GiB a chunk may have here/,
      );
    }
    expect(existsSync(join(root, "hugechunk-out"))).toBe(false);
  });
});

describe("a sparse array declared astronomically large", () => {
  const ones = new Float32Array(1000 * 1000).fill(1.5);
  const mk = () =>
    v3Store("sparse", [1e15, 1e15], [1000, 1000], {
      "c/0/0": ones,
      "c/123456789/987654321": ones.map((_, i) => i % 7),
    });

  it("stats reads only the stored chunks and counts the rest exactly", async () => {
    const r = await runCli("stats", mk(), "a", "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.elements).toBe(1e30); // exact digits in the JSON text:
    expect(r.stdout).toMatch(/"elements": 1000000000000000000000000000000,/);
    expect(s.valid).toBe(1_000_000 + 857_142); // fill 0 is missing; i % 7 == 0 are zeros
    expect(r.stdout).toMatch(/"missing": 999999999999999999999998142858,/);
    expect(s.min).toBe(1);
    expect(s.max).toBe(6);
  });

  it("convert writes every stored chunk, and the output reads the same", async () => {
    const src = mk();
    const out = join(root, "sparse-out.zarr");
    const r = await runCli("convert", src, out, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).arrays[0]).toMatchObject({ chunksWritten: 2, chunksSkipped: 0 });
    const a = await runCli("stats", src, "a", "--json");
    const b = await runCli("stats", out, "a", "--json");
    expect(b.stdout).toBe(a.stdout);
  });
});

describe("corrupt chunks and shard indexes", () => {
  it("a shard index whose entries were swapped fails its crc32c: exit 3 naming the shard, no output", async () => {
    const dir = join(root, "sharded.zarr");
    expect(
      (await runCli("convert", SAMPLE, dir, "--chunks", "lat=128,lon=128", "--shard", "lat=512,lon=512"))
        .code,
    ).toBe(0);
    const shard = join(dir, "analysed_sst", "c", "0", "0", "0");
    const bytes = readFileSync(shard);
    const n = 16; // 4 x 4 inner chunks, (offset, length) uint64 pairs, then the crc32c
    const at = bytes.length - (n * 16 + 4);
    const e5 = Buffer.from(bytes.subarray(at + 5 * 16, at + 6 * 16));
    bytes.copy(bytes, at + 5 * 16, at + 6 * 16, at + 7 * 16);
    e5.copy(bytes, at + 6 * 16);
    writeFileSync(shard, bytes);
    let r = await runCli("stats", dir, "analysed_sst");
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      /sharded\.zarr\/analysed_sst\/c\/0\/0\/0: cannot decode chunk: crc32c checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/,
    );
    r = await runCli("convert", dir, join(root, "sharded-out.zarr"));
    expect(r.code).toBe(3);
    expect(existsSync(join(root, "sharded-out.zarr"))).toBe(false);
  });
});

describe("links inside a store", () => {
  it("a symlink loop (self -> .) is not followed: each node once, a warning, and the same output as without it", async () => {
    const clean = await walkedSample("noloop.zarr");
    const looped = join(root, "loop.zarr");
    cpSync(clean, looped, { recursive: true });
    symlinkSync(".", join(looped, "self"));
    const tree = await runCli("tree", looped);
    expect(tree.code).toBe(0);
    expect(tree.stdout.trim().split("\n")).toHaveLength(9); // the root and its 8 arrays, once each
    expect(tree.stderr).toMatch(
      /warning: .*loop\.zarr\/self: a symbolic link to a directory inside the store, not followed/,
    );
    const a = join(root, "loop-out.zarr");
    const b = join(root, "noloop-out.zarr");
    expect((await runCli("convert", looped, a)).code).toBe(0);
    expect((await runCli("convert", clean, b)).code).toBe(0);
    expect(treeFingerprint(a)).toEqual(treeFingerprint(b));
  });

  it("a link to a directory outside the store is not followed either", async () => {
    const dir = await walkedSample("outlink.zarr");
    symlinkSync(join(zarrPythonDir(), "zstd.f8.zarr"), join(dir, "elsewhere"));
    const r = await runCli("tree", dir, "--json");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/elsewhere/);
    expect(r.stderr).toMatch(
      /outlink\.zarr\/elsewhere: a symbolic link to a directory outside the store, not followed/,
    );
  });
});

describe("sane options", () => {
  it("--workers is limited to 4 per core", async () => {
    const cores = Number(execFileSync("nproc").toString());
    const r = await runCli("convert", SAMPLE, join(root, "w.zarr"), "--workers", "1000");
    expect(r.code).toBe(2);
    expectOneLine(
      r.stderr,
      new RegExp(`workers must be an integer from 0 to ${4 * cores}, got 1000`),
      "convert",
    );
    const s = await runCli("stats", join(zarrPythonDir(), "zstd.f8.zarr"), "data", "--workers", "1000");
    expect(s.code).toBe(2);
  });
});
