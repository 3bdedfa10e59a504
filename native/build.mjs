#!/usr/bin/env node
// The package's install step: build the optional libdeflate addon (native/inflate) with node-gyp
// when the system has libdeflate's header (Debian: libdeflate-dev). It never fails the install:
// without the addon, geozarr inflates NetCDF-4 chunks with node:zlib (about half the speed).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, "native", "inflate");
const note = (m) => console.error(`geozarr: ${m}`);
const headers = ["/usr/include/libdeflate.h", "/usr/local/include/libdeflate.h"];

if (process.env.GEOZARR_SKIP_NATIVE) process.exit(0);
if (!headers.some((h) => existsSync(h))) {
  note(
    "libdeflate not found (Debian: apt-get install libdeflate-dev): NetCDF-4 chunks will inflate with node:zlib",
  );
  process.exit(0);
}
// node-gyp comes with npm; npm passes npm_config_node_gyp to install scripts.
let gyp = process.env.npm_config_node_gyp;
if (!gyp) {
  try {
    gyp = createRequire(
      join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "package.json"),
    ).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    note("node-gyp not found: the libdeflate addon is not built (node:zlib is used)");
    process.exit(0);
  }
}
const args = [gyp, "rebuild", "--directory", dir];
if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h"))
  args.push("--nodedir=/usr");
const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
if (r.status !== 0) {
  note(
    `the libdeflate addon did not build (node:zlib is used): ${(r.stderr || "").trim().split("\n").slice(-2).join(" ")}`,
  );
  process.exit(0);
}
