/**
 * The `geozarr` command line: parse, dispatch, map errors to exit codes. The only module that
 * touches process.argv, exit codes and signals; commands are thin over the library.
 *
 * Exit codes: 0 ok, 1 failure or findings, 2 usage error, 3 I/O or format error, 130 interrupted
 * (SIGINT), 143 terminated (SIGTERM).
 *
 * @module
 */

import { GeoZarrError, isGeoZarrError } from "../errors.js";
import { packageVersion } from "../version.js";
import { helpText, parseCommandArgs } from "./args.js";
import { convert } from "./commands/convert.js";
import { info } from "./commands/info.js";
import { pyramid } from "./commands/pyramid.js";
import { serve } from "./commands/serve.js";
import { stats } from "./commands/stats.js";
import { status } from "./commands/status.js";
import { task } from "./commands/task.js";
import { tree } from "./commands/tree.js";
import type { Command } from "./commands/types.js";
import { validate } from "./commands/validate.js";
import { worker } from "./commands/worker.js";
import { type Io, processIo } from "./io.js";

export const EXIT = { ok: 0, failure: 1, usage: 2, io: 3, interrupted: 130, terminated: 143 } as const;

/**
 * How long a command may take to stop after SIGINT/SIGTERM before the process leaves anyway (its
 * own partial outputs and locks are still removed, synchronously, on the way out: convert/output.ts).
 */
export const STOP_GRACE_MS = 800;

export const COMMANDS: Record<string, Command> = {
  convert,
  pyramid,
  tree,
  info,
  stats,
  validate,
  serve,
  worker,
  status,
  task,
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.values(COMMANDS).map(
    (c) => `  ${c.spec.name.padEnd(w)}  ${c.spec.summary.split(". ")[0]!.replace(/\.$/, "")}`,
  );
  return [
    "usage: geozarr <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Run 'geozarr <command> --help' for a command's options.",
    "Exit codes: 0 ok, 1 failure or findings, 2 usage error, 3 I/O or format error.",
    "",
  ].join("\n");
}

export function exitCodeFor(err: unknown): number {
  if (!isGeoZarrError(err)) return EXIT.failure;
  return err.tag === "Usage" ? EXIT.usage : EXIT.io;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-V") {
    io.out(packageVersion());
    return EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(
      `geozarr: error: unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(", ")})`,
    );
    return EXIT.usage;
  }
  // The AWS SDK warns on stderr that its 2027 releases need Node 22; geozarr pins a release that
  // runs on Node 20 (docs/design.md "Object storage"), so the warning is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const controller = new AbortController();
  let stopCode: number = EXIT.interrupted;
  let force: ReturnType<typeof setTimeout> | undefined;
  let grace = STOP_GRACE_MS;
  const onSignal = (sig: NodeJS.Signals) => {
    const code = sig === "SIGTERM" ? EXIT.terminated : EXIT.interrupted;
    // A second signal: leave now.
    if (controller.signal.aborted) process.exit(code);
    stopCode = code;
    controller.abort(new GeoZarrError("IO", sig === "SIGTERM" ? "terminated" : "interrupted"));
    // Stop cleanly (workers terminated, partial outputs removed) or, past the grace time, leave.
    force = setTimeout(() => {
      io.err(`geozarr: ${sig === "SIGTERM" ? "terminated" : "interrupted"}`);
      process.exit(code);
    }, grace);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const args = parseCommandArgs(cmd.spec, rest);
    if (args.values.help) {
      io.out(helpText(cmd.spec));
      return EXIT.ok;
    }
    if (cmd.stopGraceMs) grace = cmd.stopGraceMs(args.values);
    const code = await cmd.run(args, io, controller.signal);
    if (!controller.signal.aborted) return code;
    io.err(`geozarr: ${stopCode === EXIT.terminated ? "terminated" : "interrupted"}`);
    return stopCode;
  } catch (err) {
    if (controller.signal.aborted) {
      io.err(`geozarr: ${stopCode === EXIT.terminated ? "terminated" : "interrupted"}`);
      return stopCode;
    }
    if (isGeoZarrError(err)) {
      // Expected errors: one line naming what and where, no stack trace.
      io.err(`geozarr: error: ${err.message}`);
      if (err.tag === "Usage") io.err(`Run 'geozarr ${name} --help' for usage.`);
    } else {
      io.err(`geozarr: internal error: ${(err as Error)?.stack ?? String(err)}`);
    }
    return exitCodeFor(err);
  } finally {
    clearTimeout(force);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
