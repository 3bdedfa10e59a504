/**
 * Output directories that are complete or absent, owned by one writer, and never anything but ours.
 *
 * A run writes into a hidden sibling of the destination (`.OUT.partial-<pid>-<tag>`, marked as ours)
 * and renames it into place only when everything, consolidated metadata included, is written. So an
 * interrupted or failed run never leaves a store at the destination that looks complete. Around that:
 *
 * - **Ownership.** `overwrite` replaces only a Zarr store (root `zarr.json`, `.zgroup` or `.zarray`),
 *   an empty directory, or a partial output of ours. It never replaces a file, a directory of other
 *   things, the current directory or one of its ancestors, and an output may not contain an input
 *   nor lie inside one (docs/cli.md "What --overwrite replaces").
 * - **One writer.** A lock file next to the output (`.OUT.geozarr-lock`, created atomically with
 *   link(2), holding pid, host and start time) is held from planning to the final move; a second run
 *   is refused, naming the first. A lock whose process is gone (same host) is taken over and said so.
 * - **No replacement by surprise.** The final move replaces only what was checked at the start (the
 *   same inode); without `overwrite` it is a plain rename that fails if something appeared meanwhile.
 * - **Left-overs.** Partial outputs of runs that died (kill -9, power loss) are named in the next
 *   run's error with how to remove them, and removed by `overwrite`. On a normal exit, even a forced
 *   one after Ctrl-C, this process's own partial outputs and locks are removed synchronously.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, type Stats, unlinkSync } from "node:fs";
import {
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join, resolve, sep } from "node:path";
import { fsError, GeoZarrError } from "../errors.js";

export interface PendingOutput {
  /** Where to write. */
  tmp: string;
  /** Things the caller should report (a stale lock taken over). */
  notes: string[];
  /** What the destination was when checked (null: absent), for a later run to check again. */
  existing: EntryIdentity | null;
  /** Move the finished output into place (replacing the checked existing one when overwriting). */
  commit(): Promise<void>;
  /**
   * Remove the partial output and release the lock; a resumable run's staging area stays (for
   * resume, or for the tasks of a queued run). Safe to call more than once.
   */
  abort(): Promise<void>;
}

/** A directory entry's identity (device, inode, birth time): the same entry, not a replacement. */
export interface EntryIdentity {
  dev: number;
  ino: number;
  birthtimeMs: number;
}

/** The marker file in a partial output: who made it (so a later run can tell it is ours). */
export const PARTIAL_MARKER = ".geozarr-partial.json";

/** A resumable run's plan and task records, in its staging area (convert/staging.ts). */
export const STAGING_META = ".geozarr-run";

/** How many task records a staging area holds (for the message that offers to resume it). */
async function tasksDone(dir: string): Promise<number> {
  return (await readdir(join(dir, STAGING_META, "tasks")).catch(() => [] as string[])).filter((f) =>
    f.endsWith(".json"),
  ).length;
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  token: string;
}

const ZARR_ROOTS = ["zarr.json", ".zgroup", ".zarray"];

/** This process's partial outputs and locks, removed synchronously if it exits before they are. */
const owned = new Set<string>();
let exitHook = false;
function own(path: string): void {
  owned.add(path);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const p of owned) {
      try {
        if (p.endsWith(".geozarr-lock")) {
          if (ourLock(p)) unlinkSync(p);
        } else rmSync(p, { recursive: true, force: true });
      } catch {
        // best effort at exit: a left-over is reported by the next run
      }
    }
  });
}
const tokens = new Set<string>();
function ourLock(path: string): boolean {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as LockInfo;
    return tokens.has(info.token);
  } catch {
    return false;
  }
}

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return null;
    throw fsError(err, path, "inspect");
  }
}

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent + sep);

/**
 * The same directory entry: device and inode, and (inodes are reused at once on ext4) the birth
 * time where the file system records one.
 */
function sameEntry(a: EntryIdentity, b: EntryIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.birthtimeMs === b.birthtimeMs;
}

const identityOf = (s: Stats): EntryIdentity => ({ dev: s.dev, ino: s.ino, birthtimeMs: s.birthtimeMs });

/** The identity of the entry at `path`, or null when there is none. */
export async function entryIdentity(path: string): Promise<EntryIdentity | null> {
  const s = await lstatOrNull(path);
  return s && identityOf(s);
}

/** Why `overwrite` may not replace `path`, or null when it may (see the module comment). */
async function whyNotReplaceable(path: string): Promise<string | null> {
  const s = await lstatOrNull(path);
  if (!s) return null;
  if (s.isSymbolicLink()) return "it is a symbolic link (name the store itself)";
  if (!s.isDirectory()) return "it is a file, not a Zarr store";
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch (err) {
    throw fsError(err, path, "list");
  }
  if (entries.length === 0 || entries.includes(PARTIAL_MARKER)) return null;
  for (const name of ZARR_ROOTS.filter((n) => entries.includes(n))) {
    try {
      const doc = JSON.parse(await readFile(join(path, name), "utf8")) as { zarr_format?: unknown };
      if (doc && typeof doc === "object" && (doc.zarr_format === 2 || doc.zarr_format === 3)) return null;
    } catch {
      // unreadable metadata: not recognisably a store
    }
  }
  return `it is a directory that is not a Zarr store (no ${ZARR_ROOTS.join(", ")} with a zarr_format at its root)`;
}

/** Whether process `pid` exists on this host (EPERM: it does, and belongs to someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as { code?: string }).code === "EPERM";
  }
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await readFile(path, "utf8")) as LockInfo;
    return typeof info.pid === "number" && typeof info.host === "string" ? info : null;
  } catch {
    return null;
  }
}

/**
 * Take the lock at `path`: link(2) of a fully written file is atomic and fails if the lock exists,
 * so exactly one of two racing runs gets it. A lock of a dead process on this host is taken over by
 * renaming it away first (only one racer's rename succeeds); anything else is refused.
 */
async function acquireLock(path: string, output: string, notes: string[]): Promise<() => Promise<void>> {
  const token = randomBytes(8).toString("hex");
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), token };
  const draft = `${path}.${token}`;
  try {
    await writeFile(draft, `${JSON.stringify(info)}\n`, { flag: "wx" });
  } catch (err) {
    throw fsError(err, draft, "create the lock");
  }
  tokens.add(token);
  let acquired = false;
  try {
    for (let attempt = 0; attempt < 3 && !acquired; attempt++) {
      try {
        await link(draft, path);
        acquired = true;
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") throw fsError(err, path, "create the lock");
      }
      const holder = await readLock(path);
      if (!holder || holder.host !== info.host || alive(holder.pid)) throw lockedError(output, path, holder);
      // The holder is gone (same host, no such process): move its lock aside and try again.
      const aside = `${path}.stale-${token}`;
      try {
        await rename(path, aside);
      } catch {
        continue; // another run moved it first; the next link() tells who holds it now
      }
      const moved = await readLock(aside);
      if (moved?.token !== holder.token) {
        // A live lock was taken between our read and the rename: put it back and give up.
        await link(aside, path).catch(() => undefined);
        await unlink(aside).catch(() => undefined);
        throw lockedError(output, path, moved);
      }
      await unlink(aside).catch(() => undefined);
      notes.push(
        `took over the lock of process ${holder.pid} (started ${holder.started}), which is no longer running`,
      );
    }
  } finally {
    await unlink(draft).catch(() => undefined);
  }
  if (!acquired) throw lockedError(output, path, await readLock(path));
  // Only the lock with our token is ours to remove.
  const held = await readLock(path);
  if (held?.token !== token) throw lockedError(output, path, held);
  own(path);
  return async () => {
    owned.delete(path);
    if ((await readLock(path))?.token === token) await unlink(path).catch(() => undefined);
  };
}

function lockedError(output: string, lock: string, holder: LockInfo | null): GeoZarrError {
  const who = holder
    ? `process ${holder.pid} on ${holder.host}, started ${holder.started}`
    : "another run (unreadable lock)";
  return new GeoZarrError(
    "Exists",
    `${output}: another geozarr run is writing it (${who}); wait for it to finish, or remove ${lock} if that run is gone`,
    { where: output },
  );
}

/** Partial outputs (and stores moved aside while being replaced) that runs left behind. */
async function leftovers(parent: string, name: string): Promise<string[]> {
  const prefix = `.${name}.`;
  const entries = await readdir(parent).catch(() => [] as string[]);
  return entries
    .filter((e) => e.startsWith(prefix) && /^(partial|old)-[0-9a-f][0-9a-f-]*$/.test(e.slice(prefix.length)))
    .map((e) => join(parent, e));
}

/** For a run that can be resumed (a plan of tasks, convert/staging.ts). */
export interface StagingOptions {
  /** The staging area is `.OUT.partial-<id>`, the same for every run of the same plan. */
  id: string;
  /** Continue in the staging area an interrupted run of the same plan left (else it is refused). */
  resume?: boolean | undefined;
  /**
   * The destination as an earlier step of this run found it (the step that planned a queued run):
   * it must still be that entry (or still be absent), else the run is refused.
   */
  expect?: EntryIdentity | null | undefined;
}

/** Where an output goes, after the checks every run makes (relations to inputs, the working directory). */
async function checkTarget(
  dst: string,
  inputs: string[],
): Promise<{ parent: string; name: string; target: string }> {
  const given = resolve(dst);
  const name = basename(given);
  let parent: string;
  try {
    parent = await realpath(dirname(given));
  } catch {
    throw new GeoZarrError("NotFound", `${dirname(dst)}: no such directory`, { where: dst });
  }
  const target = join(parent, name);
  for (const input of inputs) {
    const real = await realpath(resolve(input)).catch(() => resolve(input));
    if (real === target) throw new GeoZarrError("Usage", `${dst}: the output must differ from the input`);
    if (inside(real, target))
      throw new GeoZarrError("Usage", `${dst}: the output would contain the input ${input}`, { where: dst });
    if (inside(target, real))
      throw new GeoZarrError("Usage", `${dst}: the output lies inside the input ${input}`, { where: dst });
  }
  const cwd = await realpath(process.cwd()).catch(() => process.cwd());
  if (inside(cwd, target)) {
    throw new GeoZarrError(
      "Usage",
      `${dst}: the output is the current directory or one of its parents; run from elsewhere or name another directory`,
      { where: dst },
    );
  }
  return { parent, name, target };
}

/**
 * The staging directory of a run beside `target`: new, or (resumable runs) the one an interrupted
 * run of the same plan left, continued with `resume`. Other left-overs are refused unless `discard`.
 */
async function openStaging(
  t: { parent: string; name: string },
  dst: string,
  staging: StagingOptions | undefined,
  discard: boolean,
  notes: string[],
  overwritable = true,
): Promise<string> {
  const { parent, name } = t;
  const tag = staging?.id ?? `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = join(parent, `.${name}.partial-${tag}`);
  const all = await leftovers(parent, name);
  // The staging area of this same plan, left by an interrupted run: continued with `resume`.
  const mine = staging && all.includes(tmp) ? tmp : null;
  const how = overwritable
    ? "discard it with the overwrite option (--overwrite)"
    : `remove it (rm -rf ${tmp})`;
  if (mine && !staging?.resume && !discard) {
    throw new GeoZarrError(
      "Exists",
      `${dst}: an interrupted run of this same conversion left ${basename(tmp)} with ${await tasksDone(tmp)} tasks done; continue it with the resume option (--resume), or ${how}`,
      { where: dst },
    );
  }
  const left = all.filter((l) => l !== mine);
  if (left.length && !discard) {
    throw new GeoZarrError(
      "Exists",
      `${dst}: ${left.length} partial output${left.length > 1 ? "s" : ""} of an interrupted run left beside it (${left.map((l) => basename(l)).join(", ")}); remove ${left.length > 1 ? "them" : "it"} (rm -rf ${left.join(" ")})${staging ? ", or continue one with the same arguments and --resume" : ""} or use the overwrite option (--overwrite)`,
      { where: dst },
    );
  }
  for (const l of left) await rm(l, { recursive: true, force: true });
  if (mine && !staging?.resume) await rm(mine, { recursive: true, force: true });
  const resumed = mine !== null && staging?.resume === true;
  if (staging?.resume && !resumed)
    notes.push("nothing to resume: no interrupted run of this conversion was found");
  try {
    if (!resumed) await mkdir(tmp);
    // A resumable staging area outlives this process (its task records are what --resume uses).
    if (!staging) own(tmp);
    await writeFile(
      join(tmp, PARTIAL_MARKER),
      `${JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString(), output: join(parent, name) })}\n`,
    );
  } catch (err) {
    throw fsError(err, tmp, "create directory");
  }
  return tmp;
}

export async function prepareOutput(
  dst: string,
  overwrite: boolean,
  inputs: string[] = [],
  staging?: StagingOptions,
): Promise<PendingOutput> {
  const t = await checkTarget(dst, inputs);
  const { parent, name, target } = t;
  const notes: string[] = [];
  const release = await acquireLock(join(parent, `.${name}.geozarr-lock`), dst, notes);
  try {
    const existing = await lstatOrNull(target);
    if (staging?.expect !== undefined) {
      const was = staging.expect;
      if (was === null ? existing !== null : !existing || !sameEntry(identityOf(existing), was))
        throw new GeoZarrError(
          "Exists",
          `${dst}: ${was === null ? "appeared" : "was replaced by something else"} since the run was planned; not ${was === null ? "replacing" : "overwriting"} it`,
          { where: dst },
        );
    }
    if (existing && !overwrite) {
      throw new GeoZarrError(
        "Exists",
        `${dst}: already exists (use the overwrite option, --overwrite, to replace it)`,
        { where: dst },
      );
    }
    if (existing) {
      const why = await whyNotReplaceable(target);
      if (why)
        throw new GeoZarrError(
          "Exists",
          `${dst}: will not replace it: ${why}; overwrite replaces only Zarr stores`,
          {
            where: dst,
          },
        );
    }
    const tmp = await openStaging(t, dst, staging, overwrite, notes);
    let done = false;
    const finish = async () => {
      done = true;
      owned.delete(tmp);
      await release();
    };
    return {
      tmp,
      notes,
      existing: existing && identityOf(existing),
      async commit() {
        if (done) return;
        await rm(join(tmp, PARTIAL_MARKER), { force: true });
        await rm(join(tmp, STAGING_META), { recursive: true, force: true });
        const now = await lstatOrNull(target);
        try {
          if (existing) {
            if (!now || !sameEntry(now, existing))
              throw new GeoZarrError(
                "Exists",
                `${dst}: was replaced by something else during the run; not overwriting it`,
                {
                  where: dst,
                },
              );
            const old = join(parent, `.${name}.old-${process.pid}-${randomBytes(4).toString("hex")}`);
            await rename(target, old);
            await rename(tmp, target);
            await rm(old, { recursive: true, force: true });
          } else {
            if (now && !(now.isDirectory() && (await readdir(target)).length === 0))
              throw new GeoZarrError("Exists", `${dst}: appeared during the run; not replacing it`, {
                where: dst,
              });
            await rename(tmp, target);
          }
        } catch (err) {
          await rm(tmp, { recursive: true, force: true });
          await finish();
          if (err instanceof GeoZarrError) throw err;
          throw fsError(err, dst, "move the output into place");
        }
        await finish();
      },
      async abort() {
        if (done) return;
        // A resumable run keeps its staging area (and what it finished) for --resume.
        if (!staging) await rm(tmp, { recursive: true, force: true });
        await finish();
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** An append to an existing store: the store locked, a staging area beside it for the new chunks. */
export interface PendingAppend {
  tmp: string;
  notes: string[];
  /** Release the lock (the staging area stays, for --resume, unless `discard`). */
  release(discard?: boolean): Promise<void>;
}

/**
 * Lock an existing Zarr store `dst` for an append and open its staging area (resumable, named by
 * the plan). The store itself is changed only by the append's finalize, in an order that keeps it
 * readable throughout (jobs/append.ts).
 */
export async function prepareAppend(
  dst: string,
  inputs: string[],
  staging: StagingOptions,
): Promise<PendingAppend> {
  const t = await checkTarget(dst, inputs);
  const existing = await lstatOrNull(t.target);
  if (!existing) throw new GeoZarrError("NotFound", `${dst}: no such store to append to`, { where: dst });
  const why = await whyNotReplaceable(t.target);
  if (why || (await readdir(t.target)).length === 0)
    throw new GeoZarrError("Usage", `${dst}: cannot append to it: ${why ?? "it is an empty directory"}`, {
      where: dst,
    });
  const notes: string[] = [];
  const release = await acquireLock(join(t.parent, `.${t.name}.geozarr-lock`), dst, notes);
  try {
    const tmp = await openStaging(t, dst, staging, false, notes, false);
    return {
      tmp,
      notes,
      async release(discard = false) {
        if (discard) await rm(tmp, { recursive: true, force: true });
        await release();
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Whether a directory is a partial output of geozarr (its marker file is there). */
export async function isPartialOutput(dir: string): Promise<boolean> {
  return (await stat(join(dir, PARTIAL_MARKER)).catch(() => null)) !== null;
}
