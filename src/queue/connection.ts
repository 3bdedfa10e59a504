/**
 * The Redis a queued run goes through (BullMQ's backend): a `redis://` or `rediss://` URL, checked
 * to be reachable before anything is submitted or a worker starts, so that a wrong URL is one line
 * and not a client retrying forever. Past that first check the clients reconnect by themselves
 * (ioredis' retry strategy): a worker outlives a Redis restart.
 * @module
 */

import { Redis, type RedisOptions } from "ioredis";
import { GeoZarrError, messageOf } from "../errors.js";

/** The queue's name when none is given: every geozarr worker and run agree on it. */
export const DEFAULT_QUEUE = "geozarr";

/** Where a run's jobs and workers meet. */
export interface QueueTarget {
  /** redis://[user:password@]host:port[/db] or rediss:// (TLS). */
  redis: string;
  /** The BullMQ queue name (default "geozarr"). */
  queue?: string | undefined;
}

/** The URL with its password hidden, for messages and logs. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

function parse(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GeoZarrError("Usage", `${url}: not a Redis URL (redis://HOST:PORT)`, { where: url });
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new GeoZarrError("Usage", `${shownUrl(url)}: not a Redis URL (redis://HOST:PORT or rediss://)`, {
      where: url,
    });
  return u;
}

/**
 * A BullMQ connection for `url`: an ioredis client whose commands wait for a reconnect rather than
 * failing (BullMQ requires `maxRetriesPerRequest: null` for its blocking workers).
 */
export function redisClient(url: string, extra: RedisOptions = {}): Redis {
  parse(url);
  return new Redis(url, { maxRetriesPerRequest: null, ...extra });
}

/** Refuse an unreachable or wrong Redis in one line (a few seconds at most). */
export async function checkRedis(url: string): Promise<void> {
  parse(url);
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    const info = await probe.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "0";
    // BullMQ needs Redis 5 or later (streams).
    if (Number(version.split(".")[0]) < 5)
      throw new GeoZarrError("Unsupported", `${shownUrl(url)}: Redis ${version}; BullMQ needs 5.0 or later`);
  } catch (err) {
    if (err instanceof GeoZarrError) throw err;
    throw new GeoZarrError("IO", `${shownUrl(url)}: cannot reach Redis (${messageOf(err)})`, {
      where: url,
      cause: err,
    });
  } finally {
    probe.disconnect();
  }
}
