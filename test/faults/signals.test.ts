/**
 * Fault corpus, signals: every command stops on SIGINT (exit 130) and SIGTERM (exit 143) even while
 * its work is stuck (a worker task or the store open made to hang with GEOZARR_FAULT), with its
 * workers ended and its partial output and lock removed. (`serve` has its own test in test/server.)
 */

import { cpSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startCli, treeFingerprint } from "../helpers/processes.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const root = tmpDir("faults-signals");

async function stopped(
  args: string[],
  fault: string,
  signal: "SIGINT" | "SIGTERM",
): Promise<{ code: number; stderr: string }> {
  const run = startCli(args, { GEOZARR_FAULT: fault });
  await run.waitFor(/geozarr-fault: /);
  run.child.kill(signal);
  return { code: await run.exit, stderr: run.stderr() };
}

describe("SIGINT and SIGTERM stop every command", () => {
  it("convert, stuck in a worker: exit 130 / 143, no partial output, no lock, nothing else touched", async () => {
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      const w = join(root, `convert-${signal}`);
      mkdirSync(w, { recursive: true });
      cpSync(SAMPLE, join(w, "in.nc"));
      const before = treeFingerprint(w);
      const r = await stopped(
        ["convert", join(w, "in.nc"), join(w, "out.zarr")],
        "task:encode-chunk:hang:1",
        signal,
      );
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(signal === "SIGINT" ? /geozarr: interrupted/ : /geozarr: terminated/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(treeFingerprint(w)).toEqual(before);
      expect(readdirSync(w)).toEqual(["in.nc"]);
    }
  });

  it("stats and pyramid, stuck in a worker", async () => {
    const store = join(root, "store.zarr");
    expect((await runCli("convert", SAMPLE, store)).code).toBe(0);
    const before = treeFingerprint(root);
    expect((await stopped(["stats", store, "analysed_sst"], "task:chunk-stats:hang:1", "SIGINT")).code).toBe(
      130,
    );
    expect((await stopped(["stats", store, "analysed_sst"], "task:chunk-stats:hang:1", "SIGTERM")).code).toBe(
      143,
    );
    expect((await stopped(["pyramid", store, "--workers", "1"], "task:*:hang:1", "SIGINT")).code).toBe(130);
    expect((await stopped(["pyramid", store, "--workers", "1"], "task:*:hang:1", "SIGTERM")).code).toBe(143);
    // The store the pyramid was replacing is as it was; no partial output or lock beside it.
    expect(treeFingerprint(root)).toEqual(before);
  });

  it("tree, info and validate, stuck opening the store", async () => {
    const store = join(root, "open.zarr");
    expect((await runCli("convert", SAMPLE, store)).code).toBe(0);
    for (const args of [
      ["tree", store],
      ["info", store],
      ["validate", store],
    ]) {
      expect((await stopped(args, "open-store:hang", "SIGINT")).code).toBe(130);
      expect((await stopped(args, "open-store:hang", "SIGTERM")).code).toBe(143);
    }
  });
});
