/**
 * A validation rule: an id from the catalogue (docs/rules.md), a severity, a one-line summary, the
 * spec section it comes from, and a check that reports findings. Checks never throw on a bad store
 * (the engine turns an unexpected exception into a finding of its own, so one broken rule cannot
 * hide the others).
 * @module
 */

import type { ValidationContext } from "./context.js";

export type Severity = "error" | "warning" | "info";

export interface Finding {
  rule: string;
  severity: Severity;
  /** Node path ("/", "/analysed_sst"). */
  path: string;
  /** JSON pointer into the node's metadata document ("/attributes/grid_mapping", "/fill_value"). */
  pointer: string;
  message: string;
  /** What to change to fix it. */
  fix?: string;
}

export interface Rule {
  id: string;
  severity: Severity;
  summary: string;
  reference: string;
  check(ctx: ValidationContext): Finding[] | Promise<Finding[]>;
}

/** A finding of `rule` (its severity unless overridden). */
export function finding(
  rule: Pick<Rule, "id" | "severity">,
  path: string,
  pointer: string,
  message: string,
  fix?: string,
  severity: Severity = rule.severity,
): Finding {
  return fix === undefined
    ? { rule: rule.id, severity, path, pointer, message }
    : { rule: rule.id, severity, path, pointer, message, fix };
}

/** The pointer of an attribute in a node's document: v3 nests attributes, v2 keeps them in .zattrs. */
export function attrPointer(format: 2 | 3, name: string): string {
  const escaped = name.replace(/~/g, "~0").replace(/\//g, "~1");
  return format === 3 ? `/attributes/${escaped}` : `/.zattrs/${escaped}`;
}

/** The pointer of an array metadata field: v3 in zarr.json, v2 in .zarray. */
export function metaPointer(format: 2 | 3, field: string): string {
  return format === 3 ? `/${field}` : `/.zarray/${field}`;
}
