/**
 * Global test setup: build the fixtures that come from real other implementations once per run
 * (cached by the generator script's content), and hand their location to the tests.
 */

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";

const ROOT = resolve(import.meta.dirname, "../..");
export const TMP = join(ROOT, ".test-tmp");

function generated(script: string, args: (out: string) => string[], cmd = "/usr/bin/python3"): string {
  const path = join(ROOT, script);
  const hash = createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 12);
  const out = join(
    TMP,
    "fixtures",
    `${script
      .split("/")
      .pop()!
      .replace(/\.\w+$/, "")}-${hash}`,
  );
  if (!existsSync(join(out, ".done"))) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    execFileSync(cmd, [path, ...args(out)], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("touch", [join(out, ".done")]);
  }
  return out;
}

export default function setup(project: TestProject) {
  mkdirSync(TMP, { recursive: true });
  // No test may reach beyond loopback: an S3 client without credentials would otherwise ask the
  // EC2 instance metadata service (169.254.169.254). Test processes inherit this.
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  project.provide(
    "zarrPython",
    generated("scripts/fixtures/zarr_python_stores.py", (o) => [o]),
  );
  project.provide(
    "netcdfFiles",
    generated("scripts/fixtures/netcdf_files.py", (o) => [o]),
  );
  project.provide(
    "hdf5Layouts",
    generated("scripts/fixtures/hdf5_layouts.py", (o) => [o]),
  );
  project.provide(
    "geotiffs",
    generated("scripts/fixtures/geotiffs.py", (o) => [o]),
  );
  project.provide(
    "seriesGranules",
    generated("scripts/fixtures/series_granules.py", (o) => [o]),
  );
  project.provide("tmpRoot", join(TMP, "runs"));
}

declare module "vitest" {
  export interface ProvidedContext {
    zarrPython: string;
    netcdfFiles: string;
    hdf5Layouts: string;
    geotiffs: string;
    seriesGranules: string;
    tmpRoot: string;
  }
}
