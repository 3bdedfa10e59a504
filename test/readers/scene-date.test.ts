/**
 * Scene dates for stacking GeoTIFFs along time (issue 17 item 4): from file names by a regular
 * expression (Sentinel-2, Landsat, plain dates), and from TIFFTAG_DATETIME as GDAL writes it.
 */

import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { openGeoTiff } from "../../src/readers/geotiff.js";
import { dateFromName, dateFromTiffTag, sceneDate } from "../../src/readers/scene-date.js";

describe("dateFromName", () => {
  it.each([
    ["/data/S2B_MSIL2A_20230615T103021_N0509_R108_T32TQM.tif", "_(\\d{8}T\\d{6})_", "2023-06-15T10:30:21Z"],
    ["LC08_L1TP_042034_20170616_20170629_01_T1_B4.TIF", "_(\\d{8})_\\d{8}_", "2017-06-16"],
    ["LC80420342017167LGN00_B4.TIF", "LC8\\d{6}(\\d{7})", "2017-06-16"],
    ["ndvi_2024-02-29.tif", "\\d{4}-\\d{2}-\\d{2}", "2024-02-29"],
    ["dem_y2020_m07_d04.tif", "y(?<year>\\d{4})_m(?<month>\\d+)_d(?<day>\\d+)", "2020-07-04"],
    ["a_2021_032.tif", "(?<year>\\d{4})_(?<doy>\\d{3})", "2021-02-01"],
    [
      "obs_20200101_0630.tif",
      "(?<year>\\d{4})(?<month>\\d\\d)(?<day>\\d\\d)_(?<hour>\\d\\d)(?<minute>\\d\\d)",
      "2020-01-01T06:30:00Z",
    ],
  ])("%s with %s", (file, pattern, date) => {
    expect(dateFromName(file, pattern)).toBe(date);
  });

  it("no match, no date, an impossible date, a bad pattern: errors naming the file", () => {
    expect(() => dateFromName("/d/scene.tif", "\\d{8}")).toThrow(
      '/d/scene.tif: its name does not match the time pattern "\\\\d{8}"',
    );
    expect(() => dateFromName("/d/tile_1234.tif", "tile_(\\d+)")).toThrow(
      '/d/tile_1234.tif: "1234" (matched by the time pattern) is not a date',
    );
    expect(() => dateFromName("x_20230231.tif", "(\\d{8})")).toThrow(
      "x_20230231.tif: 2023-2-31 is not a valid date",
    );
    expect(() => dateFromName("x_2023400.tif", "(\\d{7})")).toThrow(
      "x_2023400.tif: day 400 of 2023 is not a date",
    );
    expect(() => dateFromName("x.tif", "(")).toThrow('time pattern "(" is not a regular expression');
    // Only the name is searched, never the directory.
    expect(() => dateFromName("/archive/20230615/scene.tif", "(\\d{8})")).toThrow("does not match");
  });
});

describe("TIFFTAG_DATETIME", () => {
  it("parsed as UTC; malformed values refused", () => {
    expect(dateFromTiffTag("f", "2023:06:15 10:30:21")).toBe("2023-06-15T10:30:21Z");
    expect(() => dateFromTiffTag("f", "2023-06-15")).toThrow(
      'f: TIFFTAG_DATETIME "2023-06-15" is not "YYYY:MM:DD HH:MM:SS"',
    );
    expect(() => dateFromTiffTag("f", "2023:13:01 00:00:00")).toThrow("is not a valid date");
  });

  it("from a file GDAL wrote, and the name pattern first when given", async () => {
    const t = await openGeoTiff(join(inject("geotiffs"), "uint16_meta.tif"));
    expect(t.datetime).toBe("2023:06:15 10:30:21");
    expect(sceneDate(t)).toBe("2023-06-15T10:30:21Z");
    expect(sceneDate({ file: "/x/s_20200101.tif", datetime: t.datetime }, "(\\d{8})")).toBe("2020-01-01");
    expect(() => sceneDate({ file: "/x/s.tif", datetime: null })).toThrow(
      "/x/s.tif: no TIFFTAG_DATETIME: give a pattern for the date in its name (timeFrom, --time-from)",
    );
  });
});
