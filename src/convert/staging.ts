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
import { join } from "node:path";
import { fsError } from "../errors.js";
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

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    throw fsError(err, path, "write");
  }
}

async function sameStamp(s: SourceStamp): Promise<boolean> {
  const st = await stat(s.file).catch(() => null);
  return st !== null && st.size === s.size && st.mtimeMs === s.mtimeMs;
}

export class Staging {
  readonly meta: string;

  constructor(
    readonly dir: string,
    readonly planId: string,
  ) {
    this.meta = join(dir, STAGING_META);
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
    if (rec.plan !== this.planId || rec.index !== index) return false;
    if (rec.sources.length !== sources.length) return false;
    for (const [i, s] of sources.entries()) {
      const r = rec.sources[i]!;
      if (r.file !== s.file || r.size !== s.size || r.mtimeMs !== s.mtimeMs || !(await sameStamp(s)))
        return false;
    }
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
