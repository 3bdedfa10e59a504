/**
 * What a GeoTIFF's georeferencing means: the raster-to-model transform from its tags, and the CRS
 * from its GeoKeys (GeoTIFF 1.1, OGC 19-008r4). Pure functions over the plain data
 * readers/geotiff.ts returns.
 *
 * Transform (clause 7.3 "Raster to model coordinate transformation"): ModelTransformation is the
 * affine matrix itself (rotation allowed); ModelTiepoint + ModelPixelScale place one raster point
 * and scale from it (y grows down the rows). Raster space (clause 7.2.1): with PixelIsArea a raster
 * coordinate (0, 0) is the outer corner of the first pixel; with PixelIsPoint it is that pixel's
 * centre, so the cell-edge transform starts half a pixel before the tie point, as GDAL reads it.
 *
 * CRS (clause 7.5): an EPSG code from ProjectedCSTypeGeoKey or GeographicTypeGeoKey, resolved
 * through the CRS table (crs.ts); a user-defined CRS (code 32767) is rebuilt from its keys as WKT2
 * (ISO 19162:2019) for the projection methods GDAL writes most, otherwise the caller asks for `--crs`.
 * @module
 */

import { GeoZarrError, isGeoZarrError } from "../errors.js";
import type { JsonObject } from "../zarr/json.js";
import { type Crs, crsTable, resolveCrs } from "./crs.js";

export type GeoKeyValues = Record<string, number | string | number[]>;

export interface TiffGeoTags {
  pixelScale: number[] | null;
  tiepoints: number[] | null;
  transformation: number[] | null;
}

/** GTRasterTypeGeoKey (clause 7.5.2.2). */
export const PIXEL_IS_AREA = 1;
export const PIXEL_IS_POINT = 2;
const USER_DEFINED = 32767;

/**
 * The cell-edge affine transform, rasterio order [a, b, c, d, e, f]: x = a*col + b*row + c,
 * y = d*col + e*row + f; null when the file has no raster-to-model tags.
 */
export function tiffTransform(file: string, tags: TiffGeoTags, rasterType: number): number[] | null {
  let t: number[];
  const m = tags.transformation;
  if (m && m.length >= 16) {
    if (m[2] !== 0 || m[6] !== 0 || m[8] !== 0 || m[9] !== 0)
      throw new GeoZarrError(
        "Unsupported",
        `${file}: a ModelTransformation with a Z component is not supported`,
        { where: file },
      );
    t = [m[0]!, m[1]!, m[3]!, m[4]!, m[5]!, m[7]!];
  } else if (tags.tiepoints && tags.tiepoints.length >= 6 && tags.pixelScale && tags.pixelScale.length >= 2) {
    if (tags.tiepoints.length > 6)
      throw new GeoZarrError(
        "Unsupported",
        `${file}: ${tags.tiepoints.length / 6} tie points with a pixel scale: only one tie point is an affine grid`,
        { where: file },
      );
    const [i, j, , x, y] = tags.tiepoints as [number, number, number, number, number];
    const [sx, sy] = tags.pixelScale as [number, number];
    t = [sx, 0, x - i * sx, 0, -sy, y + j * sy];
  } else if (tags.tiepoints && tags.tiepoints.length > 6) {
    throw new GeoZarrError(
      "Unsupported",
      `${file}: georeferenced by ${tags.tiepoints.length / 6} ground control points, not an affine transform: warp it first (gdalwarp)`,
      { where: file },
    );
  } else return null;
  if (!t.every(Number.isFinite) || t[0]! * t[4]! - t[1]! * t[3]! === 0)
    throw new GeoZarrError("Format", `${file}: degenerate raster-to-model transform [${t}]`, { where: file });
  if (rasterType === PIXEL_IS_POINT) {
    t[2] = t[2]! - 0.5 * (t[0]! + t[1]!);
    t[5] = t[5]! - 0.5 * (t[3]! + t[4]!);
  }
  return t;
}

/** The CRS the GeoKeys declare, or null when there are none (the caller asks for `--crs`). */
export function crsFromGeoKeys(file: string, keys: GeoKeyValues | null): Crs | null {
  if (!keys) return null;
  const n = (k: string): number | undefined =>
    typeof keys[k] === "number" ? (keys[k] as number) : undefined;
  const model =
    n("GTModelTypeGeoKey") ?? (n("ProjectedCSTypeGeoKey") ? 1 : n("GeographicTypeGeoKey") ? 2 : undefined);
  if (model === 3)
    throw new GeoZarrError(
      "Unsupported",
      `${file}: geocentric model space (GTModelTypeGeoKey 3) is not a grid on a map`,
      { where: file },
    );
  const code = model === 1 ? n("ProjectedCSTypeGeoKey") : model === 2 ? n("GeographicTypeGeoKey") : undefined;
  if (code === undefined && model === undefined) return null;
  if (code !== undefined && code !== USER_DEFINED && code > 0) {
    try {
      return resolveCrs(`EPSG:${code}`);
    } catch (err) {
      if (!isGeoZarrError(err, "Usage")) throw err;
      throw new GeoZarrError(
        "Usage",
        `${file}: its GeoKeys name EPSG:${code}, which is not in geozarr's CRS table: pass --crs with its WKT`,
        { where: file },
      );
    }
  }
  return userDefined(file, keys, model === 1);
}

const DEG = 'ANGLEUNIT["degree",0.0174532925199433]';
const METRE = 'LENGTHUNIT["metre",1]';

/** Datums GDAL names by EPSG code (GeogGeodeticDatumGeoKey): name, ellipsoid code. */
const DATUMS: Record<number, [string, number]> = {
  6326: ["World Geodetic System 1984", 7030],
  6258: ["European Terrestrial Reference System 1989", 7019],
  6269: ["North American Datum 1983", 7019],
  6267: ["North American Datum 1927", 7008],
  6230: ["European Datum 1950", 7022],
  6283: ["Geocentric Datum of Australia 1994", 7019],
  6171: ["Reseau Geodesique Francais 1993", 7019],
};
const ELLIPSOIDS: Record<number, [string, number, number]> = {
  7030: ["WGS 84", 6378137, 298.257223563],
  7019: ["GRS 1980", 6378137, 298.257222101],
  7043: ["WGS 72", 6378135, 298.26],
  7008: ["Clarke 1866", 6378206.4, 294.978698213898],
  7022: ["International 1924", 6378388, 297],
  7004: ["Bessel 1841", 6377397.155, 299.1528128],
  7001: ["Airy 1830", 6377563.396, 299.3249646],
};

interface Param {
  name: string;
  epsg: number;
  key: string[];
  unit: "deg" | "m" | "scale";
  /** CF 1.11 Appendix F attribute, and PROJ parameter. */
  cf?: string | undefined;
  proj: string;
}

/** Projection methods by ProjCoordTransGeoKey (clause 7.5.4 / Annex B): EPSG method, CF name, PROJ name. */
function method(
  ct: number,
  keys: GeoKeyValues,
): { name: string; epsg: number; cf: string | null; proj: string; params: Param[] } | null {
  const p = (
    name: string,
    epsg: number,
    key: string[],
    unit: Param["unit"],
    proj: string,
    cf?: string,
  ): Param => ({ name, epsg, key, unit, proj, cf });
  const fe = p(
    "False easting",
    8806,
    ["ProjFalseEastingGeoKey", "ProjCenterEastingGeoKey"],
    "m",
    "x_0",
    "false_easting",
  );
  const fn = p(
    "False northing",
    8807,
    ["ProjFalseNorthingGeoKey", "ProjCenterNorthingGeoKey"],
    "m",
    "y_0",
    "false_northing",
  );
  const lat0 = (cf: string) =>
    p(
      "Latitude of natural origin",
      8801,
      ["ProjNatOriginLatGeoKey", "ProjCenterLatGeoKey"],
      "deg",
      "lat_0",
      cf,
    );
  const lon0 = (cf: string) =>
    p(
      "Longitude of natural origin",
      8802,
      ["ProjNatOriginLongGeoKey", "ProjCenterLongGeoKey", "ProjFalseOriginLongGeoKey"],
      "deg",
      "lon_0",
      cf,
    );
  const k0 = (cf: string) =>
    p(
      "Scale factor at natural origin",
      8805,
      ["ProjScaleAtNatOriginGeoKey", "ProjScaleAtCenterGeoKey"],
      "scale",
      "k_0",
      cf,
    );
  const falseOrigin = [
    p(
      "Latitude of false origin",
      8821,
      ["ProjFalseOriginLatGeoKey", "ProjNatOriginLatGeoKey"],
      "deg",
      "lat_0",
      "latitude_of_projection_origin",
    ),
    p(
      "Longitude of false origin",
      8822,
      ["ProjFalseOriginLongGeoKey", "ProjNatOriginLongGeoKey"],
      "deg",
      "lon_0",
      "longitude_of_central_meridian",
    ),
    p("Latitude of 1st standard parallel", 8823, ["ProjStdParallel1GeoKey"], "deg", "lat_1"),
    p("Latitude of 2nd standard parallel", 8824, ["ProjStdParallel2GeoKey"], "deg", "lat_2"),
    p(
      "Easting at false origin",
      8826,
      ["ProjFalseOriginEastingGeoKey", "ProjFalseEastingGeoKey"],
      "m",
      "x_0",
      "false_easting",
    ),
    p(
      "Northing at false origin",
      8827,
      ["ProjFalseOriginNorthingGeoKey", "ProjFalseNorthingGeoKey"],
      "m",
      "y_0",
      "false_northing",
    ),
  ];
  switch (ct) {
    case 1:
      return {
        name: "Transverse Mercator",
        epsg: 9807,
        cf: "transverse_mercator",
        proj: "tmerc",
        params: [
          lat0("latitude_of_projection_origin"),
          lon0("longitude_of_central_meridian"),
          k0("scale_factor_at_central_meridian"),
          fe,
          fn,
        ],
      };
    case 7:
      return "ProjStdParallel1GeoKey" in keys
        ? {
            name: "Mercator (variant B)",
            epsg: 9805,
            cf: "mercator",
            proj: "merc",
            params: [
              p(
                "Latitude of 1st standard parallel",
                8823,
                ["ProjStdParallel1GeoKey"],
                "deg",
                "lat_ts",
                "standard_parallel",
              ),
              lon0("longitude_of_projection_origin"),
              fe,
              fn,
            ],
          }
        : {
            name: "Mercator (variant A)",
            epsg: 9804,
            cf: "mercator",
            proj: "merc",
            params: [
              lat0(""),
              lon0("longitude_of_projection_origin"),
              k0("scale_factor_at_projection_origin"),
              fe,
              fn,
            ],
          };
    case 8:
      return {
        name: "Lambert Conic Conformal (2SP)",
        epsg: 9802,
        cf: "lambert_conformal_conic",
        proj: "lcc",
        params: falseOrigin,
      };
    case 9:
      return {
        name: "Lambert Conic Conformal (1SP)",
        epsg: 9801,
        cf: null,
        proj: "lcc",
        params: [lat0(""), lon0(""), k0(""), fe, fn],
      };
    case 10:
      return {
        name: "Lambert Azimuthal Equal Area",
        epsg: 9820,
        cf: "lambert_azimuthal_equal_area",
        proj: "laea",
        params: [lat0("latitude_of_projection_origin"), lon0("longitude_of_projection_origin"), fe, fn],
      };
    case 11:
      return {
        name: "Albers Equal Area",
        epsg: 9822,
        cf: "albers_conical_equal_area",
        proj: "aea",
        params: falseOrigin,
      };
    case 15: {
      // GeoTIFF's NatOriginLat is the latitude of true scale; at a pole it is variant A (GDAL's reading).
      const lat = Number(keys.ProjNatOriginLatGeoKey ?? 90);
      const lon = p(
        "Longitude of origin",
        8833,
        ["ProjStraightVertPoleLongGeoKey", "ProjNatOriginLongGeoKey"],
        "deg",
        "lon_0",
        "straight_vertical_longitude_from_pole",
      );
      return Math.abs(lat) === 90
        ? {
            name: "Polar Stereographic (variant A)",
            epsg: 9810,
            cf: "polar_stereographic",
            proj: "stere",
            params: [
              lat0("latitude_of_projection_origin"),
              { ...lon, name: "Longitude of natural origin", epsg: 8802 },
              k0("scale_factor_at_projection_origin"),
              fe,
              fn,
            ],
          }
        : {
            name: "Polar Stereographic (variant B)",
            epsg: 9829,
            cf: "polar_stereographic",
            proj: "stere",
            params: [
              p(
                "Latitude of standard parallel",
                8832,
                ["ProjNatOriginLatGeoKey"],
                "deg",
                "lat_ts",
                "standard_parallel",
              ),
              lon,
              fe,
              fn,
            ],
          };
    }
    case 17:
      return {
        name: "Equidistant Cylindrical",
        epsg: 1028,
        cf: null,
        proj: "eqc",
        params: [
          p("Latitude of 1st standard parallel", 8823, ["ProjStdParallel1GeoKey"], "deg", "lat_ts"),
          lon0(""),
          fe,
          fn,
        ],
      };
    default:
      return null;
  }
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** A user-defined CRS rebuilt from its GeoKeys as WKT2, with its PROJ string and CF attributes. */
function userDefined(file: string, keys: GeoKeyValues, projected: boolean): Crs {
  const ask = (why: string): never => {
    throw new GeoZarrError(
      "Usage",
      `${file}: user-defined CRS in the GeoKeys (${why}): pass --crs EPSG:<code> or a WKT string`,
      { where: file },
    );
  };
  const num = (k: string) => (typeof keys[k] === "number" ? (keys[k] as number) : undefined);
  const citation = typeof keys.GeogCitationGeoKey === "string" ? keys.GeogCitationGeoKey : "";
  const cited = (label: string) => new RegExp(`${label} = ([^|]*)`).exec(citation)?.[1]?.trim();
  if ((num("GeogAngularUnitsGeoKey") ?? 9102) !== 9102) ask("angular units other than degrees");
  if ((num("ProjLinearUnitsGeoKey") ?? 9001) !== 9001) ask("linear units other than metres");
  if (
    (num("GeogPrimeMeridianLongGeoKey") ?? 0) !== 0 ||
    ![undefined, 8901].includes(num("GeogPrimeMeridianGeoKey"))
  )
    ask("a prime meridian other than Greenwich");

  // The geographic base: a known EPSG geographic CRS, else datum and ellipsoid from their keys.
  const geoCode = num("GeographicTypeGeoKey");
  const known = geoCode && geoCode !== USER_DEFINED ? crsTable().crs[`EPSG:${geoCode}`] : undefined;
  if (geoCode && geoCode !== USER_DEFINED && !known)
    ask(`geographic CRS EPSG:${geoCode} is not in geozarr's table`);
  const datumCode = num("GeogGeodeticDatumGeoKey");
  const datum = datumCode && datumCode !== USER_DEFINED ? DATUMS[datumCode] : undefined;
  if (datumCode && datumCode !== USER_DEFINED && !datum && !known)
    ask(`datum EPSG:${datumCode} is not known`);
  const ellCode = num("GeogEllipsoidGeoKey") ?? datum?.[1];
  const ell = ellCode && ellCode !== USER_DEFINED ? ELLIPSOIDS[ellCode] : undefined;
  const a = num("GeogSemiMajorAxisGeoKey") ?? (known?.cf.semi_major_axis as number | undefined) ?? ell?.[1];
  const b = num("GeogSemiMinorAxisGeoKey");
  const rf =
    num("GeogInvFlatteningGeoKey") ??
    (b !== undefined && a !== undefined ? a / (a - b) : undefined) ??
    (known?.cf.inverse_flattening as number | undefined) ??
    ell?.[2];
  if (a === undefined || rf === undefined) ask("no ellipsoid");
  const ellName =
    (known?.cf.reference_ellipsoid_name as string | undefined) ?? ell?.[0] ?? cited("Ellipsoid") ?? "unknown";
  const datumName =
    (known?.cf.horizontal_datum_name as string | undefined) ?? datum?.[0] ?? cited("Datum") ?? "unknown";
  const geogName = known?.name ?? cited("GCS Name") ?? "unknown";
  const geogId = known ? `,ID["EPSG",${geoCode}]` : "";
  const datumWkt = `DATUM[${q(datumName)},ELLIPSOID[${q(ellName)},${a},${rf},${METRE}]],PRIMEM["Greenwich",0,${DEG}]`;
  const ellProj = `+a=${a} +rf=${rf}`;
  const cfBase: JsonObject = {
    semi_major_axis: a!,
    inverse_flattening: rf!,
    reference_ellipsoid_name: ellName,
    longitude_of_prime_meridian: 0,
    prime_meridian_name: "Greenwich",
    geographic_crs_name: geogName,
    horizontal_datum_name: datumName,
  };
  if (!projected) {
    const wkt2 = `GEOGCRS[${q(geogName)},${datumWkt},CS[ellipsoidal,2],AXIS["geodetic latitude (Lat)",north,ORDER[1],${DEG}],AXIS["geodetic longitude (Lon)",east,ORDER[2],${DEG}]]`;
    return {
      code: null,
      name: geogName,
      kind: "geographic",
      wkt2,
      wkt1: null,
      proj4: `+proj=longlat ${ellProj} +no_defs +type=crs`,
      cf: { ...cfBase, grid_mapping_name: "latitude_longitude" },
    };
  }
  const ct = num("ProjCoordTransGeoKey");
  const m = ct === undefined ? null : method(ct, keys);
  if (!m)
    ask(
      ct === undefined
        ? "no ProjCoordTransGeoKey"
        : `projection method ProjCoordTransGeoKey ${ct} is not one geozarr rebuilds`,
    );
  const params: string[] = [];
  const proj: string[] = [`+proj=${m!.proj}`];
  const cf: JsonObject = { ...cfBase };
  for (const p of m!.params) {
    const v = p.key.map(num).find((x) => x !== undefined) ?? (p.unit === "scale" ? 1 : 0);
    const unit = p.unit === "deg" ? DEG : p.unit === "m" ? METRE : 'SCALEUNIT["unity",1]';
    params.push(`PARAMETER[${q(p.name)},${v},${unit},ID["EPSG",${p.epsg}]]`);
    proj.push(`+${p.proj}=${v}`);
    if (p.cf) cf[p.cf] = v;
  }
  if (m!.proj === "stere")
    proj.splice(1, 0, `+lat_0=${Number(keys.ProjNatOriginLatGeoKey ?? 90) < 0 ? -90 : 90}`);
  if (m!.cf === "lambert_conformal_conic" || m!.cf === "albers_conical_equal_area") {
    cf.standard_parallel = [num("ProjStdParallel1GeoKey") ?? 0, num("ProjStdParallel2GeoKey") ?? 0];
  }
  if (m!.cf === "polar_stereographic")
    cf.latitude_of_projection_origin = Number(keys.ProjNatOriginLatGeoKey ?? 90) < 0 ? -90 : 90;
  const name = (typeof keys.GTCitationGeoKey === "string" && keys.GTCitationGeoKey) || "unknown";
  // Polar stereographic axes point along meridians (towards the south from a north pole), as PROJ models them.
  const toward =
    m!.proj !== "stere"
      ? ["east", "north"]
      : Number(keys.ProjNatOriginLatGeoKey ?? 90) > 0
        ? ["south", "south"]
        : ["north", "north"];
  const wkt2 =
    `PROJCRS[${q(name)},BASEGEOGCRS[${q(geogName)},${datumWkt}${geogId}],` +
    `CONVERSION["unknown",METHOD[${q(m!.name)},ID["EPSG",${m!.epsg}]],${params.join(",")}],` +
    `CS[Cartesian,2],AXIS["easting",${toward[0]},ORDER[1],${METRE}],AXIS["northing",${toward[1]},ORDER[2],${METRE}]]`;
  return {
    code: null,
    name,
    kind: "projected",
    wkt2,
    wkt1: null,
    proj4: `${proj.join(" ")} ${ellProj} +units=m +no_defs +type=crs`,
    cf: m!.cf ? { ...cf, projected_crs_name: name, grid_mapping_name: m!.cf } : {},
  };
}
