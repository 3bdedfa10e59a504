/** CF time coordinates as ISO labels, checked against values cftime/xarray give for the same units. */

import { describe, expect, it } from "vitest";
import { decodeTimes, referenceTime } from "../../src/cf/time.js";

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
