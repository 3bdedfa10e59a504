/**
 * `geozarr serve` as a real child process (processes.ts `startCli`): started on a free port, its
 * URL read from its one --json line; and the peak memory of a running process.
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createInterface } from "node:readline";
import { expect } from "vitest";
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

/** One range request for the first `size` bytes; the body is counted (and hashed when asked), never kept. */
export function fetchRange(
  agent: Agent,
  url: URL,
  path: string,
  size: number,
  hash: boolean,
): Promise<{ status: number; bytes: number; sha: string | null }> {
  return new Promise((ok, fail) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, agent, headers: { Range: `bytes=0-${size - 1}` } },
      (res) => {
        const h = hash ? createHash("sha256") : null;
        let bytes = 0;
        res.on("data", (d: Buffer) => {
          bytes += d.length;
          h?.update(d);
        });
        res.on("end", () => ok({ status: res.statusCode!, bytes, sha: h ? h.digest("hex") : null }));
        res.on("error", fail);
      },
    );
    req.on("error", fail);
    req.end();
  });
}

/**
 * `rounds` rounds of `concurrent` simultaneous requests for the first `size` bytes of `path`: each
 * a 206 of `size` bytes, the first and last of a round hashing to `want`.
 */
export async function rangeRounds(
  url: URL,
  path: string,
  size: number,
  concurrent: number,
  rounds: number,
  want: string,
): Promise<void> {
  // A connection per request: reusing a keep-alive socket the server is closing after its idle
  // timeout (requests of a round finish seconds apart) would fail with "socket hang up".
  const agent = new Agent({ keepAlive: false, maxSockets: concurrent });
  try {
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(
        Array.from({ length: concurrent }, (_, i) =>
          fetchRange(agent, url, path, size, i === 0 || i === concurrent - 1),
        ),
      );
      for (const r of results) expect(r).toMatchObject({ status: 206, bytes: size });
      expect(results.filter((r) => r.sha !== null).map((r) => r.sha)).toEqual([want, want]);
    }
  } finally {
    agent.destroy();
  }
}
