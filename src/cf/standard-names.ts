/**
 * The CF Standard Name Table, vendored as data/cf/standard-names.json (generated from the official
 * XML by scripts/data/gen_cf_table.py; the version is recorded there and printed in reports).
 * @module
 */

import { readFileSync } from "node:fs";

export interface StandardNameTable {
  version: number;
  last_modified: string;
  entries: Record<string, string>;
  aliases: Record<string, string>;
}

let table: StandardNameTable | undefined;

export function standardNameTable(): StandardNameTable {
  table ??= JSON.parse(
    readFileSync(new URL("../../data/cf/standard-names.json", import.meta.url), "utf8"),
  ) as StandardNameTable;
  return table;
}

/** Standard-name modifiers (CF 1.11 Appendix C) that may follow a name: "air_temperature standard_error". */
export const MODIFIERS = ["detection_minimum", "number_of_observations", "standard_error", "status_flag"];

export interface StandardNameLookup {
  /** The table entry the name resolves to (through an alias when `alias` is set), or null. */
  name: string | null;
  canonicalUnits: string | null;
  alias: boolean;
  modifier: string | null;
}

export function lookupStandardName(value: string): StandardNameLookup {
  const t = standardNameTable();
  const [base = "", modifier = null, ...rest] = value.trim().split(/\s+/);
  const none = { name: null, canonicalUnits: null, alias: false, modifier };
  if (rest.length > 0 || (modifier !== null && !MODIFIERS.includes(modifier))) return none;
  if (Object.hasOwn(t.entries, base))
    return { name: base, canonicalUnits: t.entries[base]!, alias: false, modifier };
  const target = Object.hasOwn(t.aliases, base) ? t.aliases[base]! : undefined;
  if (target && Object.hasOwn(t.entries, target))
    return { name: target, canonicalUnits: t.entries[target]!, alias: true, modifier };
  return none;
}
