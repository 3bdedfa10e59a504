/**
 * `geozarr serve` as a real child process (bin/geozarr.js, the compiled CLI): started on a free
 * port, its URL read from its one --json line, its stderr kept, its exit awaited.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

export const BIN = resolve("bin/geozarr.js");

export interface ServeChild {
  child: ChildProcess;
  url: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name when killed by one). */
  exited: Promise<number | string | null>;
}

/** Start `geozarr serve STORE --port 0 --json ...args`; resolves once it listens. */
export async function startServe(store: string, ...args: string[]): Promise<ServeChild> {
  const child = spawn(process.execPath, [BIN, "serve", store, "--port", "0", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | string | null>((ok) =>
    child.once("exit", (code, signal) => ok(code ?? signal)),
  );
  const first = await Promise.race([
    new Promise<string>((ok) => createInterface({ input: child.stdout! }).once("line", ok)),
    exited.then((code) => {
      throw new Error(`geozarr serve exited (${code}) before listening: ${stderr}`);
    }),
  ]);
  const { url } = JSON.parse(first) as { url: string };
  return { child, url, stderr: () => stderr, exited };
}

/** Peak resident memory of a running process in bytes (VmHWM, Linux). */
export function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}
