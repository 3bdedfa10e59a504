/**
 * `geozarr serve`: a local, read-only web inspector for one store.
 *
 * Binds 127.0.0.1 by default. Serves only: the inspector's built files, a JSON API over the
 * library (tree, node metadata, validation, map layers and their overviews), and the store's own
 * files under /store/ (read-only, with HTTP range requests) for map clients such as OpenLayers'
 * GeoZarr source. Keys are confined to the store root (no "..", no symlinks out). No CORS headers:
 * only the page itself may call the API. When bound to anything but loopback, every request must
 * carry a random token (query `token=` once, then an HttpOnly cookie).
 *
 * @module
 */

import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { GeoZarrError } from "../errors.js";
import type { WorkerPool } from "../parallel/pool.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { Api } from "./api.js";
import { CONTENT_TYPES, cookie, parseRange, send, sendError, sendJson } from "./http-util.js";

export interface ServeOptions {
  /** The store directory. */
  store: string;
  host?: string;
  port?: number;
  /** Built inspector files (default: web/dist of the package). */
  webRoot?: string;
  pool: WorkerPool;
  /** Where overviews are cached between runs (default: a .geozarr-cache directory next to nothing: memory only). */
  cacheDir?: string | undefined;
}

export interface RunningServer {
  url: string;
  server: Server;
  token: string | null;
  api: Api;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const TOKEN_COOKIE = "geozarr_token";

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const token = LOOPBACK.has(host) ? null : randomBytes(16).toString("hex");
  const storeRoot = await realpath(resolve(opts.store)).catch(() => {
    throw new GeoZarrError("NotFound", `${opts.store}: no such file or directory`, { where: opts.store });
  });
  const store = new FileSystemStore(storeRoot);
  const api = await Api.open(store, opts.store, opts.pool, opts.cacheDir);
  const webRoot = resolve(opts.webRoot ?? new URL("../../web/dist", import.meta.url).pathname);

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (!token) return true;
    const given = url.searchParams.get("token") ?? cookie(req, TOKEN_COOKIE) ?? "";
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const server = createHttpServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (req.method !== "GET" && req.method !== "HEAD") {
        send(res, 405, "method not allowed", "text/plain", { Allow: "GET, HEAD" });
        return;
      }
      if (!authorized(req, url)) {
        sendJson(res, { error: "missing or wrong token" }, 403);
        return;
      }
      if (token && url.searchParams.get("token")) {
        res.setHeader("Set-Cookie", `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      }
      const path = decodeURIComponent(url.pathname);
      if (path.startsWith("/api/")) return await api.handle(path.slice(5), url.searchParams, res);
      if (path.startsWith("/store/"))
        return await serveStore(store, storeRoot, path.slice("/store".length), req, res);
      if (path.startsWith("/overview/")) return await api.serveOverview(path.slice("/overview".length), res);
      return await serveStatic(webRoot, path, res);
    } catch (err) {
      sendError(res, err);
    }
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
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}/${token ? `?token=${token}` : ""}`;
  return {
    url,
    server,
    token,
    api,
    // Browsers keep idle keep-alive connections open; close() alone would wait for them.
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** Segments of a request path, or null when one would leave the root ("..", "."). */
function safeSegments(path: string): string[] | null {
  const segs = path.split("/").filter((s) => s.length > 0);
  return segs.some((s) => s === ".." || s === "." || s.includes("\0") || s.includes("\\")) ? null : segs;
}

async function serveStore(
  store: FileSystemStore,
  root: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const segs = safeSegments(path);
  if (!segs || segs.length === 0) return sendJson(res, { error: "not found" }, 404);
  const file = join(root, ...segs);
  // Symlinks must not lead outside the store.
  const real = await realpath(file).catch(() => null);
  if (!real || !(real === root || real.startsWith(root + sep)))
    return sendJson(res, { error: "not found" }, 404);
  const key = `/${segs.join("/")}` as const;
  const size = await store.sizeOf(key);
  if (size === undefined) return sendJson(res, { error: "not found" }, 404);
  const range = parseRange(req.headers.range, size);
  if (range === "invalid") return send(res, 416, "", "text/plain", { "Content-Range": `bytes */${size}` });
  const type =
    key.endsWith(".json") || /\/\.z(array|group|attrs|metadata)$/.test(key)
      ? "application/json"
      : "application/octet-stream";
  if (range) {
    const bytes = (await store.getRange(key, { offset: range.start, length: range.end - range.start + 1 }))!;
    return send(res, 206, bytes, type, {
      "Content-Range": `bytes ${range.start}-${range.end}/${size}`,
      "Accept-Ranges": "bytes",
    });
  }
  const bytes = (await store.get(key))!;
  send(res, 200, bytes, type, { "Accept-Ranges": "bytes" });
}

async function serveStatic(root: string, path: string, res: ServerResponse): Promise<void> {
  const segs = safeSegments(path === "/" ? "/index.html" : path);
  const file = segs ? join(root, ...segs) : null;
  if (!file?.startsWith(root + sep) || !existsSync(file)) {
    if (!existsSync(join(root, "index.html"))) {
      return send(res, 503, "the inspector is not built: run `npm run build`", "text/plain");
    }
    return sendJson(res, { error: "not found" }, 404);
  }
  const bytes = await readFile(file).catch(() => null);
  if (!bytes) return sendJson(res, { error: "not found" }, 404);
  send(res, 200, bytes, CONTENT_TYPES[extname(file)] ?? "application/octet-stream", {
    "Cache-Control": file.includes(`${sep}assets${sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
  });
}
