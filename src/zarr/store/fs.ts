/**
 * A store over a directory on the local file system (Node only).
 *
 * Keys map to files under the root; a missing file or a directory reads as "no value". Writes create
 * parent directories. Errors other than "not found" are GeoZarrError("IO") naming the file.
 *
 * @module
 */

import { mkdir, open, readdir, realpath, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { fsError, GeoZarrError } from "../../errors.js";
import { writeDirect } from "./direct-write.js";
import type {
  DescribableStore,
  Listing,
  MutableStore,
  RangeQuery,
  StoreDescriptor,
  StoreKey,
} from "./types.js";

export class FileSystemStore implements MutableStore, DescribableStore {
  readonly root: string;
  readonly descriptor: StoreDescriptor;
  readonly #madeDirs = new Set<string>();
  #realRoot: string | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.descriptor = { kind: "fs", root: this.root };
  }

  /** The file a key maps to. Keys are confined to the root: ".." segments are rejected. */
  pathOf(key: StoreKey): string {
    const segs = key.split("/").filter((s) => s.length > 0);
    if (segs.some((s) => s === ".." || s === ".")) {
      // Never resolve outside the root (the inspector serves keys from URLs).
      throw new GeoZarrError("NotFound", `${key}: invalid store key`, { where: key });
    }
    return join(this.root, ...segs);
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    const scratch = { buf: new Uint8Array(0) };
    return this.#read(key, scratch, true);
  }

  async getInto(key: StoreKey, scratch: { buf: Uint8Array }): Promise<Uint8Array | undefined> {
    return this.#read(key, scratch, false);
  }

  /** One sized read (fs.readFile reads in 512 KiB steps, several times slower for 20 MB chunks). */
  async #read(key: StoreKey, scratch: { buf: Uint8Array }, exact: boolean): Promise<Uint8Array | undefined> {
    const path = this.pathOf(key);
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      fh = await open(path, "r");
      const size = (await fh.stat()).size;
      if (scratch.buf.length < size) scratch.buf = new Uint8Array(exact ? size : Math.ceil(size * 1.25));
      const out = scratch.buf;
      let done = 0;
      while (done < size) {
        const { bytesRead } = await fh.read(out, done, size - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return out.subarray(0, done);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw fsError(err, path, "read");
    } finally {
      await fh?.close();
    }
  }

  async getRange(key: StoreKey, range: RangeQuery): Promise<Uint8Array | undefined> {
    const path = this.pathOf(key);
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      fh = await open(path, "r");
      const size = (await fh.stat()).size;
      const offset = "suffixLength" in range ? Math.max(0, size - range.suffixLength) : range.offset;
      const length =
        "suffixLength" in range ? size - offset : Math.max(0, Math.min(range.length, size - offset));
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? out : out.subarray(0, done);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw fsError(err, path, "read");
    } finally {
      await fh?.close();
    }
  }

  async sizeOf(key: StoreKey): Promise<number | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? s.size : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: StoreKey, value: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    const dir = path.slice(0, path.lastIndexOf("/"));
    try {
      if (!this.#madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.#madeDirs.add(dir);
      }
      if (!writeDirect(path, value)) await writeFile(path, value);
    } catch (err) {
      throw fsError(err, path, "write");
    }
  }

  async delete(key: StoreKey): Promise<void> {
    const path = this.pathOf(key);
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw fsError(err, path, "delete");
    }
  }

  /**
   * Links to files are listed as keys (their targets are read). Links to directories are not
   * followed: one pointing into the store would list its nodes twice or forever (`self -> .`), one
   * pointing out of it would make the store's extent depend on the rest of the disk. They are
   * reported in `skipped` instead.
   */
  async listDir(prefix: StoreKey): Promise<Listing> {
    const path = this.pathOf(prefix);
    try {
      const entries = await readdir(path, { withFileTypes: true });
      const keys: string[] = [];
      const prefixes: string[] = [];
      const skipped: { name: string; reason: string }[] = [];
      for (const e of entries) {
        if (e.isDirectory()) prefixes.push(e.name);
        else if (e.isFile()) keys.push(e.name);
        else if (e.isSymbolicLink()) {
          const target = join(path, e.name);
          const s = await stat(target).catch(() => undefined);
          if (s?.isFile()) keys.push(e.name);
          else if (s?.isDirectory()) {
            const real = await realpath(target);
            this.#realRoot ??= await realpath(this.root).catch(() => this.root);
            const root = this.#realRoot;
            const inside = real === root || real.startsWith(root + sep);
            skipped.push({
              name: e.name,
              reason: inside
                ? "a symbolic link to a directory inside the store, not followed (it would repeat or loop)"
                : "a symbolic link to a directory outside the store, not followed",
            });
          }
        }
      }
      return { keys: keys.sort(), prefixes: prefixes.sort(), ...(skipped.length ? { skipped } : {}) };
    } catch (err) {
      if (isMissing(err)) return { keys: [], prefixes: [] };
      throw fsError(err, path, "list");
    }
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR";
}
