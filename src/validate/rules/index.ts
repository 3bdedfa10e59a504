/**
 * The rule catalogue, in report order. Ids follow the project's checklist (docs/rules.md is
 * generated from this list): ZJ store JSON, ZR what geozarr's reader refuses, Z2/Z3 Zarr formats,
 * ZC consolidated metadata, G4 GeoZarr v0.4, GC Zarr conventions, CF conventions, FV fill values,
 * GI GDAL interoperability.
 * @module
 */

import type { Rule } from "../rule.js";
import { CF04, CF05, CF06, CF07 } from "./cf-structure.js";
import { CF08, CF09, CF10, CF11, CF12, CF13, CF14, CF15 } from "./cf-values.js";
import { CF01, CF02, CF03, CF16 } from "./cf-vocabulary.js";
import { ZC01, ZC02, ZC03, ZC04 } from "./consolidated.js";
import { GC04, GC07, GC11 } from "./convention-schemas.js";
import { GC01, GC02, GC03, GC05, GC06, GC08, GC10 } from "./conventions.js";
import { FV01, FV02, FV03, FV04, FV05, GI01 } from "./fill-gdal.js";
import { G401, G402, G403, G404, G405, G406, G407, G408, G410 } from "./geozarr-v04.js";
import { G409, GC09 } from "./multiscales.js";
import { ZR01, ZR02, ZR03 } from "./reader.js";
import { ZJ01, ZJ02, ZJ03 } from "./zarr-store.js";
import { Z201, Z202, Z203, Z204, Z205 } from "./zarr-v2.js";
import { Z301, Z302, Z303, Z304, Z305, Z306, Z307, Z308, Z309, Z310 } from "./zarr-v3.js";

export const RULES: readonly Rule[] = [
  ZJ01,
  ZJ02,
  ZJ03,
  ZR01,
  ZR02,
  ZR03,
  Z201,
  Z202,
  Z203,
  Z204,
  Z205,
  Z301,
  Z302,
  Z303,
  Z304,
  Z305,
  Z306,
  Z307,
  Z308,
  Z309,
  Z310,
  ZC01,
  ZC02,
  ZC03,
  ZC04,
  G401,
  G402,
  G403,
  G404,
  G405,
  G406,
  G407,
  G408,
  G409,
  G410,
  GC01,
  GC02,
  GC03,
  GC04,
  GC05,
  GC06,
  GC07,
  GC08,
  GC09,
  GC10,
  GC11,
  CF01,
  CF02,
  CF03,
  CF04,
  CF05,
  CF06,
  CF07,
  CF08,
  CF09,
  CF10,
  CF11,
  CF12,
  CF13,
  CF14,
  CF15,
  CF16,
  FV01,
  FV02,
  FV03,
  FV04,
  FV05,
  GI01,
];
