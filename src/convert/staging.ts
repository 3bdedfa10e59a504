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
import { fsError } from "../errors.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import type { MutableStore } from "../zarr/store/types.js";
import type { WrittenUnit } from "./execute.js";
import { STAGING_META } from "./output.js";

export interface SourceStamp {
  file: string;
  size: number;
  mtimeMs: number;
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
    if (r.file !== s.file || r.size !== s.size || r.mtimeMs !== s.mtimeMs || !(await sameStamp(s)))
      return false;
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

async function sameStamp(s: SourceStamp): Promise<boolean> {
  const st = await stat(s.file).catch(() => null);
  return st !== null && st.size === s.size && st.mtimeMs === s.mtimeMs;
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
