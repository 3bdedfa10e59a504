/**
 * Terminal output: data on stdout, diagnostics on stderr, colour only when the stream is a TTY
 * (and NO_COLOR is unset, https://no-color.org), JSON always strict.
 * @module
 */

import { zstdBackend } from "../node.js";
import { toStrictJson } from "../zarr/json.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  /** Whether stderr is an interactive terminal (progress bars). */
  readonly stderrIsTty: boolean;
  /** Colour functions for stdout text. */
  readonly color: Colors;
  readonly errColor: Colors;
}

/** A command's notes (things to know about its result), one `geozarr: note:` line each on stderr. */
export function printNotes(io: Io, notes: readonly string[]): void {
  for (const n of notes) io.err(`geozarr: note: ${n}`);
}

export interface Colors {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  blue(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const ON: Colors = {
  red: wrap(31, 39),
  yellow: wrap(33, 39),
  green: wrap(32, 39),
  blue: wrap(34, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};
const id = (s: string) => s;
const OFF: Colors = { red: id, yellow: id, green: id, blue: id, dim: id, bold: id };

function colorFor(stream: NodeJS.WriteStream): Colors {
  if (process.env.NO_COLOR) return OFF;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return ON;
  return stream.isTTY ? ON : OFF;
}

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
    json: (v) => process.stdout.write(`${toStrictJson(v, 2)}\n`),
    stderrIsTty: Boolean(process.stderr.isTTY),
    color: colorFor(process.stdout),
    errColor: colorFor(process.stderr),
  };
}

/** Bytes in binary units, as `du -h` prints them: 7.9M, 1.2G. */
export function humanBytes(n: number): string {
  const units = ["", "K", "M", "G", "T", "P", "E"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${n}`;
  return `${v >= 1e4 ? v.toExponential(1) : v.toFixed(v < 10 ? 1 : 0)}${units[i]}`;
}

/** A Python tuple, as zarr-python prints shapes: (), (5,), (1, 2). */
export function tuple(xs: readonly (number | string | null)[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`;
}

/**
 * Notes on stderr about how a store was opened: bare NaN/Infinity tokens read leniently, and
 * directory links the walk did not follow.
 */
export function warnOpened(
  io: Io,
  h: {
    name: string;
    nonStandardJson: { key: string; pointer: string }[];
    notFollowed: { key: string; reason: string }[];
  },
): void {
  for (const n of h.notFollowed)
    io.err(io.errColor.yellow(`geozarr: warning: ${h.name}${n.key}: ${n.reason}`));
  const t = h.nonStandardJson;
  if (t.length === 0) return;
  const first = `${h.name}${t[0]!.key} at ${t[0]!.pointer}`;
  io.err(
    io.errColor.yellow(
      `geozarr: warning: ${t.length} non-standard JSON token${t.length > 1 ? "s" : ""} (bare NaN/Infinity) read leniently, first in ${first}; 'geozarr validate' reports them`,
    ),
  );
}

let zstdNoted = false;

/**
 * Once per process, before chunks are read or written: a note on stderr when zstd runs on the
 * WebAssembly fallback (zarr/codecs/zstd.ts), with how to get the native codec, about 2x faster.
 * The library only reports the backend (`zstdBackend()`, the convert summary); saying so is ours.
 */
export function noteZstdBackend(io: Io): void {
  if (zstdNoted) return;
  zstdNoted = true;
  const z = zstdBackend();
  if (z.backend === "native") return;
  const why =
    z.reason === "forced"
      ? "as GEOZARR_ZSTD=wasm asks; unset it for the native codec"
      : z.reason === "not-installed"
        ? "the native codec, about 2x faster, is not installed: npm install zstd-napi (needs a C++ toolchain)"
        : "the native codec, about 2x faster, was not built (install scripts skipped?): npm rebuild zstd-napi (needs a C++ toolchain)";
  io.err(`geozarr: note: zstd runs on WebAssembly, ${why}`);
}
