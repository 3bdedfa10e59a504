/**
 * A resumable run's records in object storage: the plan and one record per finished task, kept as
 * keys under the output's own prefix (`PREFIX/.geozarr-run/plan.json`, `.geozarr-run/tasks/K.json`),
 * beside the chunks, which the tasks PUT straight to their final keys. Object storage has no
 * rename, so there is no staging area to move: what readers see is decided by the consolidated
 * metadata, written last (s3-output.ts), and until then the chunks are invisible.
 *
 * A record is PUT after every chunk of its task was PUT (each PUT checked by S3 against its
 * CRC-32), so a record there means its task finished. On `resume` a record counts only if it is of
 * the same plan, its sources are unchanged (staging.ts `recordMatches`) and every chunk it lists
 * is listed under the prefix with its size; otherwise the task runs again, writing the same bytes
 * (tasks are idempotent: docs/design.md "Time series: plans, tasks, finalize").
 * @module
 */

import { isJsonObject, parseJsonLenient } from "../zarr/json.js";
import type { S3Store } from "../zarr/store/s3.js";
import type { MutableStore, StoreKey } from "../zarr/store/types.js";
import { STAGING_META } from "./output.js";
import { type RunStaging, recordMatches, type SourceStamp, type TaskRecord } from "./staging.js";

const encoder = new TextEncoder();

export class S3Staging implements RunStaging {
  readonly dir = undefined;
  /** Object key -> size, listed once when a record of an earlier run is first checked. */
  #sizes: Map<string, number> | null = null;
  /** Tasks recorded by this process: their PUTs succeeded, nothing to list. */
  readonly #recorded = new Set<number>();

  constructor(
    readonly s3: S3Store,
    /** The store tasks write into (metadata held back until the commit). */
    readonly upload: MutableStore,
    readonly planId: string,
  ) {}

  get where(): string {
    return this.s3.url;
  }

  store(): MutableStore {
    return this.upload;
  }

  #recordKey(index: number): StoreKey {
    return `/${STAGING_META}/tasks/${index}.json`;
  }

  async writePlan(planJson: string): Promise<void> {
    await this.s3.put(`/${STAGING_META}/plan.json`, encoder.encode(planJson));
  }

  async #listing(): Promise<Map<string, number>> {
    if (this.#sizes) return this.#sizes;
    const sizes = new Map<string, number>();
    for await (const page of this.s3.listObjects("/"))
      for (const o of page) if (o.Key) sizes.set(o.Key, o.Size ?? 0);
    this.#sizes = sizes;
    return sizes;
  }

  async done(index: number, sources: SourceStamp[]): Promise<boolean> {
    if (this.#recorded.has(index)) return true;
    const bytes = await this.s3.get(this.#recordKey(index));
    if (bytes === undefined) return false;
    let rec: TaskRecord;
    try {
      const v = parseJsonLenient(bytes, this.s3.urlOf(this.#recordKey(index))).value;
      if (!isJsonObject(v)) return false;
      rec = v as unknown as TaskRecord;
    } catch {
      return false;
    }
    if (!(await recordMatches(rec, this.planId, index, sources))) return false;
    const sizes = await this.#listing();
    return rec.files.every((f) => sizes.get(this.s3.objectKey(f.key as StoreKey)) === f.size);
  }

  async record(rec: Omit<TaskRecord, "plan">): Promise<void> {
    await this.s3.put(
      this.#recordKey(rec.index),
      encoder.encode(JSON.stringify({ plan: this.planId, ...rec })),
    );
    this.#recorded.add(rec.index);
  }
}

/** Delete the run's own keys (plan and records) under the prefix: after the consolidated metadata. */
export async function removeRunKeys(s3: S3Store): Promise<void> {
  const keys: string[] = [];
  for await (const page of s3.listObjects(`/${STAGING_META}`))
    for (const o of page) if (o.Key) keys.push(o.Key);
  if (keys.length) await s3.deleteObjects(keys);
}
