import { spawn } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { GeoZarrError } from "../../errors.js";
import { defaultWorkerCount, isLoopback, startServer, WorkerPool } from "../../node.js";
import { type CommandSpec, intOption, REMOTE_OPTIONS, remoteOptions, stringOption } from "../args.js";
import { noteZstdBackend } from "../io.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "serve",
  summary:
    "A local, read-only web inspector for a store: its tree, every node's metadata, the validation findings and a map of the data. Binds 127.0.0.1; stop with Ctrl-C.",
  positionals: ["STORE"],
  options: {
    port: { type: "string", arg: "N", description: "port to listen on (default 8765; 0 picks a free one)" },
    host: {
      type: "string",
      arg: "HOST",
      description: "address to bind (default 127.0.0.1); any other than loopback requires the printed token",
    },
    "allowed-host": {
      type: "string",
      arg: "NAME,...",
      description:
        "on loopback, also answer requests for these host names (a reverse proxy on this machine); .example.org allows it and its subdomains",
    },
    open: { type: "boolean", description: "open the inspector in the default browser" },
    "cache-dir": {
      type: "string",
      arg: "DIR",
      description:
        "where map overviews are kept between runs (default $XDG_CACHE_HOME/geozarr or ~/.cache/geozarr)",
    },
    "no-cache": { type: "boolean", description: "keep overviews in memory only" },
    workers: {
      type: "string",
      arg: "N",
      description: "worker threads for overviews (default: number of cores)",
    },
    "overview-timeout": {
      type: "string",
      arg: "SECONDS",
      description:
        "stop a map overview build after this long and tell the page why (default 300; 0 = no limit)",
    },
    ...REMOTE_OPTIONS,
  },
  details: [
    "The map draws a display overview (at most 8192 cells a side) computed once per variable and plane and cached; a plane of more than 2^34 cells or 2^20 chunks is not drawn (the page and the log say why), and a build that exceeds --overview-timeout is stopped and its partial cache entry removed.",
    "On loopback, requests whose Host header is not 127.0.0.1, localhost or [::1] with the server's port (or an --allowed-host) are refused with 403 (DNS rebinding); bound elsewhere, the printed URL carries an access token and names an address of this machine a browser can reach.",
    "With --json, one line {url, store} is printed when the server listens.",
    "Exit codes: 2 usage, 3 the store cannot be opened or the port is taken, 130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM; on either signal the server closes its connections, stops overview builds and removes their partial output.",
  ].join("\n"),
};

function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "geozarr", "overviews");
}

export const serve: Command = {
  spec,
  async run({ positionals, values }, io, signal) {
    const port = intOption(values, "port", 0) ?? 8765;
    if (port > 65535) throw new GeoZarrError("Usage", `--port ${port}: must be at most 65535`);
    const cacheDir = values["no-cache"]
      ? undefined
      : (stringOption(values, "cache-dir") ?? defaultCacheDir());
    const host = stringOption(values, "host") ?? "127.0.0.1";
    const allowedHosts = (stringOption(values, "allowed-host") ?? "")
      .split(",")
      .filter((n) => n.trim() !== "");
    if (allowedHosts.length > 0 && !isLoopback(host))
      throw new GeoZarrError(
        "Usage",
        `--allowed-host applies to a loopback --host; bound to ${host} the server is protected by its token`,
      );
    const timeout = intOption(values, "overview-timeout", 0) ?? 300;
    noteZstdBackend(io);
    const pool = new WorkerPool(intOption(values, "workers", 0) ?? defaultWorkerCount());
    try {
      const server = await startServer({
        store: positionals[0]!,
        remote: remoteOptions(values),
        host,
        port,
        allowedHosts,
        pool,
        cacheDir,
        overviewTimeoutMs: timeout * 1000,
        log: (line) => io.err(`geozarr: ${line}`),
      });
      // SIGINT/SIGTERM abort `signal`: close listeners and connections, stop the overview
      // builds and remove their partial output; the pool is terminated below.
      const stopped = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      if (!signal.aborted) {
        // One line, so a script can read it before the server ends.
        if (values.json) io.out(JSON.stringify({ url: server.url, store: positionals[0] }));
        else io.out(`geozarr inspector for ${positionals[0]} at ${server.url}  (Ctrl-C to stop)`);
        if (server.token)
          io.err("Bound to a non-loopback address: the URL carries an access token; share it with care.");
        if (values.open) openBrowser(server.url, (m) => io.err(m));
        // The first view should not wait for its overview: build it now, in the background
        // (its outcome is logged by the server; failures also reach the page).
        server.api.warmUp().then(
          (ov) => {
            if (ov?.source === "store")
              io.err(`geozarr: map of ${ov.path} reads the store's own multiscale levels`);
          },
          () => undefined,
        );
      }
      await stopped;
      // The cache is told first (server.close stops its builds at once, before awaiting), then the
      // pool fails its tasks and terminates its workers, so builds end now and clean up.
      const closing = server.close();
      await pool.stop(signal.reason);
      await closing;
      // Interrupted: main maps the abort to its exit code (130 SIGINT, 143 SIGTERM).
      throw signal.reason;
    } finally {
      await pool.close();
    }
  },
};

function openBrowser(url: string, warn: (m: string) => void): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(cmd, [url], { detached: true, stdio: "ignore" });
  child.on("error", () => warn(`could not start ${cmd}; open ${url} yourself`));
  child.unref();
}
