/**
 * The UDUNITS-2 subset parser (src/cf/units.ts): concrete values for the units CF files use, and
 * the verdicts of the real udunits2 program (Debian udunits-bin, installed by CI) for comparison.
 */

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DIMENSIONS,
  isLatitudeUnit,
  isLongitudeUnit,
  type ParsedUnit,
  parseUnits,
  unitsConvertible,
} from "../../src/cf/units.js";

const dims = (spec: Partial<Record<(typeof DIMENSIONS)[number], number>>) =>
  DIMENSIONS.map((d) => spec[d] ?? 0);
const DEGREE = Math.PI / 180;

function parsed(text: string): ParsedUnit {
  const u = parseUnits(text);
  if (!u) throw new Error(`"${text}" did not parse`);
  return u;
}

describe("parseUnits", () => {
  it("reads temperatures, with the Celsius and Fahrenheit offsets", () => {
    for (const k of ["K", "kelvin", "kelvins", "Kelvin"])
      expect(parseUnits(k)).toEqual({ dims: dims({ K: 1 }), scale: 1, offset: 0 });
    for (const c of ["degC", "degree_Celsius", "degrees_Celsius", "Celsius", "degree_C", "°C", "K @ 273.15"])
      expect(parseUnits(c)).toEqual({ dims: dims({ K: 1 }), scale: 1, offset: 273.15 });
    expect(parsed("degF").scale).toBeCloseTo(5 / 9, 12);
    expect(parsed("degF").offset).toBeCloseTo(255.3722222, 6);
    // A product keeps no offset (UDUNITS: "degC m" is "K m"); a prefix keeps it.
    expect(parsed("degC m")).toEqual({ dims: dims({ K: 1, m: 1 }), scale: 1, offset: 0 });
    expect(parsed("mdegC")).toEqual({ dims: dims({ K: 1 }), scale: 0.001, offset: 273.15 });
  });

  it("reads dimensionless units, and refuses what UDUNITS does not know", () => {
    expect(parseUnits("1")).toEqual({ dims: dims({}), scale: 1, offset: 0 });
    expect(parseUnits("")).toEqual({ dims: dims({}), scale: 1, offset: 0 });
    expect(parsed("percent").scale).toBe(0.01);
    expect(parsed("%").scale).toBe(0.01);
    expect(parsed("ppm").scale).toBe(1e-6);
    expect(parsed("1e-3").scale).toBe(1e-3);
    expect(parsed("count")).toEqual(parsed("counts"));
    expect(parsed("count").scale).toBe(1);
    expect(parsed("g kg-1")).toEqual({ dims: dims({}), scale: 1e-3, offset: 0 });
    for (const bad of ["fraction (between 0 and 1)", "psu", "PSU", "dB", "decibel", "none", "-", "m%", "KM"])
      expect(parseUnits(bad), bad).toBeNull();
  });

  it("reads latitude and longitude units as degrees of angle", () => {
    for (const u of ["degrees_north", "degree_north", "degrees_N", "degree_N", "degreeN", "degreesN"])
      expect(parseUnits(u), u).toEqual({ dims: dims({ rad: 1 }), scale: DEGREE, offset: 0 });
    for (const u of ["degrees_east", "degree_east", "degree_E", "degreeE", "degree", "arc_degree", "°"])
      expect(parseUnits(u), u).toEqual({ dims: dims({ rad: 1 }), scale: DEGREE, offset: 0 });
    expect(parsed("degrees_west").scale).toBe(-DEGREE);
    expect(parsed("rad")).toEqual({ dims: dims({ rad: 1 }), scale: 1, offset: 0 });
    expect(parsed("sr").dims).toEqual(dims({ rad: 2 }));
  });

  it("accepts every UDUNITS spelling of products, quotients and powers", () => {
    for (const s of [
      "m s-1",
      "m/s",
      "m.s-1",
      "m s^-1",
      "m*s**-1",
      "m·s-1",
      "m per s",
      "m PER s",
      "(m)/(s)",
      "s-1 m",
    ])
      expect(parseUnits(s), s).toEqual({ dims: dims({ m: 1, s: -1 }), scale: 1, offset: 0 });
    expect(parsed("m**-1").dims).toEqual(dims({ m: -1 }));
    expect(parsed("m²").dims).toEqual(dims({ m: 2 }));
    expect(parsed("m^+2").dims).toEqual(dims({ m: 2 }));
    expect(parsed("m-2").dims).toEqual(dims({ m: -2 }));
    expect(parsed("kg m-2 s-1").dims).toEqual(dims({ kg: 1, m: -2, s: -1 }));
    expect(parsed("W m-2").dims).toEqual(dims({ kg: 1, s: -3 }));
    expect(parsed("W m-2 sr-1 (m-1)-1").dims).toEqual(dims({ kg: 1, m: 1, s: -3, rad: -2 }));
    expect(parsed("1e-3 kg m-2").scale).toBe(1e-3);
    expect(parsed("10 m").scale).toBe(10);
    // As in UDUNITS: "m 2" is twice a metre, "-" multiplies, a number to the right is a factor.
    expect(parsed("m 2")).toEqual({ dims: dims({ m: 1 }), scale: 2, offset: 0 });
    expect(parsed("m-s").dims).toEqual(dims({ m: 1, s: 1 }));
    // UDUNITS reads the superscript minus as a letter of the identifier "s⁻", so this fails there too.
    for (const bad of [
      "m·s⁻¹",
      "m ^ 2",
      "m . s",
      "m//s",
      "/s",
      "m2s",
      "m^2^3",
      "m300",
      "m 0",
      "(m",
      "m)",
      "kg percent",
    ])
      expect(parseUnits(bad), bad).toBeNull();
  });

  it("applies SI prefixes to symbols and names, and forms plurals", () => {
    expect(parsed("km").scale).toBe(1000);
    expect(parsed("kilometer").scale).toBe(1000);
    expect(parsed("kilometres").scale).toBe(1000);
    expect(parsed("hPa")).toEqual({ dims: dims({ m: -1, kg: 1, s: -2 }), scale: 100, offset: 0 });
    expect(parsed("hectopascal")).toEqual(parsed("hPa"));
    expect(parsed("millibar")).toEqual(parsed("hPa"));
    expect(parsed("mbar")).toEqual(parsed("hPa"));
    expect(parsed("dbar").scale).toBe(1e4);
    expect(parsed("dam").scale).toBe(10);
    expect(parsed("dekameter").scale).toBe(10);
    expect(parsed("mm").scale).toBe(1e-3);
    expect(parsed("cm").scale).toBe(0.01);
    expect(parsed("nm").scale).toBeCloseTo(1e-9, 20);
    expect(parsed("g").scale).toBe(1e-3);
    expect(parsed("Mg").scale).toBeCloseTo(1000, 9);
    for (const micro of ["µm", "μm", "um", "micrometer"])
      expect(parsed(micro).scale, micro).toBeCloseTo(1e-6, 18);
    expect(parsed("meters")).toEqual(parsed("m"));
    expect(parsed("seconds")).toEqual(parsed("s"));
    expect(parsed("inches").scale).toBeCloseTo(0.0254, 12);
    expect(parsed("feet").scale).toBeCloseTo(0.3048, 12);
    expect(parsed("min").scale).toBe(60);
    expect(parsed("h").scale).toBe(3600);
    expect(parsed("day").scale).toBe(86400);
    for (const [u, d] of [
      ["W", dims({ kg: 1, m: 2, s: -3 })],
      ["J", dims({ kg: 1, m: 2, s: -2 })],
      ["N", dims({ kg: 1, m: 1, s: -2 })],
      ["mol", dims({ mol: 1 })],
      ["bar", dims({ kg: 1, m: -1, s: -2 })],
      ["Sv", dims({ m: 2, s: -2 })],
    ] as const)
      expect(parsed(u).dims, u).toEqual(d);
    expect(parsed("bar").scale).toBe(1e5);
    // UDUNITS knows "deka", not "deca", and symbols are case-sensitive.
    expect(parseUnits("decameter")).toBeNull();
    expect(parseUnits("Km")).toBeNull();
  });

  it("reads time units with a reference time and keeps both parts", () => {
    expect(parseUnits("seconds since 1981-01-01 00:00:00 UTC")).toEqual({
      dims: dims({ s: 1 }),
      scale: 1,
      offset: 0,
      since: { base: "seconds", reference: "1981-01-01 00:00:00 UTC" },
    });
    expect(parseUnits("days since 2000-01-01")).toEqual({
      dims: dims({ s: 1 }),
      scale: 86400,
      offset: 0,
      since: { base: "days", reference: "2000-01-01" },
    });
    expect(parsed("hours since 1900-01-01T00:00:00Z").since).toEqual({
      base: "hours",
      reference: "1900-01-01T00:00:00Z",
    });
    expect(parsed("(days since 2000-01-01)").since).toEqual({ base: "days", reference: "2000-01-01" });
    expect(parsed("1000 days since 2000-01-01").scale).toBe(8.64e7);
    for (const ok of [
      "hours since 1900-1-1 0:0:0",
      "hours SINCE 1900",
      "hours @ 19000101T0000",
      "minutes after 2000-01-01 12:30:45.5 -06:00",
      "s from 2000-01-01 12:00 +0530",
      "days ref 2000-01-01T12:00:00gmt",
      "days since 2000-01-01 23:59:60",
    ])
      expect(parsed(ok).since, ok).toBeDefined();
    expect(parsed("s")).toEqual({ dims: dims({ s: 1 }), scale: 1, offset: 0 });
  });

  it("rejects malformed reference times and origins on units that are not times", () => {
    for (const bad of [
      "days since 2000-13-01",
      "days since 2000-00-10",
      "days since 2000-01-32",
      "hours since 2000-01-01 24:00",
      "hours since 2000-01-01 12:60",
      "days since 2000-01-01 00:00:00 +24:00",
      "days since yesterday",
      "days since",
      "days since 2000-01-01 00:00:00 EST",
      "days since 2000-01-01 00:00:00 UTC extra",
      "days since 2000-01-01 UTC",
      "m since 2000-01-01",
      "Hz since 2000-01-01",
    ])
      expect(parseUnits(bad), bad).toBeNull();
  });

  it("reads logarithmic units by their reference level", () => {
    expect(parseUnits("dBZ")).toEqual({
      dims: dims({ m: 3 }),
      scale: 0.1,
      offset: 0,
      log: { base: 10, reference: expect.closeTo(1e-18, 30) },
    });
    expect(parsed("lg(re 1 mW)")).toEqual({
      dims: dims({ m: 2, kg: 1, s: -3 }),
      scale: 1,
      offset: 0,
      log: { base: 10, reference: 1e-3 },
    });
    expect(parsed("ln(re 1 W)").log?.base).toBe(Math.E);
    for (const bad of ["dBZ m", "dBZ-1", "2/BZ"]) expect(parseUnits(bad), bad).toBeNull();
  });

  it("hands out copies, so a caller's change cannot leak into later results", () => {
    const a = parsed("kilometer");
    a.dims[0] = 5;
    a.scale = 7;
    expect(parsed("kilometer")).toEqual({ dims: dims({ m: 1 }), scale: 1000, offset: 0 });
  });
});

describe("unitsConvertible", () => {
  it("answers the CF comparisons the validator makes", () => {
    expect(unitsConvertible("kelvin", "K")).toBe(true);
    for (const c of ["degC", "degree_Celsius", "Celsius"]) expect(unitsConvertible(c, "K"), c).toBe(true);
    expect(unitsConvertible("1", "1")).toBe(true);
    expect(unitsConvertible("fraction (between 0 and 1)", "1")).toBe(false);
    expect(unitsConvertible("percent", "1")).toBe(true);
    expect(unitsConvertible("%", "1")).toBe(true);
    for (const lat of ["degrees_north", "degree_north", "degrees_N", "degreeN"])
      expect(unitsConvertible(lat, "degree_north"), lat).toBe(true);
    expect(unitsConvertible("degrees_east", "degree_east")).toBe(true);
    for (const v of ["m s-1", "m/s", "m.s-1", "m s^-1"]) expect(unitsConvertible(v, "m s-1"), v).toBe(true);
    expect(unitsConvertible("kg m-2 s-1", "kg m-2 s-1")).toBe(true);
    expect(unitsConvertible("W m-2", "W m-2")).toBe(true);
    expect(unitsConvertible("Pa", "hPa")).toBe(true);
    expect(unitsConvertible("mm", "m")).toBe(true);
    expect(unitsConvertible("mm day-1", "kg m-2 s-1")).toBe(false);
    expect(unitsConvertible("K", "m")).toBe(false);
    expect(unitsConvertible("psu", "1")).toBe(false);
  });

  it("converts reference-time units only to each other", () => {
    expect(unitsConvertible("days since 2000-01-01", "seconds since 1970-01-01 00:00:00 UTC")).toBe(true);
    expect(unitsConvertible("days since 2000-01-01", "s")).toBe(false);
    expect(unitsConvertible("s", "days since 2000-01-01")).toBe(false);
    expect(unitsConvertible("s", "min")).toBe(true);
  });

  it("ignores radians as UDUNITS does, unless told to count them", () => {
    expect(unitsConvertible("degree_north", "1")).toBe(true);
    expect(unitsConvertible("W m-2 sr-1", "W m-2")).toBe(true);
    expect(unitsConvertible("degree_north", "1", { strictAngles: true })).toBe(false);
    expect(unitsConvertible("W m-2 sr-1", "W m-2", { strictAngles: true })).toBe(false);
    expect(unitsConvertible("degree_north", "rad", { strictAngles: true })).toBe(true);
    expect(unitsConvertible("degrees_north", "degrees_east", { strictAngles: true })).toBe(true);
  });

  it("does not call reciprocal units convertible, unlike UDUNITS", () => {
    expect(unitsConvertible("s", "Hz")).toBe(false);
    expect(unitsConvertible("m", "m-1")).toBe(false);
  });
});

describe("isLatitudeUnit / isLongitudeUnit", () => {
  it("recognise exactly the spellings CF 1.11 §4.1 and §4.2 list", () => {
    for (const u of [
      "degrees_north",
      "degree_north",
      "degree_N",
      "degrees_N",
      "degreeN",
      "degreesN",
      " degrees_north ",
    ]) {
      expect(isLatitudeUnit(u), u).toBe(true);
      expect(isLongitudeUnit(u), u).toBe(false);
    }
    for (const u of ["degrees_east", "degree_east", "degree_E", "degrees_E", "degreeE", "degreesE"]) {
      expect(isLongitudeUnit(u), u).toBe(true);
      expect(isLatitudeUnit(u), u).toBe(false);
    }
    for (const u of ["degrees", "degree", "rad", "degrees_west", "Degrees_North", "degrees_south", ""]) {
      expect(isLatitudeUnit(u), u).toBe(false);
      expect(isLongitudeUnit(u), u).toBe(false);
    }
  });
});

// The udunits2 program's have side takes a leading number as an amount, so it always gets "1 ".

interface Verdict {
  parsed: boolean;
  convertible: boolean;
  /** What 1 of the first unit is in the second, as udunits2 prints it (6 digits). */
  value?: number;
}

function udunits(have: string, want: string): Verdict {
  const r = spawnSync("udunits2", ["-U", "-H", `1 ${have}`, "-W", want], { encoding: "utf8" });
  if (r.error) throw new Error(`udunits2 is needed (Debian package udunits-bin): ${r.error.message}`);
  const out = `${r.stdout}${r.stderr}`;
  if (out.includes("Don't recognize")) return { parsed: false, convertible: false };
  if (out.includes("not convertible")) return { parsed: true, convertible: false };
  const line = r.stdout.split("\n")[0] ?? "";
  return {
    parsed: true,
    convertible: true,
    value: Number(line.slice(line.indexOf(" = ") + 3).split(" ")[0]),
  };
}

function ours(have: string, want: string): Verdict {
  const [a, b] = [parseUnits(have), parseUnits(want)];
  const convertible = unitsConvertible(have, want);
  if (!a || !b || !convertible || a.since || a.log) return { parsed: Boolean(a && b), convertible };
  return { parsed: true, convertible, value: (a.scale + a.offset - b.offset) / b.scale };
}

const near = (x: number | undefined, y: number | undefined) =>
  x === y || (x !== undefined && y !== undefined && Math.abs(x - y) <= 1e-5 * Math.abs(y));

describe("agreement with the udunits2 program", () => {
  // [have, want, convertible] — the expected verdict is written down, so that both the program's
  // and the parser's answers are checked against it.
  const AGREE: [string, string, boolean][] = [
    ["kelvin", "K", true],
    ["degC", "K", true],
    ["degree_Celsius", "K", true],
    ["Celsius", "K", true],
    ["degF", "degC", true],
    ["1", "1", true],
    ["percent", "1", true],
    ["%", "1", true],
    ["ppm", "1", true],
    ["count", "1", true],
    ["g kg-1", "1", true],
    ["mol mol-1", "1", true],
    ["degrees_north", "degree_north", true],
    ["degree_N", "degree_north", true],
    ["degreeN", "degree_north", true],
    ["degrees_east", "degree_east", true],
    ["degrees_north", "degrees_east", true],
    ["degree_north", "rad", true],
    ["degree_north", "1", true],
    ["W m-2 sr-1", "W m-2", true],
    ["m s-1", "m/s", true],
    ["m.s-1", "m s^-1", true],
    ["m**-1", "1/m", true],
    ["m·s", "m s", true],
    ["m²", "m2", true],
    ["kg m-2 s-1", "kg m-2 s-1", true],
    ["W m-2", "kg s-3", true],
    ["Pa", "hPa", true],
    ["millibar", "Pa", true],
    ["mm", "m", true],
    ["kilometer", "m", true],
    ["knots", "m s-1", true],
    ["s", "min", true],
    ["mm day-1", "kg m-2 s-1", false],
    ["K", "m", false],
    ["1", "m", false],
    ["seconds since 1981-01-01 00:00:00 UTC", "days since 2000-01-01", true],
    ["hours since 1900-01-01T00:00:00Z", "s since 1970-01-01", true],
    ["days since 2000-01-01", "s", false],
    ["dBZ", "BZ", true],
    ["dBZ", "1", false],
    ["fraction (between 0 and 1)", "1", false],
    ["psu", "1", false],
    ["dB", "1", false],
    ["m·s⁻¹", "m/s", false],
    ["decameter", "m", false],
    ["Km", "m", false],
  ];

  it.each(AGREE)("%s -> %s", (have, want, convertible) => {
    const theirs = udunits(have, want);
    expect(theirs.convertible).toBe(convertible);
    const mine = ours(have, want);
    expect(mine.convertible).toBe(convertible);
    expect(mine.parsed).toBe(theirs.parsed);
    if (mine.value !== undefined)
      expect(near(mine.value, theirs.value), `${mine.value} vs ${theirs.value}`).toBe(true);
  });

  // Where this module is deliberately stricter (see the module comment): [have, want, udunits2's verdict].
  const STRICTER: [string, string, boolean][] = [
    ["s", "Hz", true],
    ["m", "m-1", true],
    ["hours since 1900-13-01", "s since 1970-01-01", true],
    ["days since 2000-01-01 00:00:00 +24:00", "s since 1970-01-01", true],
    ["Hz since 2000-01-01", "s since 1970-01-01", true],
    ["m)", "m", true],
  ];

  it.each(STRICTER)("%s -> %s (udunits2 is looser)", (have, want, theirs) => {
    expect(udunits(have, want).convertible).toBe(theirs);
    expect(unitsConvertible(have, want)).toBe(false);
  });

  it("gives every name and symbol of the vendored table the value udunits2 gives it", () => {
    const table = JSON.parse(readFileSync("data/units/udunits2.json", "utf8")) as {
      units: { names: string[]; symbols: string[] }[];
    };
    const ids = table.units.flatMap((u) => [...u.names, ...u.symbols]);
    // CF canonical units, too: all parse except "dB", which UDUNITS does not define either.
    const cf = JSON.parse(readFileSync("data/cf/standard-names.json", "utf8")) as {
      entries: Record<string, string>;
    };
    const canonical = [...new Set(Object.values(cf.entries))].filter((u) => u !== "");
    expect(canonical.filter((u) => !parseUnits(u))).toEqual(["dB"]);
    expect(udunits("dB", "1").parsed).toBe(false);
    const cases = [...ids, ...canonical.filter((u) => u !== "dB")].flatMap((id) => {
      const u = parseUnits(id);
      if (!u || u.log) return [];
      const want = u.dims.flatMap((e, i) => (e ? [`${DIMENSIONS[i]}^${e}`] : [])).join(" ") || "1";
      return [{ id, want, value: u.scale + u.offset }];
    });
    expect(cases.length).toBeGreaterThan(900);
    // One udunits2 process answers them all: it prompts "You have:" and "You want:" per pair.
    const input = cases.map((c) => `1 ${c.id}\n${c.want}\n`).join("");
    const r = spawnSync("udunits2", ["-U"], { input, encoding: "utf8", maxBuffer: 16 << 20 });
    expect(r.stderr).toBe("");
    const answers = r.stdout.split("You have: ").slice(1, -1);
    expect(answers).toHaveLength(cases.length);
    const wrong = cases.filter((c, i) => {
      const value = Number(/ = (\S+)/.exec(answers[i]!)?.[1]);
      return !near(c.value, value);
    });
    expect(wrong.map((c) => c.id)).toEqual([]);
  });
});
