/**
 * An output in object storage (`s3://bucket/prefix`) that is complete or invisible, with one writer
 * and never anything but ours: the guarantees of output.ts, built from ordering since S3 has no
 * rename (docs/design.md "Safety").
 *
 * - **Order.** Chunks are written as they are encoded (workers PUT them directly, each with a
 *   checksum S3 verifies: s3.ts). Metadata documents are held back (`OrderedUploadStore`) and
 *   written by `commit` only after every chunk: array and group documents first, the root's next,
 *   and the consolidated metadata last (the v3 root zarr.json, or v2 .zmetadata). Until that last
 *   PUT a reader opening through consolidated metadata finds no store; a v3 reader finds no root.
 * - **One writer.** A lock object under the prefix (`.geozarr-lock`: pid, host, start, token),
 *   created with `If-None-Match: *` (S3 conditional writes: exactly one of two racing PUTs
 *   succeeds) and read back for the token (servers that ignore the condition: the later writer
 *   sees it lost). A lock whose process is gone on this host is taken over, as locally.
 * - **Left-overs and resume.** A marker object (`.geozarr-partial.json`, naming the run's plan) is
 *   written before anything else and removed after the consolidated metadata. A run that fails,
 *   is interrupted or killed leaves it, with the plan and the task records (s3-staging.ts); the
 *   next run stops with its message, unless it resumes the same plan (`begin`: the records
 *   checked, only unfinished tasks run again) or the overwrite option removes the partial upload.
 * - **Only what is ours.** `overwrite` replaces an empty prefix, a Zarr store (root zarr.json,
 *   .zgroup or .zarray with a zarr_format) or a partial upload of ours: the old root documents are
 *   deleted first (readers stop seeing a store at once), then every other key, in batches of 1000.
 *   Anything else under the prefix is refused. There is no way to keep the old store visible while
 *   the new one is written at the same prefix: overwriting removes it first.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { GeoZarrError } from "../errors.js";
import { faultPoint } from "../faults.js";
import { isJsonObject, parseJsonLenient } from "../zarr/json.js";
import { isMetadataKey } from "../zarr/store/remote.js";
import { S3Store } from "../zarr/store/s3.js";
import type {
  DescribableStore,
  Listing,
  MutableStore,
  RangeQuery,
  S3Descriptor,
  StoreKey,
} from "../zarr/store/types.js";
import { alive } from "./output.js";
import { removeRunKeys, S3Staging } from "./s3-staging.js";

export const S3_LOCK = ".geozarr-lock";
export const S3_PARTIAL_MARKER = ".geozarr-partial.json";

/** An output being written into a store that is not a directory (output.ts `PendingOutput` otherwise). */
export interface PendingStoreOutput {
  /** Where the conversion writes. */
  store: MutableStore & DescribableStore;
  /** Things the caller should report (a stale lock taken over). */
  notes: string[];
  /**
   * Start writing the run of plan `planId`: continue the interrupted upload of that same plan
   * (with `resume`), or mark the prefix as ours and clear what `overwrite` replaces. Returns where
   * the run keeps its plan and task records.
   */
  begin(planId: string): Promise<S3Staging>;
  /** Whether `begin` continued an interrupted upload. */
  readonly resumed: boolean;
  /**
   * Write the held-back metadata, the consolidated document last, then remove the run's records,
   * the marker and the lock.
   */
  commit(): Promise<void>;
  /** Release the lock; what was uploaded stays, with the marker and the records, for resume. Idempotent. */
  abort(): Promise<void>;
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  token: string;
}

const ROOT_DOCS = ["zarr.json", ".zmetadata", ".zgroup", ".zarray", ".zattrs"] as const;

/**
 * The writer's view of an S3 output: chunks go straight to S3, metadata documents are kept until
 * `flush` (they are small: the documents of the hierarchy). Its descriptor is the S3 store's, so
 * worker threads write chunks themselves (pipeline.ts); they never write metadata.
 */
export class OrderedUploadStore implements MutableStore, DescribableStore {
  readonly #held = new Map<StoreKey, Uint8Array>();

  constructor(readonly s3: S3Store) {}

  get descriptor(): S3Descriptor {
    return this.s3.descriptor;
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    return this.#held.get(key) ?? this.s3.get(key);
  }

  async getRange(key: StoreKey, range: RangeQuery): Promise<Uint8Array | undefined> {
    return this.s3.getRange(key, range);
  }

  async set(key: StoreKey, value: Uint8Array): Promise<void> {
    if (isMetadataKey(key)) this.#held.set(key, value.slice());
    else await this.s3.set(key, value);
  }

  async delete(key: StoreKey): Promise<void> {
    this.#held.delete(key);
    await this.s3.delete(key);
  }

  async listDir(prefix: StoreKey): Promise<Listing> {
    return this.s3.listDir(prefix);
  }

  /** The documents held so far, handed over and forgotten (a step that rebuilds the store from them). */
  take(): Map<StoreKey, Uint8Array> {
    const out = new Map(this.#held);
    this.#held.clear();
    return out;
  }

  /** Write the held documents: nodes below the root (in parallel), the root's, the consolidated one last. */
  async flush(): Promise<void> {
    if (this.#held.size === 0) return; // published already (jobs/upload-levels.ts)
    const consolidated: StoreKey = this.#held.has("/.zmetadata") ? "/.zmetadata" : "/zarr.json";
    const isRoot = (k: string) => k.lastIndexOf("/") === 0;
    const below = [...this.#held.keys()].filter((k) => !isRoot(k));
    const root = [...this.#held.keys()].filter((k) => isRoot(k) && k !== consolidated);
    await Promise.all(below.map((k) => this.s3.put(k, this.#held.get(k)!)));
    for (const k of root) await this.s3.put(k, this.#held.get(k)!);
    const last = this.#held.get(consolidated);
    // Tests kill a run here: everything written but what makes readers see it.
    await faultPoint("s3-consolidate");
    if (last) await this.s3.put(consolidated, last);
    this.#held.clear();
  }
}

function lockedError(url: string, holder: LockInfo | null): GeoZarrError {
  const who = holder
    ? `process ${holder.pid} on ${holder.host}, started ${holder.started}`
    : "another run (unreadable lock)";
  return new GeoZarrError(
    "Exists",
    `${url}: another geozarr run is writing it (${who}); wait for it to finish, or delete ${url}/${S3_LOCK} if that run is gone`,
    { where: url },
  );
}

async function readJson<T>(s3: S3Store, key: StoreKey): Promise<T | null | undefined> {
  const bytes = await s3.get(key);
  if (bytes === undefined) return undefined;
  try {
    const v = parseJsonLenient(bytes, s3.urlOf(key)).value;
    return isJsonObject(v) ? (v as T) : null;
  } catch {
    return null;
  }
}

/** Take the lock object; returns its release. */
async function acquireLock(s3: S3Store, notes: string[]): Promise<() => Promise<void>> {
  const key: StoreKey = `/${S3_LOCK}`;
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    token: randomBytes(8).toString("hex"),
  };
  const holder = await readJson<LockInfo>(s3, key);
  if (holder !== undefined) {
    if (!holder || holder.host !== info.host || alive(holder.pid)) throw lockedError(s3.url, holder);
    await s3.delete(key);
    notes.push(
      `took over the lock of process ${holder.pid} (started ${holder.started}), which is no longer running`,
    );
  }
  if (!(await s3.put(key, new TextEncoder().encode(`${JSON.stringify(info)}\n`), { ifAbsent: true })))
    throw lockedError(s3.url, (await readJson<LockInfo>(s3, key)) ?? null);
  const held = await readJson<LockInfo>(s3, key);
  if (held?.token !== info.token) throw lockedError(s3.url, held ?? null);
  return async () => {
    if ((await readJson<LockInfo>(s3, key))?.token === info.token) await s3.delete(key);
  };
}

/** What is under the prefix: nothing, a Zarr store, a partial upload of ours, or something else. */
async function existing(
  s3: S3Store,
): Promise<{ kind: "empty" } | { kind: "store" } | { kind: "partial"; marker: unknown } | { kind: "other" }> {
  let any = false;
  for await (const page of s3.listObjects("/")) {
    if (page.some((o) => o.Key !== s3.objectKey(`/${S3_LOCK}`))) {
      any = true;
      break;
    }
  }
  if (!any) return { kind: "empty" };
  const marker = await readJson(s3, `/${S3_PARTIAL_MARKER}`);
  if (marker !== undefined) return { kind: "partial", marker };
  for (const name of ["zarr.json", ".zgroup", ".zarray"] as const) {
    const doc = await readJson<{ zarr_format?: unknown }>(s3, `/${name}`);
    if (doc && (doc.zarr_format === 2 || doc.zarr_format === 3)) return { kind: "store" };
  }
  return { kind: "other" };
}

/** Delete every key under the prefix but the lock: root documents first, then the rest in batches. */
async function clear(s3: S3Store): Promise<void> {
  for (const name of ROOT_DOCS) await s3.delete(`/${name}`);
  const keep = new Set([s3.objectKey(`/${S3_LOCK}`), s3.objectKey(`/${S3_PARTIAL_MARKER}`)]);
  for (;;) {
    // Always the first page again: what was deleted is gone from it. The marker and the lock stay.
    const first = await s3.listObjects("/").next();
    const keys = ((first.value as { Key?: string }[] | undefined) ?? [])
      .map((o) => o.Key!)
      .filter((k) => k && !keep.has(k));
    if (keys.length === 0) return;
    await s3.deleteObjects(keys);
  }
}

/** Mark the prefix as ours, for the run of plan `plan` (who, when, which plan). */
async function writeMarker(s3: S3Store, plan: string): Promise<void> {
  const marker = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    output: s3.url,
    plan,
  };
  await s3.put(`/${S3_PARTIAL_MARKER}`, new TextEncoder().encode(`${JSON.stringify(marker)}\n`));
}

function describeMarker(marker: unknown): string {
  const m = (isJsonObject(marker as never) ? marker : {}) as Partial<LockInfo>;
  return m.pid !== undefined ? ` (process ${m.pid} on ${m.host}, started ${m.started})` : "";
}

/**
 * Check and lock an S3 output. `inputs` are the inputs' locations: an output that is one of them,
 * lies inside one or contains one is refused. Nothing is written but the lock until `begin`.
 */
export async function prepareS3Output(
  url: string,
  descriptor: S3Descriptor,
  overwrite: boolean,
  inputs: string[] = [],
  opts: { resume?: boolean | undefined } = {},
): Promise<PendingStoreOutput> {
  const s3 = new S3Store(descriptor);
  for (const input of inputs) {
    const a = input.replace(/\/+$/, "");
    const b = s3.url.replace(/\/+$/, "");
    if (a === b) throw new GeoZarrError("Usage", `${url}: the output must differ from the input`);
    if (a.startsWith(`${b}/`))
      throw new GeoZarrError("Usage", `${url}: the output would contain the input ${input}`, { where: url });
    if (b.startsWith(`${a}/`))
      throw new GeoZarrError("Usage", `${url}: the output lies inside the input ${input}`, { where: url });
  }
  const notes: string[] = [];
  const release = await acquireLock(s3, notes);
  let there: Awaited<ReturnType<typeof existing>>;
  try {
    there = await existing(s3);
    if (there.kind === "partial" && !overwrite && !opts.resume)
      throw new GeoZarrError(
        "Exists",
        `${url}: an interrupted upload was left there${describeMarker(there.marker)}: chunks without complete metadata; continue it with the same arguments and the resume option (--resume), or remove it with the overwrite option (--overwrite)`,
        { where: url },
      );
    if (there.kind === "other")
      throw new GeoZarrError(
        "Exists",
        `${url}: will not ${overwrite ? "replace" : "write"} it: it holds objects that are not a Zarr store (no zarr.json, .zgroup or .zarray with a zarr_format at its root)${overwrite ? "; overwrite replaces only Zarr stores" : ""}`,
        { where: url },
      );
    if (there.kind === "store" && !overwrite)
      throw new GeoZarrError(
        "Exists",
        `${url}: already exists (use the overwrite option, --overwrite, to replace it)`,
        { where: url },
      );
  } catch (err) {
    await release();
    throw err;
  }
  const store = new OrderedUploadStore(s3);
  let resumed = false;
  let done = false;
  return {
    store,
    notes,
    get resumed() {
      return resumed;
    },
    async begin(planId) {
      if (there.kind === "partial" && opts.resume) {
        const was = (isJsonObject(there.marker as never) ? there.marker : {}) as { plan?: unknown };
        if (was.plan === planId) resumed = true;
        else if (!overwrite)
          throw new GeoZarrError(
            "Exists",
            `${url}: the interrupted upload there is of another conversion (${typeof was.plan === "string" ? `plan ${was.plan}` : "no plan recorded"}; these arguments and inputs plan ${planId}): resume it with the arguments and inputs it was started with, or replace it with the overwrite option (--overwrite)`,
            { where: url },
          );
      } else if (opts.resume) notes.push("nothing to resume: no interrupted upload was found there");
      // The marker goes first: a run killed while deleting or uploading leaves a prefix that is
      // ours. A resumed run marks it again, as its own, with the same plan.
      await writeMarker(s3, planId);
      if (!resumed && there.kind !== "empty") await clear(s3);
      return new S3Staging(s3, store, planId);
    },
    async commit() {
      if (done) return;
      // A failure here is the caller's to abort (the upload stays, for resume).
      await store.flush();
      // Readers see the store now; what is left is ours to tidy (a run killed here resumes to it).
      await removeRunKeys(s3);
      await s3.delete(`/${S3_PARTIAL_MARKER}`);
      done = true;
      await release();
    },
    async abort() {
      if (done) return;
      done = true;
      // Once begun, the upload (marker, plan, records, chunks) stays, for resume or overwrite.
      await release().catch(() => undefined);
    },
  };
}

/** An append to a store in object storage: locked, marked, its records under the prefix. */
export interface PendingS3Append {
  staging: S3Staging;
  notes: string[];
  /** After the consolidated metadata: the marker, then the run's records, then the lock removed. */
  finish(): Promise<void>;
  /** Release the lock; the marker and the records stay, for resume. */
  release(): Promise<void>;
}

/**
 * Lock a store in object storage for an append of plan `id` and mark it (`.geozarr-partial.json`,
 * ignored by Zarr readers): an append interrupted before is continued only with `resume` and the
 * same plan. The store stays what readers see until the append's consolidated metadata.
 */
export async function prepareS3Append(
  s3: S3Store,
  id: string,
  resume: boolean | undefined,
): Promise<PendingS3Append> {
  const notes: string[] = [];
  const release = await acquireLock(s3, notes);
  try {
    const marker = await readJson<{ plan?: unknown }>(s3, `/${S3_PARTIAL_MARKER}`);
    if (marker !== undefined && !resume)
      throw new GeoZarrError(
        "Exists",
        `${s3.url}: an interrupted run left its marker there${describeMarker(marker)}; continue it with the same arguments and the resume option (--resume)`,
        { where: s3.url },
      );
    if (marker !== undefined && marker?.plan !== id)
      throw new GeoZarrError(
        "Exists",
        `${s3.url}: the interrupted run there is of another append (${typeof marker?.plan === "string" ? `plan ${marker.plan}` : "no plan recorded"}; these arguments and inputs plan ${id}): resume it with the arguments and inputs it was started with`,
        { where: s3.url },
      );
    if (marker === undefined && resume)
      notes.push("nothing to resume: no interrupted append was found there");
    await writeMarker(s3, id);
  } catch (err) {
    await release();
    throw err;
  }
  return {
    staging: new S3Staging(s3, s3, id),
    notes,
    async finish() {
      // The marker first: the append is complete once readers see it, and a plan made from the
      // grown store would not match the records any more.
      await s3.delete(`/${S3_PARTIAL_MARKER}`);
      await removeRunKeys(s3);
      await release();
    },
    release: () => release().catch(() => undefined),
  };
}
