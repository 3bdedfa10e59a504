#!/usr/bin/env node
// The package's install step: build the optional native addons with node-gyp. It never fails the
// install: without an addon geozarr takes the portable path.
//   native/inflate   libdeflate for NetCDF-4 chunks, when the system has libdeflate's header
//                    (Debian: libdeflate-dev); otherwise node:zlib (about half the speed)
//   native/kernels   the element loops of decoding (HDF5 un-shuffle, CF table decode, TIFF predictor), plain C
//                    without libraries; otherwise the same loops in JavaScript (about 15 % more CPU)
//   native/directio  O_DIRECT writes of chunk files (Linux, opt-in: GEOZARR_DIRECT_IO=1);
//                    otherwise writes through the page cache
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const note = (m) => console.error(`geozarr: ${m}`);
const headers = ["/usr/include/libdeflate.h", "/usr/local/include/libdeflate.h"];

if (process.env.GEOZARR_SKIP_NATIVE) process.exit(0);
// node-gyp comes with npm; npm passes npm_config_node_gyp to install scripts.
let gyp = process.env.npm_config_node_gyp;
if (!gyp) {
  try {
    gyp = createRequire(
      join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "package.json"),
    ).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    note(
      "node-gyp not found: the native addons are not built (node:zlib, JavaScript loops and buffered writes are used)",
    );
    process.exit(0);
  }
}

function build(name, fallback) {
  const args = [gyp, "rebuild", "--directory", join(root, "native", name)];
  if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h"))
    args.push("--nodedir=/usr");
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (r.status !== 0)
    note(
      `the ${name} addon did not build (${fallback}): ${(r.stderr || "").trim().split("\n").slice(-2).join(" ")}`,
    );
}

if (headers.some((h) => existsSync(h))) build("inflate", "node:zlib is used");
else
  note(
    "libdeflate not found (Debian: apt-get install libdeflate-dev): NetCDF-4 chunks will inflate with node:zlib",
  );
build("kernels", "the JavaScript loops are used");
if (process.platform === "linux") build("directio", "chunk files are written through the page cache");
