/**
 * `validateStore`: run the rule catalogue over a store and collect the findings in one report,
 * the shape `geozarr validate --json` prints.
 * @module
 */

import { GeoZarrError, messageOf } from "../errors.js";
import { faultPoint } from "../faults.js";
import { type DeclaredConvention, declarationsOf, declaredConvention } from "../geo/conventions.js";
import type { Store } from "../zarr/store/types.js";
import { buildContext } from "./context.js";
import type { Finding, Rule, Severity } from "./rule.js";
import { RULES } from "./rules/index.js";

export interface Report {
  store: string;
  zarr_format: 2 | 3;
  cf_standard_name_table: string;
  /** The conventions each node declares in `zarr_conventions` (nodes that declare none are left out). */
  conventions: Record<string, DeclaredConvention[]>;
  findings: Finding[];
  summary: { errors: number; warnings: number; infos: number };
}

export interface ValidateOptions {
  /** Only these rule ids. */
  rules?: string[] | undefined;
  /** All rules but these. */
  skip?: string[] | undefined;
  /** The same conversion in the other Zarr format, for the parity rule (FV-04). */
  parity?: { store: Store; name: string } | undefined;
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function selectRules(opts: ValidateOptions): readonly Rule[] {
  const known = new Set(RULES.map((r) => r.id));
  for (const [flag, ids] of [
    ["--rules", opts.rules],
    ["--skip", opts.skip],
  ] as const) {
    for (const id of ids ?? []) {
      if (!known.has(id))
        throw new GeoZarrError("Usage", `${flag}: no rule ${JSON.stringify(id)} (see docs/rules.md)`);
    }
  }
  return RULES.filter((r) => (!opts.rules || opts.rules.includes(r.id)) && !opts.skip?.includes(r.id));
}

export async function validateStore(store: Store, name: string, opts: ValidateOptions = {}): Promise<Report> {
  const rules = selectRules(opts);
  await faultPoint("open-store");
  const ctx = await buildContext(store, name);
  if (opts.parity) ctx.parity = await buildContext(opts.parity.store, opts.parity.name);
  const findings: Finding[] = [];
  for (const rule of rules) {
    try {
      findings.push(...(await rule.check(ctx)));
    } catch (err) {
      // A rule that throws is a bug in geozarr, not in the store: say so, and keep the others' results.
      findings.push({
        rule: rule.id,
        severity: "error",
        path: "/",
        pointer: "",
        message: `the rule failed to run: ${messageOf(err)} (please report this)`,
      });
    }
  }
  findings.sort((a, b) =>
    a.path === b.path
      ? ORDER[a.severity] - ORDER[b.severity] || (a.rule < b.rule ? -1 : 1)
      : a.path === "/"
        ? -1
        : b.path === "/"
          ? 1
          : a.path < b.path
            ? -1
            : 1,
  );
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  const conventions: Record<string, DeclaredConvention[]> = {};
  for (const n of ctx.nodes.values()) {
    const declared = declarationsOf(n.attributes).map(declaredConvention);
    if (declared.length) conventions[n.path] = declared;
  }
  return {
    store: name,
    zarr_format: ctx.format,
    cf_standard_name_table: String(ctx.standardNameVersion),
    conventions,
    findings,
    summary: { errors: count("error"), warnings: count("warning"), infos: count("info") },
  };
}

/** docs/rules.md, generated from the catalogue (a test checks the committed file is current). */
export function rulesMarkdown(): string {
  const rows = RULES.map(
    (r) =>
      `| ${r.id} | ${r.severity} | ${r.summary.replace(/\|/g, "\\|")} | ${r.reference.replace(/\|/g, "\\|")} |`,
  );
  return [
    "# Validation rules",
    "",
    "`geozarr validate` checks a store against these rules. Generated from `src/validate/rules/`",
    "by `npm run docs`; `test/validate/docs.test.ts` fails when this file is stale.",
    "",
    "Severities: an **error** breaks a MUST of the referenced specification, a **warning** a SHOULD, an",
    "**info** is advice. `--strict` counts warnings as errors. Exit code 0 without errors, 1 with errors,",
    "3 when the store cannot be opened.",
    "",
    "| Id | Severity | Rule | Reference |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
