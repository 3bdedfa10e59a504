/**
 * Fault corpus, outputs: geozarr never destroys what it did not create, one run writes an output at
 * a time, and what a killed run leaves is named by the next. Each case checks the exit code, the
 * one-line message, and that nothing around the output changed (fingerprints before and after).
 */

import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { prepareOutput } from "../../src/convert/output.js";
import { expectOneLine, runCli } from "../helpers/cli.js";
import { zarrPythonDir } from "../helpers/fixtures.js";
import { runCliProcess, treeFingerprint } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const root = tmpDir("faults-out");
const small = () => join(zarrPythonDir(), "zstd.f8.zarr");

/** A fresh working directory holding the sample and a folder of the user's files. */
function workspace(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "mine"), { recursive: true });
  cpSync(SAMPLE, join(dir, "in.nc"));
  writeFileSync(join(dir, "mine", "notes.txt"), "my notes");
  writeFileSync(join(dir, "mine", "data.csv"), "1,2,3\n");
  return dir;
}

/** The output's name as the v3 root document says it: 2, 3, or undefined when there is none. */
function formatOf(store: string): number | undefined {
  if (existsSync(join(store, "zarr.json"))) return 3;
  if (existsSync(join(store, ".zgroup"))) return 2;
  return undefined;
}

describe("--overwrite replaces only what geozarr owns", () => {
  it("refuses a directory of the user's files and leaves it as it was", async () => {
    const w = workspace("userdir");
    const before = treeFingerprint(w);
    const r = await runCli("convert", join(w, "in.nc"), join(w, "mine"), "--overwrite");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /mine: will not replace it: it is a directory that is not a Zarr store/);
    expect(treeFingerprint(w)).toEqual(before);
  });

  it("refuses a file, and a symbolic link to a store", async () => {
    const w = workspace("file");
    writeFileSync(join(w, "out.zarr"), "not a store");
    expect((await runCli("convert", small(), join(w, "real.zarr"))).code).toBe(0);
    symlinkSync(join(w, "real.zarr"), join(w, "link.zarr"));
    const before = treeFingerprint(w);
    let r = await runCli("convert", small(), join(w, "out.zarr"), "--overwrite");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /out\.zarr: will not replace it: it is a file, not a Zarr store/);
    r = await runCli("convert", small(), join(w, "link.zarr"), "--overwrite");
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, /link\.zarr: will not replace it: it is a symbolic link/);
    expect(treeFingerprint(w)).toEqual(before);
  });

  it("refuses the current directory and its parents, even with nothing to lose in them", async () => {
    const w = workspace("cwd");
    mkdirSync(join(w, "sub"));
    const before = treeFingerprint(w);
    for (const out of [".", ".."]) {
      const r = await runCliProcess(["convert", SAMPLE, out, "--overwrite"], {}, join(w, "sub"));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/the output is the current directory or one of its parents/);
      expect(r.stderr.split("\n").filter((l) => l.startsWith("geozarr: error:"))).toHaveLength(1);
    }
    expect(treeFingerprint(w)).toEqual(before);
  });

  it("refuses an output that holds the input (convert w/in.nc w) or lies inside the input store", async () => {
    const w = workspace("holds");
    expect((await runCli("convert", small(), join(w, "store.zarr"))).code).toBe(0);
    const before = treeFingerprint(w);
    let r = await runCliProcess(["convert", "in.nc", ".", "--overwrite"], {}, w);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.: the output would contain the input in\.nc/);
    r = await runCli("convert", join(w, "in.nc"), w, "--overwrite");
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /the output would contain the input/, "convert");
    r = await runCli("convert", join(w, "store.zarr"), join(w, "store.zarr", "copy.zarr"));
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /copy\.zarr: the output lies inside the input/, "convert");
    expect(treeFingerprint(w)).toEqual(before);
  });

  it("replaces a Zarr store and an empty directory, and nothing beside them", async () => {
    const w = workspace("replace");
    expect((await runCli("convert", small(), join(w, "out.zarr"), "--zarr-format", "2")).code).toBe(0);
    mkdirSync(join(w, "empty.zarr"));
    const around = () => treeFingerprint(w, (n) => n === "out.zarr" || n === "empty.zarr");
    const before = around();
    for (const out of ["out.zarr", "empty.zarr"]) {
      const r = await runCli("convert", small(), join(w, out), "--overwrite");
      expect(r.code).toBe(0);
      expect(formatOf(join(w, out))).toBe(3);
    }
    expect(around()).toEqual(before);
    expect(readdirSync(w).filter((n) => n.startsWith("."))).toEqual([]);
  });
});

describe("one writer per output", () => {
  it("two concurrent converts to one output: exactly one succeeds and the store is its output", async () => {
    const w = workspace("concurrent");
    for (let round = 0; round < 8; round++) {
      const out = join(w, `out-${round}.zarr`);
      const [a, b] = await Promise.all([
        runCliProcess(["convert", SAMPLE, out, "--zarr-format", "2", "--workers", "1"]),
        runCliProcess(["convert", SAMPLE, out, "--zarr-format", "3", "--workers", "1"]),
      ]);
      const codes = [a.code, b.code].sort();
      expect(codes).toEqual([0, 3]);
      const loser = a.code === 0 ? b : a;
      expect(loser.stderr).toMatch(/geozarr: error: .*(another geozarr run is writing it|already exists)/);
      expect(formatOf(out)).toBe(a.code === 0 ? 2 : 3);
      expect(readdirSync(w).filter((n) => n.startsWith(`.out-${round}`))).toEqual([]);
    }
  });

  it("refuses an output locked by a live process, naming it, and takes over a dead process's lock", async () => {
    const w = workspace("locks");
    const lock = join(w, ".out.zarr.geozarr-lock");
    const info = (pid: number) =>
      JSON.stringify({ pid, host: hostname(), started: "2026-12-01T00:00:00Z", token: "feedbeef" });
    writeFileSync(lock, info(process.pid));
    let r = await runCli("convert", small(), join(w, "out.zarr"));
    expect(r.code).toBe(3);
    expectOneLine(r.stderr, new RegExp(`another geozarr run is writing it \\(process ${process.pid} on `));
    expect(existsSync(join(w, "out.zarr"))).toBe(false);
    // A process that has exited: its pid is free (or reused, which would keep the lock: safe).
    const dead = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    writeFileSync(lock, info(Number(dead)));
    r = await runCli("convert", small(), join(w, "out.zarr"));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`note: took over the lock of process ${dead} .*no longer running`));
    expect(existsSync(lock)).toBe(false);
  });

  it("a killed run's partial output is named by the next run and removed by --overwrite", async () => {
    const w = workspace("killed");
    const out = join(w, "out.zarr");
    const killed = await runCliProcess(["convert", SAMPLE, out], {
      GEOZARR_FAULT: "task:encode-chunk:kill:1",
    });
    expect(killed.code).toBe(137);
    const left = readdirSync(w).filter((n) => n.startsWith(".out.zarr.partial-"));
    expect(left).toHaveLength(1);
    const before = treeFingerprint(w);
    const r = await runCli("convert", SAMPLE, out);
    expect(r.code).toBe(3);
    expectOneLine(
      r.stderr,
      new RegExp(
        `1 partial output of an interrupted run left beside it \\(${left[0]}\\); remove it \\(rm -rf .*${left[0]}\\)`,
      ),
    );
    // The refused run took over the dead run's lock and gave it back: nothing else changed.
    expect(treeFingerprint(w, (n) => n.endsWith(".geozarr-lock"))).toEqual(
      new Map([...before].filter(([k]) => !k.endsWith(".geozarr-lock"))),
    );
    const again = await runCli("convert", SAMPLE, out, "--overwrite");
    expect(again.code).toBe(0);
    expect(readdirSync(w).filter((n) => n.startsWith("."))).toEqual([]);
    expect(readFileSync(join(w, "mine", "notes.txt"), "utf8")).toBe("my notes");
  });
});

describe("the final move replaces only what was checked at the start", () => {
  it("fails, keeping the newcomer, when the output appears during the run", async () => {
    const w = workspace("appears");
    const out = join(w, "out.zarr");
    const pending = await prepareOutput(out, false);
    writeFileSync(join(pending.tmp, "zarr.json"), "{}");
    mkdirSync(out);
    writeFileSync(join(out, "theirs.txt"), "someone else's");
    await expect(pending.commit()).rejects.toThrow(/out\.zarr: appeared during the run; not replacing it/);
    expect(readFileSync(join(out, "theirs.txt"), "utf8")).toBe("someone else's");
    expect(readdirSync(w).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("fails when the store being overwritten is replaced by something else during the run", async () => {
    const w = workspace("swapped");
    const out = join(w, "out.zarr");
    expect((await runCli("convert", small(), out)).code).toBe(0);
    const pending = await prepareOutput(out, true);
    rmSync(out, { recursive: true });
    mkdirSync(out);
    writeFileSync(join(out, "theirs.txt"), "someone else's");
    await expect(pending.commit()).rejects.toThrow(/was replaced by something else during the run/);
    expect(readFileSync(join(out, "theirs.txt"), "utf8")).toBe("someone else's");
    expect(readdirSync(w).filter((n) => n.startsWith("."))).toEqual([]);
  });
});
