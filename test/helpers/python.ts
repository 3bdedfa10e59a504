import { spawnSync } from "node:child_process";

/** Run Debian's Python (the one with numpy, zarr, xarray) on a script; fails the test on error. */
export function python(code: string, args: string[] = []): string {
  const r = spawnSync("/usr/bin/python3", ["-c", code, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Run Python code that prints one JSON document, and parse it. */
export function pythonJson<T = unknown>(code: string, args: string[] = []): T {
  return JSON.parse(python(code, args)) as T;
}
