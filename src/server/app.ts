/**
 * `geozarr serve`: a local, read-only web inspector for one store.
 *
 * Binds 127.0.0.1 by default. Serves only: the inspector's built files, a JSON API over the
 * library (tree, node metadata, validation, map layers and their overviews), and the store's own
 * files under /store/ (read-only, with HTTP range requests) for map clients such as OpenLayers'
 * GeoZarr source. Keys are confined to the store root (no "..", no symlinks out); files are
 * streamed from disk (files.ts). No CORS headers: only the page itself may call the API. On
 * loopback, only requests whose `Host` names this server are answered (DNS rebinding); bound to
 * anything else, every request must carry a random token (access.ts). A request that cannot be
 * parsed (a malformed percent-escape, a target too long) is a 4xx, never an exception.
 *
 * @module
 */

import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { realpath } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve } from "node:path";
import { GeoZarrError } from "../errors.js";
import type { WorkerPool } from "../parallel/pool.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import type { HttpStore } from "../zarr/store/http.js";
import { parseLocation, type RemoteOptions, storeAt } from "../zarr/store/location.js";
import { isLoopback } from "../zarr/store/remote.js";
import type { S3Store } from "../zarr/store/s3.js";
import type { StoreKey } from "../zarr/store/types.js";
import { hostAllowed, parseAllowedHosts, reachableHost } from "./access.js";
import { Api } from "./api.js";
import { safeSegments, serveFile } from "./files.js";
import { CONTENT_TYPES, cookie, parseTarget, send, sendError, sendJson } from "./http-util.js";
import { OVERVIEW_TIMEOUT_MS } from "./overview-cache.js";
import { serveStoreKey } from "./remote-files.js";

export interface ServeOptions {
  /** The store: a directory, or an s3:// or http(s):// URL. */
  store: string;
  /** Remote stores: anonymous access, endpoint, region (credentials: the environment). */
  remote?: RemoteOptions | undefined;
  host?: string;
  port?: number;
  /**
   * Host names a loopback server answers besides 127.0.0.1, localhost and [::1] (a reverse proxy
   * on this machine): "name" (any port) or ".domain" (it and its subdomains).
   */
  allowedHosts?: string[];
  /** Built inspector files (default: web/dist of the package). */
  webRoot?: string;
  pool: WorkerPool;
  /** Where overviews are cached between runs (default: memory only). */
  cacheDir?: string | undefined;
  /** Time limit of one overview build in milliseconds (default 300 000; 0: none). */
  overviewTimeoutMs?: number;
  /** Where the server's log lines go (default: stderr, after "geozarr: "). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  server: Server;
  token: string | null;
  api: Api;
  /** Close the listener and every connection, stop overview builds and remove their partial output. */
  close(): Promise<void>;
}

const TOKEN_COOKIE = "geozarr_token";

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const loopback = isLoopback(host);
  const allowed = parseAllowedHosts(opts.allowedHosts ?? []);
  if (!loopback && allowed.length > 0)
    throw new GeoZarrError(
      "Usage",
      `allowedHosts applies to a loopback host; a server bound to ${host} is protected by its token instead`,
    );
  const log = opts.log ?? ((line: string) => console.error(`geozarr: ${line}`));
  const token = loopback ? null : randomBytes(16).toString("hex");
  const loc = parseLocation(opts.store);
  // A directory is served from disk (files.ts); a remote store through the store (remote-files.ts).
  let storeRoot: string | null = null;
  let store: FileSystemStore | HttpStore | S3Store;
  if (loc.kind === "fs") {
    storeRoot = await realpath(resolve(opts.store)).catch(() => {
      throw new GeoZarrError("NotFound", `${opts.store}: no such file or directory`, { where: opts.store });
    });
    store = new FileSystemStore(storeRoot);
  } else store = storeAt(loc, opts.remote);
  const api = await Api.open(store, opts.store, opts.pool, {
    cacheDir: opts.cacheDir,
    overviewTimeoutMs: opts.overviewTimeoutMs ?? OVERVIEW_TIMEOUT_MS,
    log,
  });
  const webDir = resolve(opts.webRoot ?? new URL("../../web/dist", import.meta.url).pathname);
  const webRoot = await realpath(webDir).catch(() => webDir);

  const authorized = (req: IncomingMessage, query: URLSearchParams): boolean => {
    if (!token) return true;
    const given = query.get("token") ?? cookie(req, TOKEN_COOKIE) ?? "";
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  // Known once listening (port 0 picks one).
  let port = 0;
  let shownHost = host;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (loopback && !hostAllowed(req.headers.host, port, shownHost, allowed)) {
      log(
        `refused a request from ${req.socket.remoteAddress} for Host ${JSON.stringify(req.headers.host ?? "")}: not an address of this inspector (DNS rebinding?)`,
      );
      return send(res, 403, "forbidden: the Host header does not name this inspector\n", "text/plain");
    }
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(res, 405, "method not allowed", "text/plain", { Allow: "GET, HEAD" });
    const target = parseTarget(req.url);
    if ("error" in target) return sendJson(res, { error: target.error }, target.status);
    const { path, query } = target;
    if (!authorized(req, query)) return sendJson(res, { error: "missing or wrong token" }, 403);
    if (token && query.get("token"))
      res.setHeader("Set-Cookie", `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    if (path.startsWith("/api/")) return api.handle(path.slice(5), query, res);
    if (path.startsWith("/store/"))
      return storeRoot
        ? serveStore(storeRoot, path.slice("/store".length), req, res)
        : serveRemote(store as HttpStore | S3Store, path.slice("/store".length), req, res);
    if (path.startsWith("/overview/")) return api.serveOverview(path.slice("/overview".length), req, res);
    return serveStatic(webRoot, path, req, res);
  };
  const server = createHttpServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err, log));
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", (err) =>
      fail(
        new GeoZarrError("IO", `cannot listen on ${host}:${opts.port ?? 0}: ${(err as Error).message}`, {
          cause: err,
        }),
      ),
    );
    server.listen(opts.port ?? 0, host, () => ok());
  }).catch(async (err) => {
    await api.close();
    throw err;
  });
  const addr = server.address() as AddressInfo;
  port = addr.port;
  shownHost = reachableHost(addr.address, addr.family);
  const url = `http://${shownHost}:${port}/${token ? `?token=${token}` : ""}`;
  return {
    url,
    server,
    token,
    api,
    close: async () => {
      // Browsers keep idle keep-alive connections open; close() alone would wait for them.
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await Promise.all([closed, api.close()]);
    },
  };
}

function contentType(key: string): string {
  return key.endsWith(".json") || /\/\.z(array|group|attrs|metadata)$/.test(key)
    ? "application/json"
    : "application/octet-stream";
}

async function serveStore(
  root: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const segs = safeSegments(path);
  if (segs && segs.length > 0 && (await serveFile(req, res, root, segs, contentType(path)))) return;
  // Zarr readers probe keys: a missing one is an ordinary 404.
  sendJson(res, { error: "not found" }, 404);
}

async function serveRemote(
  store: HttpStore | S3Store,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const segs = safeSegments(path);
  const key = `/${(segs ?? []).join("/")}` as StoreKey;
  if (segs && segs.length > 0 && (await serveStoreKey(req, res, store, key, contentType(path)))) return;
  sendJson(res, { error: "not found" }, 404);
}

async function serveStatic(
  root: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const segs = safeSegments(path === "/" ? "/index.html" : path);
  if (segs && segs.length > 0) {
    const type = CONTENT_TYPES[extname(segs[segs.length - 1]!)] ?? "application/octet-stream";
    const cache = segs[0] === "assets" ? "public, max-age=31536000, immutable" : "no-cache";
    if (await serveFile(req, res, root, segs, type, { "Cache-Control": cache })) return;
  }
  if (!existsSync(join(root, "index.html")))
    return send(res, 503, "the inspector is not built: run `npm run build`", "text/plain");
  sendJson(res, { error: "not found" }, 404);
}
