/**
 * Command-line parsing on node:util's parseArgs, with each command's options declared as data so
 * that `--help` is generated from the same table that parsing uses.
 * @module
 */

import { parseArgs } from "node:util";
import { GeoZarrError } from "../errors.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in help: --codec SPEC. */
  arg?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, e.g. ["STORE", "[NODE]"]: bracketed ones are optional. */
  positionals: string[];
  options: Record<string, OptionSpec>;
  /** Extra help text (examples, exit codes). */
  details?: string;
}

export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "print machine-readable JSON on stdout" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

export interface ParsedArgs {
  positionals: string[];
  values: OptionValues;
}

export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options = { ...spec.options, ...COMMON_OPTIONS };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          o.short ? { type: o.type, short: o.short } : { type: o.type },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs messages are one line already ("Unknown option '--foo'").
    throw new GeoZarrError("Usage", `${spec.name}: ${(err as Error).message.split("\n")[0]}`);
  }
  const values = parsed.values as OptionValues;
  if (values.help) return { positionals: parsed.positionals, values };
  const required = spec.positionals.filter((p) => !p.startsWith("[")).length;
  if (parsed.positionals.length < required) {
    throw new GeoZarrError(
      "Usage",
      `${spec.name}: missing ${spec.positionals.slice(parsed.positionals.length, required).join(" ")}`,
    );
  }
  // A positional named "NAME..." takes any number of arguments (at least one).
  const variadic = spec.positionals.some((p) => p.replace(/\]$/, "").endsWith("..."));
  if (!variadic && parsed.positionals.length > spec.positionals.length) {
    throw new GeoZarrError(
      "Usage",
      `${spec.name}: unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals.length])}`,
    );
  }
  return { positionals: parsed.positionals, values };
}

export function helpText(spec: CommandSpec): string {
  const opts = { ...spec.options, ...COMMON_OPTIONS };
  const lines = [
    `usage: geozarr ${spec.name} ${spec.positionals.join(" ")} [options]`,
    "",
    spec.summary,
    "",
    "options:",
  ];
  const rows = Object.entries(opts).map(([k, o]) => [
    `${o.short ? `-${o.short}, ` : "    "}--${k}${o.arg ? ` ${o.arg}` : ""}`,
    o.description,
  ]);
  const w = Math.max(...rows.map((r) => r[0]!.length));
  for (const [a, b] of rows) lines.push(`  ${a!.padEnd(w)}  ${b}`);
  if (spec.details) lines.push("", spec.details.trimEnd());
  return `${lines.join("\n")}\n`;
}

/** An integer option value, or a usage error naming the option. */
export function intOption(values: OptionValues, name: string, min: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isInteger(n) || n < min) {
    throw new GeoZarrError("Usage", `--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A size option ("256M", "1.5G", "512MiB", "300000000"; K/M/G/T are binary units), in bytes. */
export function sizeOption(values: OptionValues, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const m = typeof v === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(v) : null;
  const bytes = m ? Number(m[1]) * 1024 ** "_kmgt".indexOf((m[2] || "_").toLowerCase()) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes < 1) {
    throw new GeoZarrError("Usage", `--${name} must be a size such as 256M or 2G, got ${JSON.stringify(v)}`);
  }
  return Math.floor(bytes);
}

/** The options of every command that takes a store URL (s3://, http(s)://): docs/cli.md "Cloud storage". */
export const REMOTE_OPTIONS: Record<string, OptionSpec> = {
  anonymous: {
    type: "boolean",
    description:
      "read s3:// stores without credentials (unsigned requests, for public buckets); AWS_* variables configure the rest",
  },
};

/** The library's remote-store options from those of REMOTE_OPTIONS. */
export function remoteOptions(values: OptionValues): { anonymous?: boolean } {
  return values.anonymous ? { anonymous: true } : {};
}
