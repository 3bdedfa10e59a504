/**
 * The WASM zstd fallback (src/zarr/codecs/zstd.ts, docs/design.md "zstd backends"): the same
 * conversion of the bundled sample with the native backend and with GEOZARR_ZSTD=wasm, through the
 * installed command with its worker threads. The stores hold the same files and documents, their
 * chunks are each backend's own frames (bytes may differ), and every array decodes to the same
 * values with the project's reader on both backends and with zarr-python.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convert, openStore, readRegion, WorkerPool } from "../../src/node.js";
import { wasmZstdCompress, zstdBackend, zstdCompress, zstdDecompress } from "../../src/zarr/codecs/zstd.js";
import { python } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const BIN = resolve("bin/geozarr.js");
const DIST_NODE = resolve("dist/node.js");
const dir = tmpDir("zstd");
const METADATA = new Set(["zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"]);

/** The command in a child process; GEOZARR_ZSTD set as given (removed when undefined). */
function geozarr(zstd: string | undefined, ...args: string[]) {
  const env = { ...process.env };
  delete env.GEOZARR_ZSTD;
  if (zstd !== undefined) env.GEOZARR_ZSTD = zstd;
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env });
}

function files(root: string, d = root): string[] {
  return readdirSync(d)
    .flatMap((f) =>
      statSync(join(d, f)).isDirectory() ? files(root, join(d, f)) : [relative(root, join(d, f))],
    )
    .sort();
}

const isChunk = (f: string) => !METADATA.has(f.split("/").pop()!);

/** A metadata document without the `history` attribute (it carries the time of the run). */
function documentOf(store: string, f: string): unknown {
  return JSON.parse(readFileSync(join(store, f), "utf8"), (k, v) => (k === "history" ? undefined : v));
}

/** sha256 of every array's decoded values, read with the project's reader in this process. */
async function hashes(store: string): Promise<Record<string, string>> {
  const h = await openStore(store);
  const pool = new WorkerPool(2);
  try {
    const out: Record<string, string> = {};
    for (const [path, node] of h.nodes) {
      if (node.meta.kind !== "array") continue;
      const { data } = await readRegion(h, path, pool);
      out[path] = createHash("sha256")
        .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        .digest("hex");
    }
    return out;
  } finally {
    await pool.close();
  }
}

/** The same hashes from the compiled library in a child process whose backend is forced to WASM. */
function wasmHashes(store: string): Record<string, string> {
  const script = `
import { createHash } from "node:crypto";
const { openStore, readRegion, WorkerPool, zstdBackend } = await import(${JSON.stringify(DIST_NODE)});
if (zstdBackend().backend !== "wasm") throw new Error("not the WASM backend");
const h = await openStore(process.argv[2]);
const pool = new WorkerPool(2);
const out = {};
for (const [path, node] of h.nodes) {
  if (node.meta.kind !== "array") continue;
  const { data } = await readRegion(h, path, pool);
  out[path] = createHash("sha256").update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest("hex");
}
await pool.close();
console.log(JSON.stringify(out));`;
  // A file, not `-e`: worker threads inherit the process's execArgv, and `--input-type` fails them.
  const file = join(dir, "wasm-hashes.mjs");
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file, store], {
    encoding: "utf8",
    env: { ...process.env, GEOZARR_ZSTD: "wasm" },
  });
  if (r.status !== 0) throw new Error(`wasm reader failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

const NOTE =
  "geozarr: note: zstd runs on WebAssembly, as GEOZARR_ZSTD=wasm asks; unset it for the native codec";

describe.each([
  ["v3, default options", 3, []],
  ["v2, unpacked to float32", 2, ["--zarr-format", "2", "--unpack", "float32"]],
])("the sample converted with each zstd backend (%s)", (label, format, options) => {
  const native = join(dir, `native-${label.length}.zarr`);
  const wasm = join(dir, `wasm-${label.length}.zarr`);
  const runs: Record<string, ReturnType<typeof geozarr>> = {};
  beforeAll(() => {
    runs.native = geozarr(undefined, "convert", SAMPLE, native, "--workers", "2", "--json", ...options);
    runs.wasm = geozarr("wasm", "convert", SAMPLE, wasm, "--workers", "2", "--json", ...options);
  });

  it("both succeed; the summary names the backend, and only the fallback prints its one-line note", () => {
    expect(runs.native!.status).toBe(0);
    expect(runs.wasm!.status).toBe(0);
    expect(JSON.parse(runs.native!.stdout)).toMatchObject({ zstd: "native", workers: 2 });
    expect(JSON.parse(runs.wasm!.stdout)).toMatchObject({ zstd: "wasm", workers: 2 });
    expect(runs.native!.stderr).not.toContain("WebAssembly");
    expect(runs.wasm!.stderr.split("\n").filter((l) => l.includes("WebAssembly"))).toEqual([NOTE]);
  });

  it("the stores hold the same files and the same documents (but for the time in history)", () => {
    expect(files(wasm)).toEqual(files(native));
    for (const f of files(native).filter((f) => !isChunk(f)))
      expect(documentOf(wasm, f), f).toEqual(documentOf(native, f));
  });

  it("each chunk is its backend's frame of the same bytes; native and WASM frames differ", async () => {
    let differing = 0;
    for (const f of files(native).filter(isChunk)) {
      const n = new Uint8Array(readFileSync(join(native, f)));
      const w = new Uint8Array(readFileSync(join(wasm, f)));
      const raw = zstdDecompress(n);
      expect(Buffer.compare(zstdDecompress(w), raw), f).toBe(0);
      // Written by the worker threads: each with the encoder of its run's backend.
      expect(Buffer.compare(await zstdCompress(raw, 1), n), f).toBe(0);
      expect(Buffer.compare(await wasmZstdCompress(raw, 1), w), f).toBe(0);
      if (Buffer.compare(n, w) !== 0) differing++;
    }
    // Not byte-identical (zstd 1.5.7 native, another version in numcodecs' WASM build): the
    // reason the promise is about decoded values.
    expect(differing).toBeGreaterThan(0);
  });

  it("every array decodes to the same values: the project's reader, native and WASM", async () => {
    const n = await hashes(native);
    expect(Object.keys(n).length).toBeGreaterThanOrEqual(6);
    expect(await hashes(wasm)).toEqual(n);
    expect(wasmHashes(native)).toEqual(n);
    expect(wasmHashes(wasm)).toEqual(n);
  });

  // Debian's zarr-python (2.13) reads Zarr v2 only.
  if (format === 2)
    it("zarr-python reads the same values and data types from both stores", () => {
      const out = python(
        `import sys, numpy as np, zarr
a, b = zarr.open_group(sys.argv[1], mode="r"), zarr.open_group(sys.argv[2], mode="r")
names = sorted(k for k, _ in a.arrays())
assert names == sorted(k for k, _ in b.arrays()), "different arrays"
for k in names:
    x, y = a[k][...], b[k][...]
    assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), k
print(" ".join(names))`,
        [native, wasm],
      );
      expect(out.trim()).toBe("analysed_sst analysis_error lat lon mask sea_ice_fraction spatial_ref time");
    });
});

describe("worker threads", () => {
  const before = process.env.GEOZARR_ZSTD;
  afterAll(() => {
    if (before === undefined) delete process.env.GEOZARR_ZSTD;
    else process.env.GEOZARR_ZSTD = before;
  });

  it("use the backend of the thread that starts them, not their own reading of the environment", async () => {
    expect(zstdBackend().backend).toBe("native"); // decided for this thread
    process.env.GEOZARR_ZSTD = "wasm"; // what a worker would pick by itself
    const out = join(dir, "workers.zarr");
    const summary = await convert(SAMPLE, out, { workers: 2 });
    expect(summary.zstd).toBe("native");
    const f = "analysed_sst/c/0/0/0";
    const stored = new Uint8Array(readFileSync(join(out, f)));
    const raw = zstdDecompress(stored);
    expect(Buffer.compare(await zstdCompress(raw, 1), stored)).toBe(0);
    expect(Buffer.compare(await wasmZstdCompress(raw, 1), stored)).not.toBe(0);
  });
});

describe("without a built zstd-napi", () => {
  // The machine of an install that skipped install scripts, made by refusing to load zstd-napi's
  // modules in the child process (its package stays resolvable, as after --ignore-scripts);
  // scripts/check-package.sh does the real install.
  const preload = join(dir, "no-zstd-napi.cjs");
  writeFileSync(
    preload,
    `const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request.startsWith("zstd-napi")) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: "MODULE_NOT_FOUND" });
  return load.call(this, request, ...rest);
};`,
  );
  const unbuilt = (zstd: string | undefined, ...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--require ${preload}` };
    delete env.GEOZARR_ZSTD;
    if (zstd !== undefined) env.GEOZARR_ZSTD = zstd;
    return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env });
  };

  it("a default convert succeeds on WebAssembly and says once how to build the native codec", () => {
    const r = unbuilt(undefined, "convert", SAMPLE, join(dir, "unbuilt.zarr"), "--json");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).zstd).toBe("wasm");
    expect(r.stderr.split("\n").filter((l) => l.includes("WebAssembly"))).toEqual([
      "geozarr: note: zstd runs on WebAssembly, the native codec, about 2x faster, was not built (install scripts skipped?): npm rebuild zstd-napi (needs a C++ toolchain)",
    ]);
  });

  it("GEOZARR_ZSTD=native refuses to fall back, with one line and exit 3", () => {
    const out = join(dir, "unbuilt-native.zarr");
    const r = unbuilt("native", "convert", SAMPLE, out);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(
      "geozarr: error: GEOZARR_ZSTD=native but zstd-napi cannot be loaded: Cannot find module 'zstd-napi/binding.js'\n",
    );
    expect(readdirSync(dir).filter((f) => f.includes("unbuilt-native"))).toEqual([]);
  });
});

describe("GEOZARR_ZSTD", () => {
  it("a value other than native, wasm or auto is a usage error, with one line", () => {
    const r = geozarr("fast", "convert", SAMPLE, join(dir, "bad.zarr"));
    expect(r.status).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      'geozarr: error: GEOZARR_ZSTD must be "native", "wasm" or "auto" (or unset), got "fast"',
    );
  });

  it("native is honoured when the addon is there; a negative level under wasm is refused up front", () => {
    const ok = geozarr("native", "convert", SAMPLE, join(dir, "native-forced.zarr"), "--json");
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).zstd).toBe("native");
    const out = join(dir, "negative.zarr");
    const r = geozarr("wasm", "convert", SAMPLE, out, "--codec", "zstd:-3");
    expect(r.status).toBe(3);
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      NOTE,
      "geozarr: error: zstd level -3 needs the native zstd codec (zstd-napi); the WebAssembly fallback writes levels 0 to 22",
    ]);
    expect(readdirSync(dir).filter((f) => f.includes("negative"))).toEqual([]);
  });
});
