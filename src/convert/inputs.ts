/**
 * The input list of a conversion: paths as given, glob patterns expanded by geozarr itself (a
 * quoted `'mur/*.nc'` never reaches the shell's argument limit), and lists read from a file, one
 * path per line (`inputs-from`), so that 8,000 granules can be named at all.
 * @module
 */

import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { fsError, GeoZarrError } from "../errors.js";

export interface InputListOptions {
  /** A file listing one input per line (blank lines and lines starting with # are skipped). */
  inputsFrom?: string | undefined;
}

/**
 * Every input, in the order given, patterns expanded (sorted, as a shell would), duplicates
 * refused. A pattern that matches nothing, or a listed path that does not exist, is an error
 * naming it.
 */
export async function expandInputs(given: readonly string[], opts: InputListOptions = {}): Promise<string[]> {
  const items = [...given];
  if (opts.inputsFrom) {
    let text: string;
    try {
      text = await readFile(opts.inputsFrom, "utf8");
    } catch (err) {
      throw fsError(err, opts.inputsFrom, "read the input list");
    }
    // Relative lines are relative to the list's own directory, as in rsync --files-from.
    const base = dirname(resolve(opts.inputsFrom));
    for (const line of text.split(/\r?\n/)) {
      const p = line.trim();
      if (p === "" || p.startsWith("#")) continue;
      items.push(isAbsolute(p) ? p : resolve(base, p));
    }
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    // An existing path is taken as it is, even when its name has glob characters.
    const exists = await stat(item).then(
      () => true,
      () => false,
    );
    // tinyglobby is loaded for the first name that is not a file, not by every conversion.
    const globs = exists ? undefined : await import("tinyglobby");
    const paths = globs?.isDynamicPattern(item)
      ? (await globs.glob(item, { onlyFiles: false, absolute: false })).sort()
      : [item];
    if (paths.length === 0)
      throw new GeoZarrError("NotFound", `${item}: no file matches this pattern`, { where: item });
    for (const p of paths) {
      const key = resolve(p);
      if (seen.has(key)) throw new GeoZarrError("Usage", `${p}: given twice as an input`, { where: p });
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}
