/**
 * Deterministic fault injection, for tests only: the environment variable GEOZARR_FAULT makes a
 * named point of the code hang, kill the process or fail, at an exact hit, with no timers. Tests
 * use it to interrupt or kill a run in the middle of its work (signals, resume, dead workers).
 *
 *   GEOZARR_FAULT="task:encode-chunk:hang:3"   the third encode-chunk task of a thread never ends
 *   GEOZARR_FAULT="task:chunk-stats:kill"      the first chunk-stats task kills the process (SIGKILL)
 *   GEOZARR_FAULT="task:read-band:fail:2"      the second read-band task throws
 *   GEOZARR_FAULT="task:*:hang"                the first task of any kind never ends
 *   GEOZARR_FAULT="s3-put:kill:3"              the third chunk PUT to S3 of a thread kills the process
 *   GEOZARR_FAULT="s3-consolidate:kill"        killed just before an upload's consolidated metadata PUT
 *   GEOZARR_FAULT="remote-read:exit:3"         the third read of a remote file's helper thread ends that thread
 *
 * Several rules are separated by commas. A point reached prints `geozarr-fault: <point> <action>` on
 * stderr before acting, so a test can wait for it. Unset (always, outside tests), a point costs one
 * string comparison.
 *
 * @module
 */

import { GeoZarrError } from "./errors.js";

interface Rule {
  point: string;
  action: "hang" | "kill" | "fail" | "exit";
  at: number;
}

// No node: imports (the browser entry point reaches this module); in a browser there is no process.
const env = typeof process === "undefined" ? undefined : process;
const spec = env?.env.GEOZARR_FAULT ?? "";
const rules: Rule[] = spec
  .split(",")
  .filter((r) => r.trim() !== "")
  .map((r) => {
    const parts = r.trim().split(":");
    const last = parts.at(-1)!;
    const at = /^\d+$/.test(last) ? Number(parts.pop()) : 1;
    const action = parts.pop() as Rule["action"];
    return { point: parts.join(":"), action, at };
  });
const hits = new Map<string, number>();

/** A place where a test may inject a fault (see the module comment); a no-op otherwise. */
export async function faultPoint(point: string): Promise<void> {
  if (rules.length === 0) return;
  const rule = rules.find((r) => {
    if (!(r.point === point || (r.point.endsWith("*") && point.startsWith(r.point.slice(0, -1)))))
      return false;
    const n = (hits.get(r.point) ?? 0) + 1;
    hits.set(r.point, n);
    return r.at === n;
  });
  if (!rule) return;
  // Written to fd 2 directly: a worker thread's process.stderr only posts the text to the main
  // thread, which a kill can beat (the line was lost on CI). getBuiltinModule keeps this module free
  // of node: imports for the browser entry point.
  const line = `geozarr-fault: ${point} ${rule.action}\n`;
  const fs = env?.getBuiltinModule?.("node:fs") as { writeSync(fd: number, s: string): number } | undefined;
  if (fs) fs.writeSync(2, line);
  else env?.stderr.write(line);
  if (rule.action === "kill") env?.kill(env.pid, "SIGKILL");
  // In a worker thread process.exit ends that thread only: a helper dying under its caller.
  if (rule.action === "exit") env?.exit(1);
  if (rule.action === "fail") throw new GeoZarrError("IO", `${point}: injected failure (GEOZARR_FAULT)`);
  // Hang: a pending promise alone would let the event loop empty and the process exit; an
  // interval keeps it alive until it is stopped (a signal, or the pool terminating this worker).
  setInterval(() => {}, 2 ** 30);
  await new Promise<never>(() => {});
}
