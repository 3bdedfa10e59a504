/**
 * Bad input gets a one-line error naming what is wrong and where, the documented exit code, no
 * stack trace, and loses nothing: a failed convert leaves no output behind.
 */

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convert } from "../../src/node.js";
import { zstdCompress } from "../../src/zarr/codecs/zstd.js";
import { runCli } from "../helpers/cli.js";
import { zarrPythonDir } from "../helpers/fixtures.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = tmpDir("bad");
let n = 0;
function copyOf(name: string): string {
  const dst = join(dir, `${n++}-${name}`);
  cpSync(join(zarrPythonDir(), name), dst, { recursive: true });
  return dst;
}

/** The error is one line on stderr, starting with "geozarr: error:". */
function expectOneLineError(stderr: string, message: string | RegExp) {
  const lines = stderr.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^geozarr: error: /);
  expect(lines[0]).toMatch(message);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe("bad stores", () => {
  it("a directory that is not a Zarr store: exit 3", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    for (const cmd of ["tree", "info"]) {
      const r = await runCli(cmd, empty);
      expect(r.code).toBe(3);
      expectOneLineError(
        r.stderr,
        `${empty}: not a Zarr store (no zarr.json, .zgroup or .zarray at its root)`,
      );
    }
  });

  it("a path that does not exist: exit 3", async () => {
    const r = await runCli("tree", join(dir, "nope.zarr"));
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, `${join(dir, "nope.zarr")}: no such file or directory`);
  });

  it("corrupt JSON: names the document and the position", async () => {
    const s = copyOf("hierarchy-listed.zarr");
    writeFileSync(join(s, "a", "t", ".zarray"), '{"zarr_format": 2, "shape": [12,');
    const r = await runCli("tree", s);
    expect(r.code).toBe(3);
    expectOneLineError(
      r.stderr,
      `${s}/a/t/.zarray: invalid JSON: unexpected end of input at line 1 column 33`,
    );
  });

  it("a chunk that fails to decode: names the chunk key", async () => {
    const s = copyOf("zstd.f8.zarr");
    writeFileSync(join(s, "data", "1.2"), Buffer.from("definitely not zstd"));
    const r = await runCli("stats", s, "data");
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, new RegExp(`^geozarr: error: ${s}/data/1\\.2: cannot decode chunk: `));
  });

  it("a chunk of the wrong size: names the chunk key and both sizes", async () => {
    const s = copyOf("zstd.f8.zarr");
    writeFileSync(join(s, "data", "0.0"), await zstdCompress(new Uint8Array(100), 1));
    const r = await runCli("stats", "--workers", "0", s, "data");
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, new RegExp(`${s}/data/0\\.0: .*100 bytes.*1280`));
  });

  it("an unknown codec: names the array and the codec", async () => {
    const s = copyOf("zstd.f8.zarr");
    const p = join(s, "data", ".zarray");
    writeFileSync(p, readFileSync(p, "utf8").replace('"id": "zstd"', '"id": "snappy-2000"'));
    const r = await runCli("stats", s, "data", "--workers", "0");
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, `${s}/data: unknown codec "snappy-2000"`);
  });

  it("an array path that does not exist, or a group given for an array", async () => {
    const s = join(zarrPythonDir(), "hierarchy-listed.zarr");
    let r = await runCli("stats", s, "a/zz");
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, `${s}: no array or group named "a/zz"`);
    r = await runCli("stats", s, "a");
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, `${s}/a is a group; stats needs an array`);
  });
});

describe("usage errors: exit 2 and a pointer to --help", () => {
  const s = join(zarrPythonDir(), "zstd.f8.zarr");
  it.each([
    [["tree"], "tree: missing STORE"],
    [["tree", s, "extra"], 'tree: unexpected argument "extra"'],
    [["tree", s, "--bogus"], "tree: Unknown option '--bogus'"],
    [["convert", s, join(dir, "x.zarr"), "--zarr-format", "4"], "--zarr-format must be 2 or 3"],
    [["convert", s, join(dir, "x.zarr"), "--codec", "brotli:3"], '--codec brotli:3: unknown codec "brotli"'],
    [
      ["convert", s, join(dir, "x.zarr"), "--codec", "zstd:99"],
      "--codec zstd:99: level must be an integer from -131072 to 22",
    ],
    [
      ["convert", s, join(dir, "x.zarr"), "--chunks", "d0:5"],
      '--chunks d0:5: expected NAME=SIZE[,NAME=SIZE...], got "d0:5"',
    ],
    [
      ["convert", s, join(dir, "x.zarr"), "--chunks", "lat=5"],
      '--chunks: no dimension named "lat" (dimensions: d0, d1)',
    ],
    [
      ["convert", s, join(dir, "x.zarr"), "--shard", "d0=20", "--zarr-format", "2"],
      "--shard needs --zarr-format 3",
    ],
    [
      ["convert", s, join(dir, "x.zarr"), "--chunks", "d0=10", "--shard", "d0=15"],
      "a shard must hold a whole number of chunks",
    ],
    [["convert", s, join(dir, "x.zarr"), "--codec", "zlib:1"], "Zarr v3 has no zlib codec"],
    [["frobnicate"], 'unknown command "frobnicate"'],
  ])("%j", async (args, message) => {
    const r = await runCli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toContain(message);
    expect(existsSync(join(dir, "x.zarr"))).toBe(false);
  });
});

describe("convert never leaves a half-written output", () => {
  const leftovers = () => readdirSync(dir).filter((f) => f.includes(".partial-"));

  it("refuses to overwrite without --overwrite, and replaces with it", async () => {
    const out = join(dir, "exists.zarr");
    mkdirSync(out);
    writeFileSync(join(out, "keep.txt"), "mine");
    const src = join(zarrPythonDir(), "zstd.f8.zarr");
    let r = await runCli("convert", src, out);
    expect(r.code).toBe(3);
    expectOneLineError(
      r.stderr,
      `${out}: already exists (use the overwrite option, --overwrite, to replace it)`,
    );
    expect(readFileSync(join(out, "keep.txt"), "utf8")).toBe("mine");
    // A directory of the user's files is not a Zarr store: --overwrite refuses it too.
    r = await runCli("convert", src, out, "--overwrite");
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, `${out}: will not replace it: it is a directory that is not a Zarr store`);
    expect(readFileSync(join(out, "keep.txt"), "utf8")).toBe("mine");
    // A Zarr store is replaced.
    rmSync(out, { recursive: true });
    expect((await runCli("convert", src, out, "--zarr-format", "2")).code).toBe(0);
    r = await runCli("convert", src, out, "--overwrite");
    expect(r.code).toBe(0);
    expect(existsSync(join(out, ".zgroup"))).toBe(false);
    expect(existsSync(join(out, "zarr.json"))).toBe(true);
  });

  it("a failure half-way removes the partial output and leaves no output", async () => {
    const s = copyOf("zstd.f8.zarr");
    writeFileSync(join(s, "data", "3.3"), Buffer.from("corrupt"));
    const out = join(dir, "failed.zarr");
    const r = await runCli("convert", s, out, "--workers", "2");
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, `${s}/data/3.3: cannot decode chunk`);
    expect(existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it("an aborted conversion removes the partial output", async () => {
    const controller = new AbortController();
    const out = join(dir, "aborted.zarr");
    const p = convert(join(zarrPythonDir(), "zstd.f8.zarr"), out, {
      chunks: "d0=2,d1=2",
      workers: 0,
      signal: controller.signal,
      onProgress: (pr) => {
        if (pr.unitsDone === 3) controller.abort(new Error("stop"));
      },
    });
    await expect(p).rejects.toThrow("stop");
    expect(existsSync(out)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it("refuses to write into its own input", async () => {
    const s = copyOf("zstd.f8.zarr");
    const r = await runCli("convert", s, s, "--overwrite");
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, "the output must differ from the input");
    expect(existsSync(join(s, "data", ".zarray"))).toBe(true);
  });

  it("an input that is neither Zarr nor NetCDF: exit 3", async () => {
    const f = join(dir, "notes.txt");
    writeFileSync(f, "hello");
    const r = await runCli("convert", f, join(dir, "n.zarr"));
    expect(r.code).toBe(3);
    expectOneLineError(r.stderr, `${f}: not a Zarr store, NetCDF, HDF5 or TIFF file`);
  });
});
