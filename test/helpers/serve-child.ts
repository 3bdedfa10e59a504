/**
 * `geozarr serve` as a real child process (processes.ts `startCli`): started on a free port, its
 * URL read from its one --json line; and the peak memory of a running process.
 */

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { type Running, startCli } from "./processes.js";

export interface ServeChild extends Running {
  url: string;
}

/** Start `geozarr serve STORE --port 0 --json ...args`; resolves once it listens. */
export async function startServe(store: string, ...args: string[]): Promise<ServeChild> {
  const run = startCli(["serve", store, "--port", "0", "--json", ...args]);
  const first = await Promise.race([
    new Promise<string>((ok) => createInterface({ input: run.child.stdout! }).once("line", ok)),
    run.exit.then((code) => {
      throw new Error(`geozarr serve exited (${code}) before listening: ${run.stderr()}`);
    }),
  ]);
  return { ...run, url: (JSON.parse(first) as { url: string }).url };
}

/** Peak resident memory of a running process in bytes (VmHWM, Linux). */
export function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}
