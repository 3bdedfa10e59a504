/**
 * A real Redis for a test file: redis-server (Debian's) on a free loopback port, without
 * persistence, stopped when the file's tests end.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterAll } from "vitest";

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

function start(port: number): Promise<ChildProcess | null> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxmemory-policy",
      "noeviction",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  return new Promise((ok) => {
    child.stdout!.on("data", (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) ok(child);
    });
    child.once("exit", () => ok(null));
  });
}

/** Start Redis; resolves with its URL. The server stops after the file's tests. */
export async function startRedis(): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = await start(port);
    if (!child) continue; // the port was taken between the probe and the start
    afterAll(() => {
      child.kill("SIGTERM");
    });
    return `redis://127.0.0.1:${port}`;
  }
  throw new Error("redis-server did not start (is the redis-server package installed?)");
}
