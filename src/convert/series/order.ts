/**
 * The time axis of a series: granules ordered by their decoded times (CF units and calendar, not
 * their names), duplicate or overlapping times refused, the times re-encoded exactly in one
 * encoding (the first granule's, or the store's when appending: never re-derived from new files,
 * the wrong-datetimes-on-append bug of xarray #5969), and the gaps of a regular series listed.
 * @module
 */

import {
  decodeInstants,
  encodeInstants,
  instantLabel,
  type TimeEncoding,
  timeEncoding,
} from "../../cf/time.js";
import { GeoZarrError } from "../../errors.js";
import { type DataType, integerRange } from "../../zarr/dtype.js";
import type { ScannedInput } from "./scan-task.js";

export interface TimedInput {
  input: ScannedInput;
  /** Instants (ms since 1970-01-01T00Z) of its steps, increasing. */
  instants: number[];
}

function encodingOf(file: string, attrs: ScannedInput["concat"]["attributes"], name: string): TimeEncoding {
  const enc = timeEncoding(attrs.units, attrs.calendar);
  if (!enc) {
    throw new GeoZarrError(
      "Unsupported",
      `${file}: ${name} has units ${JSON.stringify(attrs.units ?? null)} and calendar ${JSON.stringify(attrs.calendar ?? "standard")}; a series is ordered by decoded times, which needs "<unit> since <date>" in the standard, gregorian or proleptic_gregorian calendar`,
      { where: file },
    );
  }
  return enc;
}

/** The granules in time order, each with its instants; overlaps and duplicates refused. */
export function orderByTime(
  inputs: readonly ScannedInput[],
  name: string,
  after?: { instant: number; store: string },
): TimedInput[] {
  const timed = inputs.map((input) => {
    const enc = encodingOf(input.file, input.concat.attributes, name);
    const instants = decodeInstants(input.concat.values, enc);
    if (!instants)
      throw new GeoZarrError("Format", `${input.file}: ${name} values cannot be decoded as times`, {
        where: input.file,
      });
    for (let i = 1; i < instants.length; i++)
      if (!(instants[i]! > instants[i - 1]!))
        throw new GeoZarrError(
          "Format",
          `${input.file}: ${name} is not increasing at index ${i} (${instantLabel(instants[i]!)})`,
          {
            where: input.file,
          },
        );
    if (instants.length === 0)
      throw new GeoZarrError("Format", `${input.file}: ${name} is empty`, { where: input.file });
    return { input, instants };
  });
  timed.sort((a, b) => a.instants[0]! - b.instants[0]!);
  for (let i = 1; i < timed.length; i++) {
    const prev = timed[i - 1]!;
    const cur = timed[i]!;
    if (cur.instants[0]! <= prev.instants.at(-1)!) {
      const what =
        cur.instants[0] === prev.instants.at(-1) || cur.instants[0] === prev.instants[0]
          ? "the same time"
          : "overlapping times";
      throw new GeoZarrError(
        "Format",
        `${cur.input.file}: ${what} as ${prev.input.file} (${instantLabel(cur.instants[0]!)}); a series needs each time once`,
        { where: cur.input.file },
      );
    }
  }
  if (after && timed.length && timed[0]!.instants[0]! <= after.instant) {
    throw new GeoZarrError(
      "Usage",
      `${timed[0]!.input.file}: ${instantLabel(timed[0]!.instants[0]!)} is not after the last time of ${after.store} (${instantLabel(after.instant)}); appending adds later times only (replaceTimes rewrites existing ones)`,
      { where: timed[0]!.input.file },
    );
  }
  return timed;
}

/** The first granule's time encoding, the one a new series is written in. */
export function firstEncoding(timed: readonly TimedInput[], name: string): TimeEncoding {
  const first = timed[0]!.input;
  return encodingOf(first.file, first.concat.attributes, name);
}

/** All instants encoded in `enc` as values of `dataType`, or an error naming the granule that cannot be. */
export function encodeSeries(
  timed: readonly TimedInput[],
  enc: TimeEncoding,
  dataType: DataType,
  name: string,
): number[] {
  const range = integerRange(dataType);
  const values: number[] = [];
  for (const t of timed) {
    const r = encodeInstants(
      t.instants,
      enc,
      range ? { min: Number(range[0]), max: Number(range[1]) } : null,
    );
    if ("inexact" in r) {
      throw new GeoZarrError(
        "Format",
        `${t.input.file}: ${name} ${instantLabel(r.inexact)} has no exact ${dataType} value in "${enc.units}" (the series' time encoding)`,
        { where: t.input.file },
      );
    }
    values.push(...r.values);
  }
  return values;
}

/**
 * The missing steps of a regular series: the most common step between consecutive times, and
 * every instant a gap of a whole number of steps skips. Empty when the series is not regular.
 */
export function missingSteps(instants: readonly number[]): { step: number; missing: string[] } {
  if (instants.length < 3)
    return { step: instants.length === 2 ? instants[1]! - instants[0]! : 0, missing: [] };
  const counts = new Map<number, number>();
  for (let i = 1; i < instants.length; i++) {
    const d = instants[i]! - instants[i - 1]!;
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  const [step] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
  const missing: string[] = [];
  for (let i = 1; i < instants.length; i++) {
    const d = instants[i]! - instants[i - 1]!;
    if (d > step && d % step === 0)
      for (let t = instants[i - 1]! + step; t < instants[i]!; t += step) missing.push(instantLabel(t));
  }
  return { step, missing };
}
