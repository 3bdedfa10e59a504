/**
 * Who may talk to the inspector, and the address it tells people to use.
 *
 * - Bound to loopback, the server needs no token, so it must make sure the request really was
 *   meant for it: a page on another site can point its own host name at 127.0.0.1 (DNS
 *   rebinding) and would then read the store as a same-origin page. Browsers always send the
 *   name they resolved in `Host`, so a request is answered only when `Host` is 127.0.0.1,
 *   localhost or [::1] with this server's port, or a name the user allowed (`allowedHosts`, for
 *   a reverse proxy). This is what Vite's `server.allowedHosts` and webpack-dev-server's
 *   `allowedHosts` do; we are stricter (no other IP literals, the port must match) because
 *   nothing but this machine's browser should reach a loopback inspector.
 * - Bound elsewhere, every request carries a random token (query `token=` once, then an
 *   HttpOnly SameSite=Strict cookie); a rebound page knows neither, so `Host` is not checked.
 *
 * @module
 */

import { hostname, networkInterfaces } from "node:os";
import { GeoZarrError } from "../errors.js";

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/**
 * Host names a user allows besides the loopback ones: a name ("inspect.example.org", any port)
 * or a domain with a leading dot (".example.org": it and its subdomains), as in Vite.
 */
export function parseAllowedHosts(names: readonly string[]): string[] {
  return names.map((raw) => {
    const n = raw.trim().toLowerCase();
    if (!/^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(n))
      throw new GeoZarrError(
        "Usage",
        `allowed host ${JSON.stringify(raw)} is not a host name (such as inspect.example.org, or .example.org for a domain)`,
      );
    return n;
  });
}

/**
 * Whether a request with this `Host` header is meant for a loopback server on `port` whose URL
 * names `self` (127.0.0.1 unless bound to another loopback address).
 */
export function hostAllowed(
  header: string | undefined,
  port: number,
  self: string,
  allowed: readonly string[],
): boolean {
  if (!header) return false;
  const h = header.trim().toLowerCase();
  if ([...LOOPBACK_NAMES, self].some((n) => h === `${n}:${port}`)) return true;
  const m = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  if (!m) return false;
  const name = m[1]!.replace(/\.$/, "");
  return allowed.some((a) => (a.startsWith(".") ? name === a.slice(1) || name.endsWith(a) : name === a));
}

/**
 * The host to print in the URL for a server bound to `bound`: the address itself, or, for the
 * wildcard addresses (0.0.0.0, ::) that no browser can open, this machine's first external
 * address (IPv4 first), else its host name.
 */
export function reachableHost(bound: string, family: string): string {
  const wildcard = bound === "0.0.0.0" || bound === "::" || bound === "0:0:0:0:0:0:0:0";
  if (!wildcard) return family === "IPv6" ? `[${bound}]` : bound;
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal);
  const v4 = external.find((a) => a!.family === "IPv4");
  if (v4) return v4.address;
  // Link-local IPv6 addresses need a zone id browsers do not take: only global ones.
  const v6 =
    bound === "::" ? external.find((a) => a!.family === "IPv6" && !/^fe80:/i.test(a!.address)) : undefined;
  if (v6) return `[${v6.address}]`;
  return hostname();
}
