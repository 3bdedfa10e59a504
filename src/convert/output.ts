/**
 * Atomic output directories: a conversion writes into a hidden sibling of the destination and
 * renames it into place only when everything, consolidated metadata included, is written. An
 * interrupted or failed run therefore never leaves a store at the destination that looks complete.
 * @module
 */

import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fsError, GeoZarrError } from "../errors.js";

export interface PendingOutput {
  /** Where to write. */
  tmp: string;
  /** Move the finished output into place (replacing an existing one when overwriting). */
  commit(): Promise<void>;
  /** Remove the partial output. Safe to call more than once. */
  abort(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return false;
    throw fsError(err, path, "inspect");
  }
}

export async function prepareOutput(
  dst: string,
  overwrite: boolean,
  inputs: string[] = [],
): Promise<PendingOutput> {
  const target = resolve(dst);
  for (const input of inputs) {
    if (resolve(input) === target)
      throw new GeoZarrError("Usage", `${dst}: the output must differ from the input`);
  }
  if (!overwrite && (await exists(target))) {
    throw new GeoZarrError("Exists", `${dst}: already exists (use --overwrite to replace it)`, {
      where: dst,
    });
  }
  const parent = dirname(target);
  if (!(await exists(parent)))
    throw new GeoZarrError("NotFound", `${dirname(dst)}: no such directory`, { where: dst });
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = join(parent, `.${basename(target)}.partial-${tag}`);
  try {
    await mkdir(tmp);
  } catch (err) {
    throw fsError(err, tmp, "create directory");
  }
  let done = false;
  return {
    tmp,
    async commit() {
      if (done) return;
      const old = join(parent, `.${basename(target)}.old-${tag}`);
      const replacing = await exists(target);
      try {
        if (replacing) await rename(target, old);
        await rename(tmp, target);
      } catch (err) {
        throw fsError(err, dst, "move the output into place");
      }
      done = true;
      if (replacing) await rm(old, { recursive: true, force: true });
    },
    async abort() {
      if (done) return;
      done = true;
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
