/**
 * The CLI as a real child process (signals, concurrent runs, killed runs), and a fingerprint of a
 * directory tree to prove that nothing outside a run's output changed.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export const BIN = resolve("bin/geozarr.js");

export interface Running {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number when killed by a signal). */
  exit: Promise<number>;
  /** Resolves once stderr (or stdout) matches `re` (rejects if the process ends first). */
  waitFor(re: RegExp, stream?: "stderr" | "stdout"): Promise<void>;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Start `geozarr ARGS...` with extra environment variables (GEOZARR_FAULT for fault injection). */
export function startCli(args: string[], env: Record<string, string> = {}, cwd?: string): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
    cwd,
  });
  let out = "";
  let err = "";
  const watchers: Array<{ re: RegExp; stream: string; ok: () => void; fail: (e: Error) => void }> = [];
  const check = () => {
    for (const w of watchers.splice(0)) {
      if (w.re.test(w.stream === "stdout" ? out : err)) w.ok();
      else watchers.push(w);
    }
  };
  child.stdout!.on("data", (d) => {
    out += d;
    check();
  });
  child.stderr!.on("data", (d) => {
    err += d;
    check();
  });
  const exit = new Promise<number>((ok) =>
    child.once("close", (code, signal) => {
      for (const w of watchers.splice(0)) w.fail(new Error(`exited before ${w.re}; stderr: ${err}`));
      ok(code ?? 128 + (SIGNALS[signal ?? ""] ?? 0));
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor: (re, stream = "stderr") =>
      new Promise<void>((ok, fail) => {
        if (re.test(stream === "stdout" ? out : err)) ok();
        else watchers.push({ re, stream, ok, fail });
      }),
  };
}

/** Run `geozarr ARGS...` to completion. */
export async function runCliProcess(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = startCli(args, env, cwd);
  const code = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/**
 * Every entry under `dir` with a fingerprint of its content (files: sha256; links: their target;
 * directories: marked), by path relative to `dir`; `skip` names top-level entries left out.
 */
export function treeFingerprint(
  dir: string,
  skip: (name: string) => boolean = () => false,
): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (d === dir && skip(name)) continue;
      const s = lstatSync(p);
      if (s.isSymbolicLink()) out.set(rel, `link:${readlinkSync(p)}`);
      else if (s.isDirectory()) {
        out.set(rel, "dir");
        walk(p);
      } else out.set(rel, createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return out;
}
