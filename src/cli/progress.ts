/**
 * A progress bar on stderr for long work: shown only on a TTY, redrawn at most ten times a second,
 * cleared at the end. In pipes and CI it prints nothing.
 * @module
 */

import { humanBytes } from "./io.js";

export interface ProgressState {
  done: number;
  total: number;
  /** Bytes processed and in all, for the rate and ETA. */
  bytesDone: number;
  bytesTotal: number;
  /** Unit shown after the counts: "chunks". */
  unit: string;
}

export interface ProgressBar {
  update(s: ProgressState): void;
  finish(): void;
}

const SILENT: ProgressBar = { update() {}, finish() {} };

export function progressBar(stream: NodeJS.WriteStream, label: string, enabled: boolean): ProgressBar {
  if (!enabled || !stream.isTTY) return SILENT;
  const start = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(s) {
      const now = Date.now();
      if (now - last < 100 && s.done < s.total) return;
      last = now;
      const frac =
        s.bytesTotal > 0 ? Math.min(1, s.bytesDone / s.bytesTotal) : s.total > 0 ? s.done / s.total : 0;
      const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - 70));
      const fill = Math.round(frac * width);
      const secs = (now - start) / 1000;
      const eta = frac > 0 && frac < 1 ? `ETA ${minutesSeconds((secs / frac) * (1 - frac))}` : "";
      const rate = secs > 0 ? `${humanBytes(s.bytesDone / secs)}B/s` : "";
      const line = `${label} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${humanBytes(s.bytesDone)}/${humanBytes(s.bytesTotal)}B ${s.done}/${s.total} ${s.unit} ${rate} ${eta}`;
      stream.write(`\r${line.slice(0, (stream.columns ?? 120) - 1)}\u001b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write("\r\u001b[K");
    },
  };
}

/** A duration as people read it: "45s", "3m 05s", "2h 10m". */
export function minutesSeconds(seconds: number): string {
  const t = Math.ceil(seconds);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m ${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h ${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}
