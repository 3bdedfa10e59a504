/**
 * CF vocabulary rules: the Conventions attribute, standard names against the CF Standard Name
 * Table, units against the names' canonical units (UDUNITS-2), time units and calendars
 * (CF 1.11 §2.6.1, §3.1, §3.3, §4.4).
 * @module
 */

import { lookupStandardName, standardNameTable } from "../../cf/standard-names.js";
import { parseUnits, unitsConvertible } from "../../cf/units.js";
import type { RawNode, ValidationContext } from "../context.js";
import { groups, parentOf, rolesIn } from "../roles.js";
import { attrPointer, type Finding, finding, type Rule } from "../rule.js";

const arrays = (ctx: ValidationContext) => [...ctx.nodes.values()].filter((n) => n.kind === "array");

export const CF01: Rule = {
  id: "CF-01",
  severity: "error",
  summary: 'The root group\'s Conventions attribute includes "CF-x.y"',
  reference: "CF 1.11 §2.6.1",
  check(ctx) {
    const root = ctx.nodes.get("/");
    if (!root) return [];
    const c = root.attributes.Conventions;
    if (typeof c === "string" && /(^|[\s,])CF-\d+\.\d+/.test(c)) return [];
    return [
      finding(
        this,
        "/",
        attrPointer(root.format, "Conventions"),
        c === undefined
          ? "the root group has no Conventions attribute"
          : `Conventions ${JSON.stringify(c)} does not name a CF version`,
        'add "Conventions": "CF-1.11"',
      ),
    ];
  },
};

export const CF02: Rule = {
  id: "CF-02",
  severity: "error",
  summary: "standard_name is a name (or alias) from the CF Standard Name Table, optionally with a modifier",
  reference: "CF 1.11 §3.3, Appendix C",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of arrays(ctx)) {
      const sn = n.attributes.standard_name;
      if (sn === undefined) continue;
      const ptr = attrPointer(n.format, "standard_name");
      if (typeof sn !== "string") {
        out.push(
          finding(this, n.path, ptr, "standard_name is not a string", "write the standard name as a string"),
        );
        continue;
      }
      const hit = lookupStandardName(sn);
      const v = standardNameTable().version;
      if (!hit.name) {
        const guess = sn
          .trim()
          .toLowerCase()
          .replace(/[\s-]+/g, "_");
        const suggestion = lookupStandardName(guess).name;
        out.push(
          finding(
            this,
            n.path,
            ptr,
            `standard_name ${JSON.stringify(sn)} is not in the CF standard name table v${v}`,
            suggestion ? `use "${suggestion}"` : "use a name from the table, or long_name for free text",
          ),
        );
      } else if (hit.alias) {
        out.push(
          finding(
            this,
            n.path,
            ptr,
            `standard_name "${sn}" is an alias of "${hit.name}" (table v${v})`,
            `use "${hit.name}"`,
            "info",
          ),
        );
      }
    }
    return out;
  },
};

export const CF03: Rule = {
  id: "CF-03",
  severity: "error",
  summary:
    "units parse as UDUNITS-2 and are convertible to the standard name's canonical units (geostationary x/y may be in radians, CF <= 1.8)",
  reference: "CF 1.11 §3.1, §3.3",
  check(ctx) {
    const out: Finding[] = [];
    for (const n of arrays(ctx)) {
      const sn =
        typeof n.attributes.standard_name === "string"
          ? lookupStandardName(n.attributes.standard_name)
          : null;
      const u = n.attributes.units;
      const ptr = attrPointer(n.format, "units");
      if (!sn?.name || sn.modifier) continue;
      const canonical = sn.canonicalUnits ?? "";
      if (u === undefined) {
        if (canonical !== "" && canonical !== "1")
          out.push(
            finding(
              this,
              n.path,
              ptr,
              `the variable has no units (${sn.name} is in "${canonical}")`,
              `add "units": "${canonical}"`,
            ),
          );
        continue;
      }
      // A few canonical units are not UDUNITS themselves ("dB"): then only the same string is sure.
      if (canonical !== "" && !parseUnits(canonical)) {
        if (u !== canonical)
          out.push(
            finding(
              this,
              n.path,
              ptr,
              `units ${JSON.stringify(u)} differ from "${canonical}", the canonical units of ${sn.name}`,
              `use "${canonical}"`,
            ),
          );
        continue;
      }
      const parsed = typeof u === "string" ? parseUnits(u) : null;
      if (typeof u !== "string" || !parsed) {
        out.push(
          finding(
            this,
            n.path,
            ptr,
            `units ${JSON.stringify(u)} are not UDUNITS-2`,
            `use "${canonical || "1"}" or an equivalent`,
          ),
        );
        continue;
      }
      // A reference time ("seconds since 1981-01-01") is a time unit for this purpose (CF §4.4).
      const unit = parsed.since ? parsed.since.base : u;
      if (!unitsConvertible(unit, canonical === "" ? "1" : canonical) && !scanAngle(ctx, n, sn.name, unit)) {
        out.push(
          finding(
            this,
            n.path,
            ptr,
            `units "${u}" are not convertible to "${canonical || "1"}", the canonical units of ${sn.name}`,
            `use "${canonical || "1"}" or an equivalent`,
          ),
        );
      }
    }
    return out;
  },
};

/**
 * Before CF 1.9 the x/y of a geostationary grid were projection_x/y_coordinate in radians (the
 * scan angles; CF 1.8 Appendix F, "Geostationary projection"), what GOES-R ABI products (CF-1.7)
 * still write; CF 1.9 named them projection_x/y_angular_coordinate. Either is correct CF.
 */
function scanAngle(ctx: ValidationContext, n: RawNode, name: string, unit: string): boolean {
  if (name !== "projection_x_coordinate" && name !== "projection_y_coordinate") return false;
  if (!unitsConvertible(unit, "rad")) return false;
  const group = parentOf(n.path);
  return [...rolesIn(ctx, group).gridMappings].some(
    (g) => ctx.nodes.get(g)?.attributes.grid_mapping_name === "geostationary",
  );
}

const CALENDARS = [
  "standard",
  "gregorian",
  "proleptic_gregorian",
  "noleap",
  "365_day",
  "all_leap",
  "366_day",
  "360_day",
  "julian",
  "none",
  "utc",
  "tai",
];

function isTime(n: RawNode): boolean {
  const a = n.attributes;
  return (
    a.standard_name === "time" || a.axis === "T" || (typeof a.units === "string" && /\bsince\b/.test(a.units))
  );
}

export const CF16: Rule = {
  id: "CF-16",
  severity: "error",
  summary: 'Time coordinates have units "<unit> since <date>" and a known calendar',
  reference: "CF 1.11 §4.4, §4.4.1",
  check(ctx) {
    const out: Finding[] = [];
    for (const g of groups(ctx)) {
      for (const p of rolesIn(ctx, g.path).coordinates) {
        const n = ctx.nodes.get(p)!;
        if (!isTime(n)) continue;
        const u = n.attributes.units;
        const parsed = typeof u === "string" ? parseUnits(u) : null;
        if (!parsed?.since)
          out.push(
            finding(
              this,
              p,
              attrPointer(n.format, "units"),
              `time units ${JSON.stringify(u)} are not "<unit> since <date>"`,
              'write e.g. "seconds since 1981-01-01 00:00:00"',
            ),
          );
        const cal = n.attributes.calendar;
        if (cal !== undefined && !(typeof cal === "string" && CALENDARS.includes(cal.toLowerCase())))
          out.push(
            finding(
              this,
              p,
              attrPointer(n.format, "calendar"),
              `calendar ${JSON.stringify(cal)} is not a CF calendar`,
              `use one of ${CALENDARS.join(", ")}`,
            ),
          );
      }
    }
    return out;
  },
};
