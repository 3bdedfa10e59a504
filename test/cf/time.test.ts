/** CF time coordinates as ISO labels, checked against values cftime/xarray give for the same units. */

import { describe, expect, it } from "vitest";
import {
  decodeInstants,
  decodeTimes,
  encodeInstants,
  instantLabel,
  referenceTime,
  timeEncoding,
} from "../../src/cf/time.js";

describe("decodeTimes", () => {
  it("decodes the sample's seconds since 1981-01-01 as xarray does (2002-06-01T09:00:00)", () => {
    expect(decodeTimes([675766800], "seconds since 1981-01-01 00:00:00 UTC", undefined)).toEqual([
      "2002-06-01T09:00:00Z",
    ]);
  });

  it("keeps whole days short and applies the reference time zone", () => {
    expect(decodeTimes([0, 1.5], "days since 2000-01-01", "standard")).toEqual([
      "2000-01-01",
      "2000-01-02T12:00:00Z",
    ]);
    expect(decodeTimes([36], "hours since 2020-02-28T00:00:00+01:00", "proleptic_gregorian")).toEqual([
      "2020-02-29T11:00:00Z",
    ]);
  });

  it("refuses what it cannot decode exactly instead of guessing", () => {
    expect(decodeTimes([1], "days since 2000-01-01", "noleap")).toBeNull();
    expect(decodeTimes([1], "days since 2000-01-01", "360_day")).toBeNull();
    expect(decodeTimes([1], "kelvin", undefined)).toBeNull();
    expect(decodeTimes([1], undefined, undefined)).toBeNull();
    expect(referenceTime("2000-13-45 nonsense")).toBeNull();
  });
});

describe("time instants (for time series: ordering, gaps, re-encoding)", () => {
  it("decodes to instants and encodes them back exactly in another unit and origin", () => {
    const a = timeEncoding("seconds since 1981-01-01 00:00:00 UTC", undefined)!;
    const b = timeEncoding("days since 2002-01-01", "gregorian")!;
    const t = decodeInstants([675766800, 675766800 + 86400], a)!;
    expect(t.map(instantLabel)).toEqual(["2002-06-01T09:00:00Z", "2002-06-02T09:00:00Z"]);
    expect(encodeInstants(t, a, { min: -(2 ** 31), max: 2 ** 31 - 1 })).toEqual({
      values: [675766800, 675766800 + 86400],
    });
    // 09:00 is not a whole number of days since the origin: refused for integers, exact in floats
    expect(encodeInstants(t, b, { min: -(2 ** 31), max: 2 ** 31 - 1 })).toEqual({ inexact: t[0] });
    expect(encodeInstants(t, b, null)).toEqual({ values: [151.375, 152.375] });
  });

  it("refuses values outside the stored integer type", () => {
    const enc = timeEncoding("seconds since 1970-01-01", undefined)!;
    expect(encodeInstants([2 ** 31 * 1000], enc, { min: -(2 ** 31), max: 2 ** 31 - 1 })).toEqual({
      inexact: 2 ** 31 * 1000,
    });
  });

  it("has no encoding for calendars it cannot compute with", () => {
    expect(timeEncoding("days since 2000-01-01", "noleap")).toBeNull();
    expect(timeEncoding("days", undefined)).toBeNull();
  });
});
