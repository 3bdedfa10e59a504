/**
 * A resumable run's records, kept in its staging area (convert/output.ts, `.OUT.partial-<plan id>`)
 * under `.geozarr-run/`: the plan it executes, and one record per finished task naming what the task
 * wrote (every chunk's key and size) and the sources it read (size and modification time).
 *
 * A task's record is written after its chunks, by rename, so a record present means the task
 * finished. `--resume` re-runs a task unless its record is there, is of the same plan, its sources
 * are unchanged, and every chunk it lists is there with its size; tasks are idempotent (a chunk's
 * bytes depend only on the plan and its sources), so re-running one is always safe.
 * @module
 */

import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fsError, GeoZarrError } from "../errors.js";
import type { RemoteFile } from "../readers/byte-source.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import type { HttpStore } from "../zarr/store/http.js";
import { storeFromRef } from "../zarr/store/ref.js";
import type { S3Store } from "../zarr/store/s3.js";
import type { MutableStore, StoreKey } from "../zarr/store/types.js";
import type { WrittenUnit } from "./execute.js";
import { STAGING_META } from "./output.js";

export interface SourceStamp {
  /** The absolute path, or the URL of an object in S3 or behind HTTP. */
  file: string;
  size: number;
  /** A local file's modification time; 0 for an object, whose `object.version` says when it changed. */
  mtimeMs: number;
  /**
   * An object named by URL: its version (ETag, else Last-Modified: zarr/store/remote.ts
   * `versionOf`) and where a HEAD asks for it again (the store holding it, its key there).
   */
  object?: { version: string; store: RemoteFile["store"]; key: StoreKey } | undefined;
}

export interface TaskRecord {
  plan: string;
  index: number;
  label: string;
  sources: SourceStamp[];
  files: WrittenUnit[];
}

/**
 * Where a resumable run keeps its plan and task records, and the store its tasks write into: a
 * staging directory (`Staging`, below) or, in object storage, keys under the output's own prefix
 * (s3-staging.ts, where chunks go to their final keys and the consolidated metadata written last
 * decides what readers see).
 */
export interface RunStaging {
  readonly planId: string;
  /** Where it is, for messages. */
  readonly where: string;
  /** The directory, when it is one (the levels are added in it; in object storage, in a local copy). */
  readonly dir?: string | undefined;
  /** The store the tasks and finalize write into. */
  store(): MutableStore;
  writePlan(planJson: string): Promise<void>;
  /** Whether task `index` finished in an earlier run and what it wrote is intact. */
  done(index: number, sources: SourceStamp[]): Promise<boolean>;
  record(rec: Omit<TaskRecord, "plan">): Promise<void>;
}

/** Whether a record read back belongs to this plan and task, and its sources are the planned ones, unchanged. */
export async function recordMatches(
  rec: TaskRecord,
  planId: string,
  index: number,
  sources: SourceStamp[],
): Promise<boolean> {
  if (rec.plan !== planId || rec.index !== index) return false;
  if (!Array.isArray(rec.sources) || !Array.isArray(rec.files) || rec.sources.length !== sources.length)
    return false;
  for (const [i, s] of sources.entries()) {
    const r = rec.sources[i]!;
    if (r.file !== s.file || !sameBytes(r, s) || !(await sameStamp(s))) return false;
  }
  return true;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    throw fsError(err, path, "write");
  }
}

/** A source file's stamp as a plan records it: its absolute path, size and modification time. */
export async function stampOf(file: string): Promise<SourceStamp> {
  const st = await stat(file).catch((err) => {
    throw fsError(err, file, "read");
  });
  return { file: resolve(file), size: st.size, mtimeMs: st.mtimeMs };
}

/** The stamp of an object named by URL, as a plan records it (its size and version, read before planning). */
export function objectStamp(
  file: Pick<RemoteFile, "url" | "store" | "key" | "size" | "version">,
): SourceStamp {
  return {
    file: file.url,
    size: file.size,
    mtimeMs: 0,
    object: { version: file.version, store: file.store, key: file.key },
  };
}

/**
 * The source of stamp `s` as it is now, stamped the same way: a local file by `stat`, an object by
 * a HEAD through the store that holds it. A source that is gone is a one-line error naming it.
 */
async function stampNow(s: SourceStamp): Promise<SourceStamp> {
  if (!s.object) {
    const st = await stat(s.file).catch((err) => {
      throw fsError(err, s.file, "read");
    });
    return { file: s.file, size: st.size, mtimeMs: st.mtimeMs };
  }
  const store = storeFromRef(s.object.store) as HttpStore | S3Store;
  const v = await store.objectVersion(s.object.key);
  if (!v) throw new GeoZarrError("NotFound", `${s.file}: no such file`, { where: s.file });
  return { ...s, size: v.size, object: { ...s.object, version: v.version } };
}

/** Whether two stamps of one source say the same bytes (size and time, or size and version). */
const sameBytes = (a: SourceStamp, b: SourceStamp) =>
  a.size === b.size && a.mtimeMs === b.mtimeMs && a.object?.version === b.object?.version;

/** Whether the source of `s` is still what it was when stamped. */
async function sameStamp(s: SourceStamp): Promise<boolean> {
  const now = await stampNow(s).catch(() => null);
  return now !== null && sameBytes(now, s);
}

/** Refuse a source changed since the run was planned (the plan no longer describes it). */
export async function checkStamp(s: SourceStamp): Promise<void> {
  const now = await stampNow(s);
  if (!sameBytes(now, s))
    throw new GeoZarrError(
      "Format",
      `${s.file}: changed since the run was planned (size or ${s.object ? "version" : "modification time"}); plan the run again`,
      { where: s.file },
    );
}

export class Staging implements RunStaging {
  readonly meta: string;

  constructor(
    readonly dir: string,
    readonly planId: string,
  ) {
    this.meta = join(dir, STAGING_META);
  }

  get where(): string {
    return this.dir;
  }

  store(): MutableStore {
    return new FileSystemStore(this.dir);
  }

  /** Keep the plan beside the records (what a queue of workers, or a person, reads). */
  async writePlan(planJson: string): Promise<void> {
    await mkdir(join(this.meta, "tasks"), { recursive: true }).catch((err) => {
      throw fsError(err, this.meta, "create directory");
    });
    await writeAtomically(join(this.meta, "plan.json"), planJson);
  }

  #recordPath(index: number): string {
    return join(this.meta, "tasks", `${index}.json`);
  }

  /** Whether task `index` finished in an earlier run and what it wrote is intact. */
  async done(index: number, sources: SourceStamp[]): Promise<boolean> {
    let rec: TaskRecord;
    try {
      rec = JSON.parse(await readFile(this.#recordPath(index), "utf8")) as TaskRecord;
    } catch {
      return false;
    }
    if (!(await recordMatches(rec, this.planId, index, sources))) return false;
    for (const f of rec.files) {
      const st = await stat(join(this.dir, ...f.key.split("/").filter(Boolean))).catch(() => null);
      if (!st || st.size !== f.size) return false;
    }
    return true;
  }

  async record(rec: Omit<TaskRecord, "plan">): Promise<void> {
    await writeAtomically(this.#recordPath(rec.index), JSON.stringify({ plan: this.planId, ...rec }));
  }
}
