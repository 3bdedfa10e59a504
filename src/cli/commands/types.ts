import type { CommandSpec, OptionValues, ParsedArgs } from "../args.js";
import type { Io } from "../io.js";

export interface Command {
  spec: CommandSpec;
  /** Run with parsed arguments; returns the exit code. Expected errors are thrown as GeoZarrError. */
  run(args: ParsedArgs, io: Io, signal: AbortSignal): Promise<number>;
  /** How long the command may take to stop after a signal (default STOP_GRACE_MS, main.ts). */
  stopGraceMs?: (values: OptionValues) => number;
}
