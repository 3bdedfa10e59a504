/**
 * What a queued run puts in BullMQ: one job per task and one finalize job, the parent of the task
 * jobs in a flow (BullMQ runs a parent once all its children completed). Job ids are derived from
 * the plan's id, the run's generation and the task index, so a resubmitted plan finds its jobs
 * instead of adding new ones; a generation is only started again when the previous one can no
 * longer finish (it failed, or finished without the store being there).
 *
 * Errors travel as BullMQ failure reasons: `[Tag] message`, the library's one-line message and its
 * tag (errors.ts), so the submitting process reports the task's own message with the right exit
 * code.
 * @module
 */

import type { EntryIdentity } from "../convert/output.js";
import { type ErrorTag, GeoZarrError, isGeoZarrError, messageOf } from "../errors.js";
import type { StoreDigest } from "../jobs/upload-run.js";

export interface TaskJobData {
  kind: "task";
  /**
   * The plan file (in the run's staging area; workers must see it at this path), or its s3:// URL
   * (under the output's prefix; workers read it with their own AWS environment).
   */
  plan: string;
  id: string;
  index: number;
  label: string;
}

export interface FinalizeJobData {
  kind: "finalize";
  plan: string;
  id: string;
  output: string;
  /** The staging directory's identity: once moved into place, the output is that directory. */
  staging: EntryIdentity | null;
  tasks: number;
  /**
   * In object storage, set by the finalize job once the store is complete (its consolidated
   * document's digest): an attempt delivered again after that finds the plan gone and does nothing.
   */
  committed?: StoreDigest | undefined;
}

export type RunJobData = TaskJobData | FinalizeJobData;

export interface TaskJobResult {
  /** The task's record was intact already (run before, delivered again): nothing written. */
  skipped: boolean;
  storedBytes: number;
  rawBytes: number;
  seconds: number;
}

export interface FinalizeJobResult {
  output: string;
  already: boolean;
  /** The output's identity after the move, or its digest in object storage (what a resubmission compares against). */
  identity: EntryIdentity | StoreDigest | null;
  storedBytes: number;
  seconds: number;
}

export const taskJobId = (id: string, gen: number, index: number) => `${id}-r${gen}-task-${index}`;
export const finalizeJobId = (id: string, gen: number) => `${id}-r${gen}-finalize`;

/** The plan id, generation and task index (or "finalize") of a job id of ours, else null. */
export function parseJobId(jobId: string): { id: string; gen: number; task: number | null } | null {
  const m = /^([0-9a-f]{16})-r(\d+)-(?:task-(\d+)|finalize)$/.exec(jobId);
  return m ? { id: m[1]!, gen: Number(m[2]), task: m[3] === undefined ? null : Number(m[3]) } : null;
}

const TAGS: ErrorTag[] = [
  "NotFound",
  "InvalidMetadata",
  "Codec",
  "ChunkSize",
  "Usage",
  "Exists",
  "IO",
  "Format",
  "Unsupported",
];

/** A task's error as a failure reason. */
export function encodeFailure(err: unknown): string {
  const line = messageOf(err).split("\n")[0]!;
  return isGeoZarrError(err) ? `[${err.tag}] ${line}` : line;
}

/** A failure reason back as an error (a GeoZarrError when it carries a tag). */
export function decodeFailure(reason: string, context: string): Error {
  const m = /^\[(\w+)\] (.*)$/s.exec(reason);
  const tag = m && (TAGS as string[]).includes(m[1]!) ? (m[1] as ErrorTag) : null;
  const message = `${context}: ${tag ? m![2]! : reason}`;
  return tag ? new GeoZarrError(tag, message) : new GeoZarrError("IO", message);
}

/** A failure reason without its tag, for people. */
export function failureText(reason: string): string {
  return reason.replace(/^\[\w+\] /, "");
}
