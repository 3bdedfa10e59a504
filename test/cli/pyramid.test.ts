/**
 * `geozarr pyramid` and `convert --multiscales` on the command line: the summary, --json, and bad
 * input (bad options, a store that already has levels, v2 chunks that are not tiles, no grid):
 * one line, the right exit code, and the store left as it was.
 */

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const dir = tmpDir("cli-pyramid");
const leftovers = () => readdirSync(dir).filter((f) => f.includes(".partial-"));

describe("geozarr pyramid / convert --multiscales", () => {
  it("convert --multiscales --json reports the conversion and its levels", async () => {
    const out = join(dir, "ms.zarr");
    const r = await runCli(
      "convert",
      SAMPLE,
      out,
      "--multiscales",
      "--tile-size",
      "256",
      "--levels",
      "2",
      "--resampling",
      "max",
      "--require-standard-name",
      "--json",
    );
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.output).toBe(out);
    expect(s.multiscales.levels.map((l: { shape: number[] }) => l.shape)).toEqual([
      [719, 1440],
      [360, 720],
      [180, 360],
    ]);
    expect(s.multiscales.variables).toEqual([
      { name: "analysed_sst", resampling: "max" },
      { name: "sea_ice_fraction", resampling: "max" },
    ]);
    const root = JSON.parse(readFileSync(join(out, "zarr.json"), "utf8"));
    expect(root.attributes.multiscales.resampling_method).toBe("max");
    expect(leftovers()).toEqual([]);
  });

  it("pyramid adds levels to a converted store and prints one summary line", async () => {
    const out = join(dir, "later.zarr");
    expect((await runCli("convert", SAMPLE, out)).code).toBe(0);
    const r = await runCli("pyramid", out, "--workers", "1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /later\.zarr: 3 levels \(719x1440, 360x720, 180x360\), 4 variables resampled \(average\/mode\)/,
    );
    const again = await runCli("pyramid", out);
    expect(again.code).toBe(3);
    expectOneLine(again.stderr, /later\.zarr: already has multiscale levels/);
    expect(leftovers()).toEqual([]);
  });

  it("bad options are usage errors (exit 2)", async () => {
    const out = join(dir, "opts.zarr");
    expect((await runCli("convert", SAMPLE, out)).code).toBe(0);
    for (const [args, msg] of [
      [["--resampling", "cubic"], /--resampling must be one of average, nearest, mode, min, max/],
      [["--tile-size", "300"], /--tile-size must be 256 or 512/],
      [["--levels", "0"], /--levels must be an integer >= 1/],
    ] as const) {
      const r = await runCli("pyramid", out, ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expectOneLine(r.stderr, msg, "pyramid");
    }
    const r = await runCli("convert", SAMPLE, join(dir, "x.zarr"), "--levels", "3");
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /--levels, --resampling, --tile-size and --tms need --multiscales/, "convert");
  });

  it("a v2 store whose chunks are not tiles is refused with the fix, and left intact", async () => {
    const out = join(dir, "v2.zarr");
    expect((await runCli("convert", SAMPLE, out, "--zarr-format", "2")).code).toBe(0);
    const before = readFileSync(join(out, ".zmetadata"), "utf8");
    const r = await runCli("pyramid", out);
    expect(r.code).toBe(2);
    expectOneLine(
      r.stderr,
      /chunks \[1,719,1440\] do not match the 512 x 512 tiles.*--chunks lat=512,lon=512/,
      "pyramid",
    );
    expect(readFileSync(join(out, ".zmetadata"), "utf8")).toBe(before);
    expect(leftovers()).toEqual([]);
  });

  it("a store without a georeferenced grid is refused (exit 3)", async () => {
    const empty = join(dir, "empty.zarr");
    mkdirSync(empty);
    writeFileSync(
      join(empty, "zarr.json"),
      JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }),
    );
    const r = await runCli("pyramid", empty);
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /empty\.zarr: no georeferenced variable with Y and X dimensions/);
  });
});
