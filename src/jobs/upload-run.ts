/**
 * A run planned as tasks whose output is in object storage (`s3://bucket/prefix`), for other
 * processes to run: a queue of `geozarr worker`s, or `geozarr task` in a Kubernetes Indexed Job.
 * The run's staging area is the output's own prefix (convert/s3-staging.ts): the plan at
 * `PREFIX/.geozarr-run/plan.json` (its s3:// URL is what the jobs name), one record per finished
 * task beside it, chunks at their final keys, invisible until the consolidated metadata.
 *
 * - **stage** (`stageUploadRun`): the output checked and locked (convert/s3-output.ts), the prefix
 *   marked as this plan's (a marker of the same plan is continued: resubmission), the plan PUT;
 *   then the lock is released, as for a directory (run-plan.ts), and the marker stays.
 * - **task** (`runUploadTask`): the plan read from S3 with the worker's own AWS environment (no
 *   credential is in the plan or the job), its chunks PUT, then its record. Idempotent as in a
 *   directory: the same bytes however often it runs.
 * - **finalize** (`finalizeUpload`): under the output's lock, the marker must name this plan;
 *   every record re-checked against a listing of the prefix, the metadata PUT, the consolidated
 *   document last, then the run's keys, the marker and the lock deleted.
 * @module
 */

import { createHash } from "node:crypto";
import type { ExecuteOptions } from "../convert/execute.js";
import { STAGING_META } from "../convert/output.js";
import { planFromJson } from "../convert/plan-json.js";
import { prepareS3Output } from "../convert/s3-output.js";
import { S3Staging } from "../convert/s3-staging.js";
import { GeoZarrError, isGeoZarrError } from "../errors.js";
import { parseLocation, type RemoteOptions, s3Descriptor } from "../zarr/store/location.js";
import { S3Store } from "../zarr/store/s3.js";
import {
  type DraftPlan,
  type FinalizeResult,
  finishRun,
  type RunPlan,
  runPlanTask,
  stageUpload,
  type TaskOutcome,
} from "./run-plan.js";

/** What a completed upload is, to tell it from another store written there later: its consolidated document's digest. */
export interface StoreDigest {
  digest: string;
}

const PLAN_KEY = `/${STAGING_META}/plan.json` as const;

function s3Location(url: string) {
  const loc = parseLocation(url);
  if (loc.kind !== "s3") throw new GeoZarrError("Usage", `${url}: not an s3:// URL`, { where: url });
  return loc;
}

/** The output store of the plan at `url` (`s3://bucket/prefix/.geozarr-run/plan.json`). */
function outputOf(url: string, remote: RemoteOptions = {}): S3Store {
  if (!url.endsWith(PLAN_KEY))
    throw new GeoZarrError(
      "Usage",
      `${url}: a plan in object storage is the output's ${STAGING_META}/plan.json (s3://bucket/prefix${PLAN_KEY})`,
      { where: url },
    );
  return new S3Store(s3Descriptor(s3Location(url.slice(0, -PLAN_KEY.length)), remote));
}

/** The plan at `url`, read from S3 (a worker keeps the last one: one read for all its tasks of a run). */
let cached: { url: string; plan: RunPlan } | null = null;

async function readUploadPlan(url: string, s3: S3Store, id?: string): Promise<RunPlan> {
  if (id !== undefined && cached?.url === url && cached.plan.id === id) return cached.plan;
  const bytes = await s3.get(PLAN_KEY);
  if (bytes === undefined)
    throw new GeoZarrError(
      "NotFound",
      `${url}: no such plan (the run was finalized already, or its upload was removed)`,
      { where: url },
    );
  const plan = planFromJson<RunPlan>(new TextDecoder().decode(bytes), url);
  if (plan?.version !== 1 || typeof plan.id !== "string" || !Array.isArray(plan.tasks))
    throw new GeoZarrError("InvalidMetadata", `${url}: not a geozarr run plan`, { where: url });
  if (plan.output !== s3.url)
    throw new GeoZarrError("Usage", `${url}: the plan is of ${plan.output}, not of ${s3.url}`, {
      where: url,
    });
  cached = { url, plan };
  return plan;
}

/**
 * Check and lock the output of `draft` in object storage, mark the prefix as this plan's
 * (continuing an upload of the same plan) and PUT the plan; `release` lets the lock go, the marker
 * and the plan stay for the tasks.
 */
export async function stageUploadRun(draft: DraftPlan, inputs: string[], remote: RemoteOptions = {}) {
  const desc = s3Descriptor(s3Location(draft.output), remote);
  const pending = await prepareS3Output(draft.output, desc, draft.overwrite, inputs, { resume: true });
  try {
    const { plan, staging } = await stageUpload(pending, draft);
    return { plan, staging, pending, planFile: `${new S3Store(desc).url}${PLAN_KEY}` };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}

/** Run task `index` of the plan at `url` (s3://) into its output prefix, unless its record is intact. */
export async function runUploadTask(
  url: string,
  index: number,
  exec: Omit<ExecuteOptions, "zarrFormat">,
  id?: string,
): Promise<TaskOutcome> {
  const s3 = outputOf(url);
  const plan = await readUploadPlan(url, s3, id);
  if (id !== undefined && plan.id !== id)
    throw new GeoZarrError("Usage", `${url}: holds plan ${plan.id}, not ${id}`, { where: url });
  // Tasks write chunks only (execute.ts runTask), straight to their final keys.
  return runPlanTask(plan, new S3Staging(s3, s3, plan.id), index, exec);
}

/** The digest of the consolidated document of the store at `url` (s3://), or null when there is none. */
export async function uploadIdentity(url: string, remote: RemoteOptions = {}): Promise<StoreDigest | null> {
  const s3 = new S3Store(s3Descriptor(s3Location(url), remote));
  const doc = (await s3.get("/.zmetadata")) ?? (await s3.get("/zarr.json"));
  return doc ? { digest: createHash("sha256").update(doc).digest("hex") } : null;
}

/**
 * Finalize the run of the plan at `url` (s3://): under the output's lock, with the prefix marked as
 * this plan's, every task record re-checked, the metadata written (consolidated last), the run's
 * keys, the marker and the lock removed. `committed`: what the store was when an earlier attempt
 * finished (the queue records it); with the plan gone and the store still that, this attempt does
 * nothing.
 */
export async function finalizeUpload(
  url: string,
  exec: Omit<ExecuteOptions, "zarrFormat">,
  committed?: StoreDigest | undefined,
): Promise<FinalizeResult> {
  const s3 = outputOf(url);
  let plan: RunPlan;
  try {
    plan = await readUploadPlan(url, s3);
  } catch (err) {
    if (committed && isGeoZarrError(err) && err.tag === "NotFound") {
      const now = await uploadIdentity(s3.url);
      if (now?.digest === committed.digest) return { output: s3.url, already: true, notes: [] };
    }
    throw err;
  }
  // Never overwrite here: what the plan replaces was cleared when it was staged; the marker must
  // be this plan's (another plan's is refused, a complete store is "already exists").
  const pending = await prepareS3Output(plan.output, s3.descriptor, false, [], { resume: true });
  try {
    const staging = await pending.begin(plan.id);
    if (!pending.resumed)
      throw new GeoZarrError(
        "IO",
        `${s3.url}: the run's marker is gone (its upload was removed or replaced); plan the run again`,
        { where: s3.url },
      );
    const done = await finishRun(plan, staging, exec);
    await pending.commit();
    return { ...done, output: plan.output, already: false, notes: pending.notes };
  } catch (err) {
    await pending.abort();
    throw err;
  }
}
