/**
 * The installed command: `npx geozarr` runs the compiled CLI from dist/ (built by `npm install`),
 * in a real child process, with real exit codes and streams.
 */

import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { zarrPythonDir } from "../helpers/fixtures.js";

const BIN = resolve("bin/geozarr.js");
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });

describe("bin/geozarr.js", () => {
  it("prints its version and usage", () => {
    const v = run("--version");
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const u = run();
    expect(u.status).toBe(2);
    expect(u.stdout).toContain("usage: geozarr <command>");
  });

  it("runs a command with worker threads from the compiled code", () => {
    const r = run("stats", "--json", join(zarrPythonDir(), "zstd.f8.zarr"), "data");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ elements: 1961, path: "/data" });
  });

  it("exits 3 with one line on stderr for a missing store, and writes nothing on stdout", () => {
    const r = run("info", "/nonexistent/store.zarr");
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("geozarr: error: /nonexistent/store.zarr: no such file or directory\n");
  });
});
