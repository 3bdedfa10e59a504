/**
 * geozarr's own optional native addons (native/<name>, built by node-gyp at install:
 * native/build.mjs): each loaded once per thread on first use, or not at all when it was not built
 * or its switch turns it off; the caller then takes its portable path, with the same output.
 *
 * @module
 */

import { createRequire } from "node:module";

/**
 * A loader for native/<name>/build/Release/<name>.node: returns the addon, or null when `enabled()`
 * is false (read once, on the first call) or the addon does not load.
 */
export function addonLoader<T>(name: string, enabled: () => boolean = () => true): () => T | null {
  let addon: T | null | undefined;
  return () => {
    if (addon === undefined) {
      addon = null;
      if (enabled()) {
        try {
          addon = createRequire(import.meta.url)(`../../native/${name}/build/Release/${name}.node`) as T;
        } catch {
          // not built (or not for this platform): the portable path
        }
      }
    }
    return addon;
  };
}
