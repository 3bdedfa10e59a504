/**
 * docs/cli.md, generated from the commands' option tables (the same data --help prints).
 * @module
 */

import { helpText } from "./args.js";
import { COMMANDS, EXIT } from "./main.js";

export function cliMarkdown(): string {
  const parts = [
    "# Command line",
    "",
    "Generated from the commands' option tables by `npm run docs` (a test fails when it is stale).",
    "Every command takes `--json` for machine-readable output on stdout; diagnostics go to stderr; colour",
    "is used only on a terminal (and never with `NO_COLOR` set). Long work shows a progress bar on a",
    "terminal only.",
    "",
    "## Exit codes",
    "",
    "| Code | Meaning |",
    "|---|---|",
    `| ${EXIT.ok} | success (for \`validate\`: no errors) |`,
    `| ${EXIT.failure} | failure, or findings (\`validate\` found errors; with \`--strict\`, warnings too) |`,
    `| ${EXIT.usage} | usage error: unknown command or option, bad option value |`,
    `| ${EXIT.io} | I/O or format error: missing input, not a Zarr/NetCDF file, corrupt metadata or chunk, output exists, disk full |`,
    `| ${EXIT.interrupted} | interrupted (Ctrl-C); partial outputs are removed |`,
    "",
  ];
  for (const cmd of Object.values(COMMANDS)) {
    parts.push(`## geozarr ${cmd.spec.name}`, "", "```", helpText(cmd.spec).trimEnd(), "```", "");
  }
  return parts.join("\n");
}
