import { stat } from "node:fs/promises";
import { fsError, GeoZarrError } from "../../errors.js";
import type { Report } from "../../node.js";
import { FileSystemStore, parseLocation, type Store, storeAt, validateStore } from "../../node.js";
import { type CommandSpec, type OptionValues, REMOTE_OPTIONS, remoteOptions, stringOption } from "../args.js";
import type { Colors } from "../io.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "validate",
  summary:
    "Check a store against Zarr v2/v3 (and what geozarr's reader accepts), GeoZarr v0.4, the Zarr conventions (proj, spatial, multiscales: their official v0.1 schemas) and CF: a report by node, each finding with the fix to apply.",
  positionals: ["STORE"],
  options: {
    strict: { type: "boolean", description: "count warnings as errors (exit 1)" },
    rules: { type: "string", arg: "ID,...", description: "run only these rules" },
    skip: { type: "string", arg: "ID,...", description: "do not run these rules" },
    parity: {
      type: "string",
      arg: "OTHER",
      description: "also compare with OTHER, the same data in the other Zarr format (FV-04)",
    },
    ...REMOTE_OPTIONS,
  },
  details:
    "Rules: docs/rules.md. --json also lists the conventions each node declares (name, version, UUID). Exit codes: 0 no errors, 1 errors (or warnings with --strict), 2 usage, 3 the store cannot be opened.",
};

const list = (v: string | undefined) =>
  v
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);

async function openDir(path: string, values: OptionValues): Promise<Store> {
  const loc = parseLocation(path);
  if (loc.kind !== "fs") return storeAt(loc, remoteOptions(values));
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fsError(err, path, "open");
  }
  if (!isDir)
    throw new GeoZarrError("NotFound", `${path}: not a Zarr store (a file, not a directory)`, {
      where: path,
    });
  return new FileSystemStore(path);
}

export function renderReport(r: Report, c: Colors): string[] {
  const sev = { error: c.red("error  "), warning: c.yellow("warning"), info: c.blue("info   ") };
  const lines = [
    c.bold(`${r.store}: Zarr v${r.zarr_format}, CF standard name table v${r.cf_standard_name_table}`),
  ];
  // One line for the conventions the nodes declare: "proj v0.1 (3 nodes), spatial v0.1 (3 nodes)".
  const count = new Map<string, number>();
  for (const list of Object.values(r.conventions))
    for (const d of list) {
      const key = `${d.name ?? d.uuid ?? "unnamed"} ${d.version ?? "(no version)"}`;
      count.set(key, (count.get(key) ?? 0) + 1);
    }
  if (count.size)
    lines.push(
      `Conventions: ${[...count].map(([k, n]) => `${k} (${n} node${n === 1 ? "" : "s"})`).join(", ")}`,
    );
  let last = "";
  for (const f of r.findings) {
    if (f.path !== last) {
      lines.push("", c.bold(f.path));
      last = f.path;
    }
    lines.push(
      `  ${sev[f.severity]} ${f.rule.padEnd(5)} ${f.message}${f.pointer ? c.dim(`  (${f.pointer})`) : ""}`,
    );
    if (f.fix) lines.push(`                fix: ${f.fix}`);
  }
  const s = r.summary;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  const summary = `${plural(s.errors, "error")}, ${plural(s.warnings, "warning")}, ${plural(s.infos, "info")}`;
  lines.push("", s.errors ? c.red(summary) : s.warnings ? c.yellow(summary) : c.green(summary));
  return lines;
}

export const validate: Command = {
  spec,
  async run({ positionals, values }, io) {
    const path = positionals[0]!;
    const store = await openDir(path, values);
    const parityPath = stringOption(values, "parity");
    const report = await validateStore(store, path, {
      rules: list(stringOption(values, "rules")),
      skip: list(stringOption(values, "skip")),
      parity: parityPath ? { store: await openDir(parityPath, values), name: parityPath } : undefined,
    });
    if (values.json) io.json(report);
    else io.out(renderReport(report, io.color).join("\n"));
    const failing = report.summary.errors + (values.strict ? report.summary.warnings : 0);
    return failing > 0 ? 1 : 0;
  },
};
