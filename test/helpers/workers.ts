/**
 * `geozarr worker` processes for the queue tests: one thread each and a short lock (2 s), so that a
 * dead worker's task returns to the queue soon; every one started is stopped by `stop`.
 */

import { type Running, startCli } from "./processes.js";

export function workerProcesses(redis: () => string, env: () => Record<string, string>) {
  const running: Running[] = [];
  return {
    start(queue: string, extra: Record<string, string> = {}, args: string[] = []): Running {
      const w = startCli(
        ["worker", redis(), "--queue-name", queue, "--workers", "1", "--lock-seconds", "2", ...args],
        { ...env(), ...extra },
      );
      running.push(w);
      return w;
    },
    /** SIGTERM to every worker still running, and wait for all of them. */
    async stop(): Promise<void> {
      for (const w of running.splice(0)) {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
        await w.exit;
      }
    },
  };
}

/** How many tasks a worker has started, by its log lines. */
export const tasksStarted = (w: Running) =>
  w.stdout().match(/task \d+ \([^)]*\) of \w+: started/g)?.length ?? 0;
