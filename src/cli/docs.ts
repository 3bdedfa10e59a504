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
    `| ${EXIT.interrupted} | interrupted (SIGINT, Ctrl-C): the command stops within a second, its worker threads ended and its partial output removed |`,
    `| ${EXIT.terminated} | terminated (SIGTERM): as for SIGINT |`,
    "",
    "## Outputs: complete or absent, one writer, never what geozarr did not make",
    "",
    "`convert` and `pyramid` write into a hidden sibling of the output (`.OUT.partial-<pid>-<tag>`) and",
    "move it into place only when it is complete, consolidated metadata included: a failed, interrupted",
    "or killed run never leaves a store at OUT that looks complete.",
    "",
    "- **What `--overwrite` replaces.** Only a Zarr store (a directory with `zarr.json`, `.zgroup` or",
    "  `.zarray` holding a `zarr_format` at its root), an empty directory, or a partial output of geozarr.",
    "  It refuses, with a one-line reason and exit 3, a file, a symbolic link, and a directory that is not",
    "  a Zarr store. Whatever the options, an output that is the current directory or one of its parents,",
    "  that contains an input, or that lies inside an input store is refused (exit 2).",
    "- **One writer per output.** A run holds a lock file next to the output (`.OUT.geozarr-lock`,",
    "  created atomically, holding the process id, host and start time) from planning to the final move.",
    "  A second run on the same output is refused (exit 3) and names the first. A lock left by a process",
    "  that no longer runs (same host) is taken over, and the run says so.",
    "- **No surprise replacement.** The final move replaces only the store checked at the start; if",
    "  something else appeared at OUT during the run, the run fails (exit 3) and OUT is left as it is.",
    "- **Left-overs of killed runs.** Partial outputs of runs that were killed (`kill -9`, power loss)",
    "  are named in the next run's error with the command that removes them; `--overwrite` removes them.",
    "",
    "## Environment",
    "",
    "`GEOZARR_ZSTD`: which zstd to use. Unset (or `auto`): the native codec (zstd-napi) when its addon",
    "was built, else WebAssembly, with a one-line note on stderr. `wasm` forces WebAssembly (a",
    'diagnostic switch); `native` fails instead of falling back. See design.md, "zstd backends".',
    "",
    "`GEOZARR_DIRECT_IO=1`: write chunk files of 1 MiB or more with O_DIRECT, past the page cache",
    "(Linux, the optional native/directio addon; other file systems and values take the usual path).",
    "Less kernel CPU where page-cache pages are expensive, as on virtual machines (about 1 CPU s less",
    "on the full-size MUR conversion here), but each write then waits for the disk: leave it off on",
    'slow disks. See design.md, "Direct writes".',
    "",
    "`GEOZARR_INFLATE=zlib`: inflate NetCDF-4 chunks with node:zlib even where libdeflate is built (a",
    "diagnostic switch).",
    "",
    "`GEOZARR_KERNELS=js`: un-shuffle HDF5 chunks, decode packed values and undo TIFF predictors with the",
    "JavaScript loops even where the native/kernels addon is built (a diagnostic switch; the same bytes,",
    "about 15 % more CPU on NetCDF-4 input).",
    "",
  ];
  for (const cmd of Object.values(COMMANDS)) {
    parts.push(`## geozarr ${cmd.spec.name}`, "", "```", helpText(cmd.spec).trimEnd(), "```", "");
  }
  return parts.join("\n");
}
