/**
 * An in-memory store over a Map. Used by tests and by callers that build stores in memory.
 * @module
 */

import type { DescribableStore, MutableStore, RangeQuery, StoreKey } from "./types.js";

export class MemoryStore implements MutableStore, DescribableStore {
  readonly descriptor = undefined;
  readonly map: Map<string, Uint8Array>;

  constructor(entries?: Iterable<[string, Uint8Array | string]>) {
    this.map = new Map();
    for (const [k, v] of entries ?? [])
      this.map.set(k, typeof v === "string" ? new TextEncoder().encode(v) : v);
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    return this.map.get(key);
  }

  async getRange(key: StoreKey, range: RangeQuery): Promise<Uint8Array | undefined> {
    const v = this.map.get(key);
    if (!v) return undefined;
    if ("suffixLength" in range) return v.subarray(Math.max(0, v.length - range.suffixLength));
    return v.subarray(range.offset, range.offset + range.length);
  }

  async sizeOf(key: StoreKey): Promise<number | undefined> {
    return this.map.get(key)?.length;
  }

  async set(key: StoreKey, value: Uint8Array): Promise<void> {
    // Copy: the caller may reuse its buffer (the writer does).
    this.map.set(key, value.slice());
  }

  async delete(key: StoreKey): Promise<void> {
    this.map.delete(key);
  }

  async listDir(prefix: StoreKey): Promise<{ keys: string[]; prefixes: string[] }> {
    const p = prefix.endsWith("/") ? prefix : `${prefix}/`;
    const keys = new Set<string>();
    const prefixes = new Set<string>();
    for (const k of this.map.keys()) {
      if (!k.startsWith(p)) continue;
      const rest = k.slice(p.length);
      const slash = rest.indexOf("/");
      if (slash < 0) keys.add(rest);
      else prefixes.add(rest.slice(0, slash));
    }
    return { keys: [...keys].sort(), prefixes: [...prefixes].sort() };
  }
}
