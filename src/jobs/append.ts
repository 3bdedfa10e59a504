/**
 * `appendSeries(inputs, store, options)`: add later granules to a time-series store, in place,
 * with the store readable and consistent throughout.
 *
 * The store's own encoding is kept: the new granules are planned with its format, codec, chunks
 * and packing (and must plan to the very same array specs), and its time encoding (units,
 * calendar, type) is the one new times are written in (never re-derived from the new files:
 * xarray #5969). Times must come after the store's last. The new chunks are written by tasks into
 * a staging area beside the store, so an append killed then leaves the store exactly as it was and
 * `resume` finishes it. Finalize then changes the store in an order a reader never sees half of:
 * the new chunks, which lie beyond the arrays' current shapes, are moved in first; then the time
 * coordinate's chunk (its first values unchanged); then each array's document with the new shape,
 * each replaced by rename; consolidated metadata last, which is what readers open.
 *
 * In object storage (`s3://`) there is no staging directory: the store is locked and marked
 * (s3-output.ts `prepareS3Append`), the tasks PUT the new chunks at their final keys (beyond the
 * current shapes, invisible) and their records under the prefix (s3-staging.ts), the time chunk
 * and a partly filled last chunk are replaced by single PUTs whose stored steps keep their values,
 * then the documents, consolidated metadata last. Replacing times would change what readers see
 * under the old metadata, so it is refused there (docs/design.md "Object storage").
 * @module
 */

import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { decodeInstants, timeEncoding } from "../cf/time.js";
import { type ArrayNode, emptySummary, runTask } from "../convert/execute.js";
import { expandInputs } from "../convert/inputs.js";
import { PARTIAL_MARKER, prepareAppend, STAGING_META } from "../convert/output.js";
import { normalizeOptions } from "../convert/plan-input.js";
import { contentId, planToJson } from "../convert/plan-json.js";
import { prepareS3Append } from "../convert/s3-output.js";
import { encodeSeries, orderByTime } from "../convert/series/order.js";
import { checkAgreement, type SeriesSource, seriesTasks, stackPart } from "../convert/series/plan.js";
import type { ScannedInput } from "../convert/series/scan-task.js";
import { withSceneTime } from "../convert/series/scenes.js";
import { Staging } from "../convert/staging.js";
import { fsError, GeoZarrError } from "../errors.js";
import { WorkerPool } from "../parallel/pool.js";
import { readRegion } from "../parallel/read-region.js";
import { codecChoiceOfChain, formatCodecChoice } from "../zarr/codecs/choice.js";
import { zstdBackend } from "../zarr/codecs/zstd.js";
import { type Hierarchy, openHierarchy } from "../zarr/hierarchy.js";
import { jsonEqual } from "../zarr/json.js";
import { type ArrayMeta, shardingOf } from "../zarr/metadata/model.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import { parseLocation, s3Descriptor } from "../zarr/store/location.js";
import { refFor } from "../zarr/store/ref.js";
import { S3Store } from "../zarr/store/s3.js";
import { appendDocuments } from "./append-docs.js";
import { historyLine } from "./convert.js";
import {
  merge,
  planGranule,
  runStagedTasks,
  type SeriesOptions,
  type SeriesSummary,
  scanInputs,
  type TaskCounts,
} from "./series.js";
import { readSeriesRecord } from "./series-record.js";

/** The store's arrays along `dim`: the coordinate of `dim` and the data arrays using it. */
function seriesArrays(h: Hierarchy, dim: string) {
  const arrays = [...h.nodes.values()].filter(
    (n) => n.meta.kind === "array",
  ) as (Hierarchy["nodes"] extends Map<string, infer N> ? N : never)[];
  const coord = arrays.find(
    (n) => n.path.split("/").pop() === dim && (n.meta as ArrayMeta).dimensionNames?.join() === dim,
  );
  const data = arrays.filter((n) => n !== coord && (n.meta as ArrayMeta).dimensionNames?.includes(dim));
  return { coord, data };
}

/** The store's encoding as planning options: what the new granules must be planned with. */
function storeSettings(h: Hierarchy, data: { path: string; meta: ArrayMeta }[], scanned: ScannedInput) {
  const first = data[0]!.meta;
  const sharding = shardingOf(first);
  const codec = codecChoiceOfChain(sharding ? sharding.codecs : first.codecs);
  if (!codec)
    throw new GeoZarrError(
      "Unsupported",
      `${h.name}${data[0]!.path}: its codecs are not ones geozarr writes, so new chunks could not match them`,
    );
  const chunks: Record<string, number> = {};
  const shards: Record<string, number> = {};
  for (const { meta } of data) {
    const s = shardingOf(meta);
    const inner = s ? s.chunkShape : meta.chunkShape;
    meta.dimensionNames?.forEach((d, i) => {
      if (d) chunks[d] = inner[i]!;
      if (d && s) shards[d] = meta.chunkShape[i]!;
    });
  }
  // Unpacked when a stored float comes from a packed integer variable of the granules.
  let unpack: "float32" | "float64" | undefined;
  for (const { path, meta } of data) {
    const v = scanned.variables[path];
    if (
      v &&
      (meta.dataType === "float32" || meta.dataType === "float64") &&
      v.dataType !== meta.dataType &&
      !v.dataType.startsWith("float")
    )
      unpack = meta.dataType;
  }
  return { codec, chunks, shards: Object.keys(shards).length ? shards : undefined, unpack };
}

/**
 * Whether a granule rewrites steps the store has: all its times are the store's, consecutive
 * (a granule with some of the store's times and some new ones is refused).
 */
function replacesSteps(s: ScannedInput, at: Map<number, number>, dim: string): boolean {
  const own = timeEncoding(s.concat.attributes.units, s.concat.attributes.calendar);
  const instants = own ? decodeInstants(s.concat.values, own) : null;
  if (!instants) return false;
  const known = instants.map((t) => at.get(t));
  if (known.every((i) => i === undefined)) return false;
  if (known.some((i, k) => i === undefined || i !== known[0]! + k)) {
    throw new GeoZarrError(
      "Usage",
      `${s.file}: some of its ${dim} steps are in the store and some are not; replaceTimes rewrites whole granules of the store's times`,
      { where: s.file },
    );
  }
  return true;
}

/** Write a file by rename, so a reader sees the old or the new bytes, never a part. */
async function replaceFile(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw fsError(err, path, "write");
  }
}

/** Every file under `dir` (relative paths), but the run's own metadata. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (d === dir && (e.name === STAGING_META || e.name === PARTIAL_MARKER)) continue;
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

export async function appendSeries(
  given: string[],
  store: string,
  options: SeriesOptions,
): Promise<SeriesSummary> {
  const t0 = performance.now();
  const loc = parseLocation(store);
  if (loc.kind === "http")
    throw new GeoZarrError("Usage", `${store}: HTTP stores are read-only; append to a directory or s3://`);
  // Object storage: chunks replaced by single PUTs, so steps readers see must not change.
  if (loc.kind === "s3" && options.replaceTimes)
    throw new GeoZarrError(
      "Unsupported",
      `${store}: replacing times rewrites steps readers see, which object storage cannot hide until the metadata changes; append to a copy in a directory, or convert the series again`,
      { where: store },
    );
  const dim = options.concat;
  const o = normalizeOptions(options);
  const inputs = await expandInputs(given, { inputsFrom: options.inputsFrom });
  if (inputs.length === 0) throw new GeoZarrError("Usage", "no inputs");
  const s3 = loc.kind === "s3" ? new S3Store(s3Descriptor(loc, options.remote ?? {})) : undefined;
  const fsStore = s3 ?? new FileSystemStore(store);
  const h = await openHierarchy(fsStore, { name: store });
  const root = h.nodes.get("/");
  if (root && "multiscales" in root.meta.attributes)
    throw new GeoZarrError(
      "Unsupported",
      `${store}: has multiscale levels; append to the full-resolution store, then rebuild the levels with geozarr pyramid`,
    );
  const { coord, data } = seriesArrays(h, dim);
  if (!coord)
    throw new GeoZarrError("Usage", `${store}: has no coordinate array "${dim}" to append along`, {
      where: store,
    });
  if (data.length === 0)
    throw new GeoZarrError("Usage", `${store}: no array has the dimension "${dim}"`, { where: store });
  const coordMeta = coord.meta as ArrayMeta;
  const enc = timeEncoding(coordMeta.attributes.units, coordMeta.attributes.calendar);
  if (!enc)
    throw new GeoZarrError(
      "Unsupported",
      `${store}${coord.path}: its units and calendar are not a time encoding geozarr can append to`,
    );
  const pool = new WorkerPool(o.workers);
  const detach = pool.stopOn(options.signal);
  try {
    const old = await readRegion(h, coord.path, pool);
    const oldValues = Array.from(old.data as ArrayLike<number | bigint>, Number);
    const n0 = oldValues.length;
    const oldInstants = decodeInstants(oldValues, enc)!;
    const last = oldInstants.at(-1)!;
    const scanned = await scanInputs(inputs, dim, pool, options.signal, options.timeFrom);
    // With replaceTimes, granules whose times the store has rewrite those steps in place; the
    // others must come after the store's last time.
    const at = new Map(oldInstants.map((t, i) => [t, i]));
    const replacing = options.replaceTimes ? scanned.filter((s) => replacesSteps(s, at, dim)) : [];
    const timed = [
      ...(replacing.length ? orderByTime(replacing, dim) : []),
      ...orderByTime(
        scanned.filter((s) => !replacing.includes(s)),
        dim,
        { instant: last, store },
      ),
    ];
    const record = await readSeriesRecord(s3 ?? store);
    const first = timed[0]!.input;
    const notes: string[] = [];
    if (record && record.concat === dim) {
      const ref = { ...record.first, size: 0, mtimeMs: 0 } as ScannedInput;
      checkAgreement(
        ref,
        timed.map((t) => t.input),
        Object.keys(record.first.variables),
        dim,
      );
    } else
      notes.push(
        `${store} has no ${".geozarr-series.json"} (not made by geozarr's time-series convert): the new granules were checked against its metadata only`,
      );
    // The new granules planned with the store's settings must give the store's very arrays.
    const settings = storeSettings(
      h,
      data.map((n) => ({ path: n.path, meta: n.meta as ArrayMeta })),
      first,
    );
    const dataNames = data.map((n) => n.path.slice(1));
    const history = historyLine(options.command ?? `geozarr convert ${inputs.length} inputs --append ${dim}`);
    // A store of GeoTIFF scenes has one variable per band unless it has band_data.
    const bandsAsVariables = first.scene ? !dataNames.includes("band_data") : undefined;
    const planned1 = await planGranule(first.file, dim, first.scene !== undefined, {
      zarrFormat: h.zarrFormat,
      codec: settings.codec,
      chunks: settings.chunks,
      shards: settings.shards,
      unpack: settings.unpack,
      variables: first.scene ? undefined : dataNames.filter((n) => !n.includes("/")),
      bandsAsVariables,
      history,
    });
    const one = first.scene
      ? { nodes: withSceneTime(planned1.nodes, first, h.zarrFormat, settings.shards?.[dim]) }
      : planned1;
    const appended = timed.filter((t) => !replacing.includes(t.input));
    const added = appended.reduce((n, t) => n + t.instants.length, 0);
    const steps = n0 + added;
    const sources: SeriesSource[] = [];
    let next = n0;
    for (const t of timed) {
      const start = replacing.includes(t.input) ? at.get(t.instants[0]!)! : next;
      sources.push({
        file: t.input.file,
        size: t.input.size,
        mtimeMs: t.input.mtimeMs,
        start,
        count: t.instants.length,
      });
      if (!replacing.includes(t.input)) next += t.instants.length;
    }
    const byFile = new Map(timed.map((t) => [t.input.file, t.input]));
    const nodes: ArrayNode[] = [];
    for (const node of data) {
      const meta = node.meta as ArrayMeta;
      const planned = one.nodes.find((n): n is ArrayNode => n.kind === "array" && n.path === node.path);
      const kind = planned?.copy?.source?.kind;
      if (!planned?.copy || (kind !== "netcdf" && kind !== "geotiff"))
        throw new GeoZarrError(
          "Format",
          `${first.file}: has no variable ${node.path} to append to ${store}`,
          { where: first.file },
        );
      const axis = meta.dimensionNames!.indexOf(dim);
      const sharding = shardingOf(meta);
      const inner = sharding ? sharding.chunkShape : meta.chunkShape;
      const same =
        planned.spec.dataType === meta.dataType &&
        jsonEqual(planned.spec.fillValue, meta.fillValue) &&
        planned.spec.chunkShape.every((c, d) => d === axis || c === inner[d]);
      if (!same)
        throw new GeoZarrError(
          "Format",
          `${first.file}: ${node.path} would be stored as ${planned.spec.dataType} with fill ${String(planned.spec.fillValue)}, the store has ${meta.dataType} with fill ${String(meta.fillValue)}: not the same encoding`,
          { where: first.file },
        );
      const T = (sharding ? meta.chunkShape : inner)[axis]!;
      // Steps of the store that share a chunk with rewritten or added ones are read back from it.
      const shared =
        (added > 0 && n0 % T !== 0) ||
        sources.some((src) => src.start < n0 && (src.start % T !== 0 || (src.start + src.count) % T !== 0));
      if (shared && planned.copy.transform.kind !== "identity")
        throw new GeoZarrError(
          "Unsupported",
          `${store}${node.path}: a chunk of ${T} steps along ${dim} would hold both stored and new steps, and it holds decoded values; appending needs whole chunks there (convert with --chunks ${dim}=1, or append whole chunks' worth of granules)`,
        );
      const ref = planned.copy.source!;
      const parts = [
        ...(shared
          ? [
              {
                start: 0,
                count: n0,
                ref: {
                  kind: "zarr" as const,
                  store: refFor(fsStore, o.workers > 0),
                  storeName: store,
                  path: node.path,
                  meta,
                },
              },
            ]
          : []),
        ...sources.map((s) => stackPart(ref, byFile.get(s.file)!, s)),
      ];
      nodes.push({
        ...planned,
        spec: {
          ...planned.spec,
          shape: meta.shape.map((s, d) => (d === axis ? steps : s)),
          chunkShape: inner,
          shardShape: sharding ? meta.chunkShape : undefined,
          attributes: meta.attributes,
        },
        copy: { ...planned.copy, source: { kind: "stack", axis, parts } },
      });
    }
    const paths = nodes.map((n) => n.path);
    const tasks = [
      ...sources
        .filter((src) => src.start < n0)
        .flatMap((src) => seriesTasks(nodes, paths, dim, sources, src.start, src.start + src.count)),
      ...(added ? seriesTasks(nodes, paths, dim, sources, n0, steps) : []),
    ];
    const values = [...oldValues, ...encodeSeries(appended, enc, coordMeta.dataType, dim)];
    const id = contentId({ store, n0, values, tasks, sources, nodes });
    // In a directory the new chunks are staged beside the store and moved in; in object storage
    // they are PUT at their keys (beyond the current shapes, or chunks whose stored steps keep
    // their values), the records under the store's prefix (s3-staging.ts).
    const upload = s3 ? await prepareS3Append(s3, id, options.resume) : undefined;
    const pending = upload
      ? { tmp: "", notes: upload.notes, release: (ok: boolean) => (ok ? upload.finish() : upload.release()) }
      : await prepareAppend(store, inputs, { id, resume: options.resume });
    let ok = false;
    try {
      const staging = upload?.staging ?? new Staging(pending.tmp, id);
      await staging.writePlan(planToJson({ id, append: store, nodes, tasks, sources }));
      const stagingStore = staging.store();
      const total = emptySummary(pool.size);
      const counts: TaskCounts = { tasks: tasks.length, done: 0, skipped: 0, failed: 0 };
      const exec = {
        zarrFormat: h.zarrFormat,
        workers: o.workers,
        useWorkers: o.workers > 0,
        memoryBudget: options.memoryBudget,
        signal: options.signal,
        pool,
      };
      await runStagedTasks(
        { nodes, tasks, sources, zarrFormat: h.zarrFormat },
        staging,
        exec,
        counts,
        total,
        options,
      );
      // The time coordinate, whole, into the staging area (its chunk rewritten: old values the same).
      const timeNode: ArrayNode = {
        kind: "array",
        path: coord.path,
        spec: {
          shape: [steps],
          chunkShape: coordMeta.chunkShape,
          dataType: coordMeta.dataType,
          fillValue: coordMeta.fillValue,
          dimensionNames: [dim],
          attributes: coordMeta.attributes,
          codec: codecChoiceOfChain(coordMeta.codecs) ?? settings.codec,
        },
        copy: {
          source: { kind: "values", values, dataType: coordMeta.dataType },
          sourceChunks: coordMeta.chunkShape,
          sourceType: coordMeta.dataType,
          sourceFill: coordMeta.fillValue,
          transform: { kind: "identity" },
        },
      };
      const timeChunks = Math.ceil(steps / coordMeta.chunkShape[0]!);
      const timeTask = { label: dim, regions: { [coord.path]: { start: [0], shape: [timeChunks] } } };
      merge(total, await runTask([timeNode], timeTask, stagingStore, exec));
      options.signal?.throwIfAborted();
      const shapes = {
        [coord.path]: [steps],
        ...Object.fromEntries(nodes.map((n) => [n.path, n.spec.shape])),
      };
      if (s3) for (const [key, bytes] of appendDocuments(h, shapes, history)) await s3.put(key, bytes);
      else await applyAppend(h, store, pending.tmp, shapes, history);
      ok = true;
      return {
        inputs: inputs.length,
        output: store,
        zarrFormat: h.zarrFormat,
        codec: formatCodecChoice(settings.codec),
        zstd: zstdBackend().backend,
        workers: pool.size,
        concat: dim,
        steps,
        first: new Date(decodeInstants(oldValues.slice(0, 1), enc)![0]!)
          .toISOString()
          .replace(/\.000Z$/, "Z"),
        last: new Date(Math.max(last, ...timed.map((t) => t.instants.at(-1)!)))
          .toISOString()
          .replace(/\.000Z$/, "Z"),
        missing: [],
        plan: { id, ...counts },
        arrays: total.arrays,
        dropped: [],
        notes: [...pending.notes, ...notes],
        rawBytes: total.rawBytes,
        storedBytes: total.storedBytes,
        seconds: (performance.now() - t0) / 1000,
        memory: total.memory,
      };
    } finally {
      await pending.release(ok);
    }
  } finally {
    detach();
    await pool.close();
  }
}

/**
 * Finalize an append in a directory, in the order that keeps the store consistent for readers: the
 * staged chunks moved in (beyond the current shapes, or the time chunk whose old values are
 * unchanged), then the documents (append-docs.ts), each replaced by rename.
 */
async function applyAppend(
  h: Hierarchy,
  store: string,
  staging: string,
  shapes: Record<string, number[]>,
  history: string,
): Promise<void> {
  for (const f of await filesUnder(staging)) {
    const to = join(store, f);
    await mkdir(dirname(to), { recursive: true });
    await rename(join(staging, f), to).catch((err) => {
      throw fsError(err, to, "move into place");
    });
  }
  for (const [key, bytes] of appendDocuments(h, shapes, history)) await replaceFile(join(store, key), bytes);
}
