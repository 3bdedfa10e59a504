import { spawn } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { GeoZarrError } from "../../errors.js";
import { defaultWorkerCount, startServer, WorkerPool } from "../../node.js";
import { type CommandSpec, intOption, stringOption } from "../args.js";
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
  },
  details:
    "The map draws a display overview (at most 8192 cells a side) computed once per variable and plane and cached. With --json, one line {url, store} is printed when the server listens. Exit codes: 0 stopped, 2 usage, 3 the store cannot be opened or the port is taken.",
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
    noteZstdBackend(io);
    const pool = new WorkerPool(intOption(values, "workers", 0) ?? defaultWorkerCount());
    try {
      const server = await startServer({
        store: positionals[0]!,
        host: stringOption(values, "host") ?? "127.0.0.1",
        port,
        pool,
        cacheDir,
      });
      // One line, so a script can read it before the server ends.
      if (values.json) io.out(JSON.stringify({ url: server.url, store: positionals[0] }));
      else io.out(`geozarr inspector for ${positionals[0]} at ${server.url}  (Ctrl-C to stop)`);
      if (server.token)
        io.err("Bound to a non-loopback address: the URL carries an access token; share it with care.");
      if (values.open) openBrowser(server.url, (m) => io.err(m));
      // The first view should not wait for its overview: build it now, in the background.
      server.api.warmUp().then(
        (ov) => {
          if (!ov) return;
          if (ov.source === "store") io.err(`map of ${ov.path} reads the store's own multiscale levels`);
          else
            io.err(
              `map overview of ${ov.path} ${ov.cached ? "loaded from the cache" : `built in ${ov.buildSeconds.toFixed(1)} s`}`,
            );
        },
        (err: Error) => io.err(`geozarr: warning: map overview: ${err.message}`),
      );
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      await server.close();
      return 0;
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
