/**
 * `geozarr validate` from the command line: the report, --json, --strict, --rules/--skip, exit
 * codes; the notebook pipeline's store reported with the defects it really has; the v3 fill_value 0
 * defect; stale consolidated metadata.
 */

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { convert } from "../../src/node.js";
import { runCli } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const dir = tmpDir("val");
const v2 = join(dir, "ours-v2.zarr");
const v3 = join(dir, "ours-v3.zarr");
const peer = join(dir, "notebook.zarr");

beforeAll(async () => {
  await convert(SAMPLE, v2, { zarrFormat: 2, requireStandardName: true, workers: 0 });
  await convert(SAMPLE, v3, { zarrFormat: 3, unpack: "float32", requireStandardName: true, workers: 0 });
  // The notebook pipeline, as the project's peer script runs it (xarray + rioxarray + zarr-python).
  execFileSync("/usr/bin/python3", [resolve("bench/peers/peer_xarray_v2.py"), SAMPLE, peer], {
    stdio: "ignore",
  });
});

describe("geozarr validate", () => {
  it("passes geozarr's own outputs: exit 0, a summary line", async () => {
    for (const s of [v2, v3]) {
      const r = await runCli("validate", s);
      expect(r.code).toBe(0);
      const conventions = s === v3 ? "Conventions: proj v0.1 (3 nodes), spatial v0.1 (3 nodes)\n" : "";
      expect(r.stdout).toBe(
        `${s}: Zarr v${s === v2 ? 2 : 3}, CF standard name table v83\n${conventions}\n0 errors, 0 warnings, 0 infos\n`,
      );
    }
  });

  it("--json lists the conventions each node declares: name, version, UUID", async () => {
    const r = await runCli("validate", "--json", v3);
    const proj = {
      name: "proj",
      version: "v0.1",
      uuid: "f17cb550-5864-4468-aeb7-f3180cfb622f",
      current: true,
    };
    const spatial = {
      name: "spatial",
      version: "v0.1",
      uuid: "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4",
      current: true,
    };
    expect(JSON.parse(r.stdout).conventions).toEqual({
      "/": [proj, spatial],
      "/analysed_sst": [proj, spatial],
      "/sea_ice_fraction": [proj, spatial],
    });
    // v2 output declares none (the conventions are written for Zarr v3).
    expect(JSON.parse((await runCli("validate", "--json", v2)).stdout).conventions).toEqual({});
  });

  it("reports the notebook pipeline's store with the defects it has", async () => {
    const r = await runCli("validate", "--json", peer);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ store: peer, zarr_format: 2, cf_standard_name_table: "83" });
    const found = report.findings.map(
      (f: { rule: string; path: string; pointer: string }) => `${f.rule} ${f.path} ${f.pointer}`,
    );
    expect(found).toEqual([
      // valid_min -32767 / valid_max 32767 copied onto unpacked float64 values
      "CF-13 /analysed_sst /.zattrs/valid_min",
      // pyproj 3.4 leaves out horizontal_datum_name: CF wants the four *_name attributes together
      "CF-07 /spatial_ref /.zattrs/horizontal_datum_name",
    ]);
    expect(report.summary).toEqual({ errors: 1, warnings: 1, infos: 0 });
  });

  it("warns on a v3 store whose float data has an undeclared fill_value 0 (the notebook's v3 defect)", async () => {
    const s = join(dir, "fill0.zarr");
    cpSync(v3, s, { recursive: true });
    const p = join(s, "analysed_sst", "zarr.json");
    const doc = JSON.parse(readFileSync(p, "utf8"));
    doc.fill_value = 0;
    delete doc.attributes._FillValue;
    writeFileSync(p, JSON.stringify(doc));
    const r = await runCli("validate", s, "--skip", "ZC-03,ZC-04");
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(
      '/analysed_sst\n  warning FV-01 fill_value is 0 on float32 data without an equal _FillValue: GDAL masks 0, xarray (v3) reads it as a value  (/fill_value)\n                fix: set fill_value "NaN", or declare the fill with a _FillValue attribute\n',
    );
    expect((await runCli("validate", s, "--skip", "ZC-03,ZC-04", "--strict")).code).toBe(1);
  });

  it("flags consolidated metadata that disagrees with the node documents", async () => {
    const s = join(dir, "stale.zarr");
    cpSync(v2, s, { recursive: true });
    const p = join(s, "sea_ice_fraction", ".zattrs");
    writeFileSync(p, readFileSync(p, "utf8").replace('"long_name"', '"edited": 1, "long_name"'));
    const r = await runCli("validate", "--json", s);
    const report = JSON.parse(r.stdout);
    // Readers take the consolidated copy (geozarr's, zarr-python's, GDAL's): an error (issue 10).
    expect(report.findings).toEqual([
      {
        rule: "ZC-04",
        severity: "error",
        path: "/sea_ice_fraction",
        pointer: "/.zattrs",
        message:
          "the consolidated .zattrs differs from the one in the store (readers see the consolidated one)",
        fix: "re-consolidate the metadata",
      },
    ]);
    expect(r.code).toBe(1);
  });

  it("--rules and --skip choose rules; an unknown id is a usage error", async () => {
    let r = await runCli("validate", "--json", "--rules", "CF-13,FV-01", peer);
    expect(JSON.parse(r.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(["CF-13"]);
    r = await runCli("validate", "--json", "--skip", "CF-13,CF-07", peer);
    expect(JSON.parse(r.stdout).findings).toEqual([]);
    expect(r.code).toBe(0);
    r = await runCli("validate", "--rules", "XX-99", peer);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe('geozarr: error: --rules: no rule "XX-99" (see docs/rules.md)');
  });

  it("exits 3 when the store cannot be opened", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    let r = await runCli("validate", empty);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `geozarr: error: ${empty}: not a Zarr store (no zarr.json, .zgroup or .zarray found)\n`,
    );
    r = await runCli("validate", join(dir, "missing.zarr"));
    expect(r.code).toBe(3);
  });

  it("reports invalid JSON and bare NaN tokens as findings instead of failing", async () => {
    const s = join(dir, "broken.zarr");
    cpSync(v2, s, { recursive: true });
    writeFileSync(join(s, "lat", ".zattrs"), '{"units": "degrees_north", "valid_min": NaN');
    writeFileSync(
      join(s, "lon", ".zattrs"),
      '{"_ARRAY_DIMENSIONS": ["lon"], "standard_name": "longitude", "units": "degrees_east", "x": -Infinity}',
    );
    const r = await runCli("validate", "--json", "--rules", "ZJ-01,ZR-01", s);
    expect(r.code).toBe(1);
    expect(
      JSON.parse(r.stdout).findings.map((f: { path: string; pointer: string; message: string }) => [
        f.path,
        f.pointer,
        f.message,
      ]),
    ).toEqual([
      ["/lat", "/.zattrs", ".zattrs cannot be read as JSON: expected ',' or '}' at line 1 column 44"],
      ["/lon", "/.zattrs/x", ".zattrs has a bare NaN/Infinity token at /x (not JSON)"],
    ]);
  });
});
