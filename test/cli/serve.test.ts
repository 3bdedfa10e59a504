/**
 * `geozarr serve` as a user runs it: a real child process that prints where it listens, serves
 * until Ctrl-C and then exits 130; bad input gets one line and a documented exit code.
 */

import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { zarrPythonDir } from "../helpers/fixtures.js";
import { request } from "../helpers/http.js";
import { startServe } from "../helpers/serve-child.js";
import { tmpDir } from "../helpers/tmp.js";

const STORE = join(zarrPythonDir(), "zstd.f8.zarr");

describe("geozarr serve", () => {
  it("prints its URL as JSON, serves the store, and stops on SIGINT with exit 130", async () => {
    const cache = tmpDir("serve-cli");
    const { url, child, exit, stderr } = await startServe(STORE, "--cache-dir", cache);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await request(url, "/api/store");
    expect(r.json()).toMatchObject({ zarrFormat: 2, consolidated: false });
    child.kill("SIGINT");
    expect(await exit).toBe(130);
    expect(stderr()).not.toMatch(/at .*\.js:\d+/);
  });

  it.each([
    [["serve"], 2, /missing|STORE/i],
    [["serve", STORE, "--port", "abc"], 2, /--port/],
    [["serve", STORE, "--port", "70000"], 2, /--port 70000: must be at most 65535/],
    [
      ["serve", STORE, "--host", "0.0.0.0", "--allowed-host", "inspect.example.org"],
      2,
      /--allowed-host applies to a loopback --host; bound to 0\.0\.0\.0 the server is protected by its token/,
    ],
    [
      ["serve", STORE, "--allowed-host", "evil.example/x"],
      2,
      /allowed host "evil\.example\/x" is not a host name/,
    ],
    [
      ["serve", STORE, "--overview-timeout", "1.5"],
      2,
      /--overview-timeout must be an integer >= 0, got "1.5"/,
    ],
    [
      ["serve", "/nonexistent/store.zarr", "--no-cache"],
      3,
      /\/nonexistent\/store\.zarr: no such file or directory/,
    ],
  ])("%j exits %i with one line", async (args, code, message) => {
    const r = await runCli(...(args as string[]));
    expect(r.code).toBe(code);
    expect(r.stderr.split("\n")[0]).toMatch(message);
    expect(r.stderr).not.toContain("    at ");
    expect(r.stdout).toBe("");
  });

  it("exits 3 naming the port when it is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, "127.0.0.1", ok));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli("serve", STORE, "--port", String(port), "--no-cache", "--workers", "0");
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(`^geozarr: error: cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`),
      );
    } finally {
      blocker.close();
    }
  });
});
