/**
 * What a thread keeps between reads of input files (open handles, headers, chunk indexes), each
 * under the version of the file it came from: a file rewritten in place since is opened again,
 * never read through stale structures.
 * @module
 */

import { statSync } from "node:fs";
import { fsError } from "../errors.js";

/** A file's identity and version: inode, size and modification time. */
export function fileVersion(file: string): string {
  try {
    const st = statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (err) {
    throw fsError(err, file, "open");
  }
}

export class Kept<T> {
  readonly #items = new Map<string, { value: T; version: string }>();

  /**
   * `release` closes what a value holds when it is dropped; beyond `capacity` values the least
   * recently used is dropped (a thread reading thousands of granules keeps what it reads now).
   */
  constructor(
    private readonly release: (value: T) => void = () => undefined,
    private readonly capacity = Number.POSITIVE_INFINITY,
  ) {}

  /** The value kept under `key` for this version of its file; a stale one is released. */
  lookup(key: string, version: string): T | undefined {
    const kept = this.#items.get(key);
    if (kept?.version === version) {
      // The most recently used last (a Map keeps insertion order).
      this.#items.delete(key);
      this.#items.set(key, kept);
      return kept.value;
    }
    if (kept) {
      this.#items.delete(key);
      this.release(kept.value);
    }
    return undefined;
  }

  keep(key: string, version: string, value: T): T {
    this.drop(key);
    this.#items.set(key, { value, version });
    for (const oldest of this.#items.keys()) {
      if (this.#items.size <= this.capacity) break;
      this.drop(oldest);
    }
    return value;
  }

  /** Release what is kept under `key`, if anything. */
  drop(key: string): void {
    const kept = this.#items.get(key);
    if (!kept) return;
    this.#items.delete(key);
    this.release(kept.value);
  }

  /** Release everything. */
  clear(): void {
    for (const { value } of this.#items.values()) this.release(value);
    this.#items.clear();
  }
}
