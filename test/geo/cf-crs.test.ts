/**
 * CF grid-mapping parameters to WKT2 and PROJ strings, checked against pyproj's own reading of the
 * same attributes (`pyproj.CRS.from_cf`, Debian's python3-pyproj): the CRS we build is equivalent
 * to pyproj's (PROJ's `proj_is_equivalent_to`), datum included, for every grid mapping of CF
 * Appendix F that PROJ expresses.
 */

import { describe, expect, it } from "vitest";
import { crsFromCf, inferredGridMappingName } from "../../src/geo/cf-crs.js";
import type { JsonObject } from "../../src/zarr/json.js";
import { pythonJson } from "../helpers/python.js";

const WGS84 = { semi_major_axis: 6378137.0, inverse_flattening: 298.257223563 };
const CLARKE1866 = { semi_major_axis: 6378206.4, inverse_flattening: 294.978698213898 };
const SPHERE = { earth_radius: 6371229.0 };
const HUGHES = { semi_major_axis: 6378273.0, semi_minor_axis: 6356889.449 };

const CASES: Record<string, JsonObject> = {
  transverse_mercator: {
    grid_mapping_name: "transverse_mercator",
    longitude_of_central_meridian: -117,
    latitude_of_projection_origin: 0,
    scale_factor_at_central_meridian: 0.9996,
    false_easting: 500000,
    false_northing: 0,
    ...CLARKE1866,
    horizontal_datum_name: "North American Datum 1927",
  },
  polar_stereographic_a: {
    grid_mapping_name: "polar_stereographic",
    straight_vertical_longitude_from_pole: 0,
    latitude_of_projection_origin: 90,
    scale_factor_at_projection_origin: 0.994,
    ...WGS84,
  },
  polar_stereographic_b: {
    grid_mapping_name: "polar_stereographic",
    straight_vertical_longitude_from_pole: -45,
    latitude_of_projection_origin: 90,
    standard_parallel: 70,
    false_easting: 0,
    false_northing: 0,
    ...HUGHES,
  },
  lambert_conformal_conic_1sp: {
    grid_mapping_name: "lambert_conformal_conic",
    standard_parallel: 25,
    longitude_of_central_meridian: 265,
    latitude_of_projection_origin: 25,
    ...SPHERE,
  },
  lambert_conformal_conic_2sp: {
    grid_mapping_name: "lambert_conformal_conic",
    standard_parallel: [33, 45],
    longitude_of_central_meridian: -97,
    latitude_of_projection_origin: 40,
    false_easting: 1000,
    false_northing: -200,
    ...WGS84,
  },
  albers_conical_equal_area: {
    grid_mapping_name: "albers_conical_equal_area",
    standard_parallel: [29.5, 45.5],
    longitude_of_central_meridian: -96,
    latitude_of_projection_origin: 23,
    ...CLARKE1866,
  },
  lambert_azimuthal_equal_area: {
    grid_mapping_name: "lambert_azimuthal_equal_area",
    longitude_of_projection_origin: 0,
    latitude_of_projection_origin: 90,
    ...WGS84,
  },
  mercator_b: {
    grid_mapping_name: "mercator",
    longitude_of_projection_origin: 0,
    standard_parallel: 10,
    ...WGS84,
  },
  mercator_a: {
    grid_mapping_name: "mercator",
    longitude_of_projection_origin: 20,
    scale_factor_at_projection_origin: 1,
    ...SPHERE,
  },
  geostationary: {
    grid_mapping_name: "geostationary",
    perspective_point_height: 35786023,
    longitude_of_projection_origin: -75,
    latitude_of_projection_origin: 0,
    sweep_angle_axis: "x",
    semi_major_axis: 6378137,
    semi_minor_axis: 6356752.31414,
  },
  geostationary_fixed: {
    grid_mapping_name: "geostationary",
    perspective_point_height: 35785831,
    longitude_of_projection_origin: 0,
    fixed_angle_axis: "x",
    ...WGS84,
  },
  rotated_latitude_longitude: {
    grid_mapping_name: "rotated_latitude_longitude",
    grid_north_pole_latitude: 39.25,
    grid_north_pole_longitude: -162,
    ...SPHERE,
  },
  stereographic: {
    grid_mapping_name: "stereographic",
    longitude_of_projection_origin: 10,
    latitude_of_projection_origin: 50,
    scale_factor_at_projection_origin: 1,
    ...WGS84,
  },
  orthographic: {
    grid_mapping_name: "orthographic",
    longitude_of_projection_origin: 10,
    latitude_of_projection_origin: 50,
    ...WGS84,
  },
  sinusoidal: { grid_mapping_name: "sinusoidal", longitude_of_projection_origin: 0, ...SPHERE },
  lambert_cylindrical_equal_area: {
    grid_mapping_name: "lambert_cylindrical_equal_area",
    longitude_of_central_meridian: 0,
    standard_parallel: 30,
    ...WGS84,
  },
  azimuthal_equidistant: {
    grid_mapping_name: "azimuthal_equidistant",
    longitude_of_projection_origin: 10,
    latitude_of_projection_origin: 50,
    ...WGS84,
  },
  latitude_longitude_clarke: { grid_mapping_name: "latitude_longitude", ...CLARKE1866 },
  no_ellipsoid: { grid_mapping_name: "transverse_mercator", longitude_of_central_meridian: 9 },
};

/**
 * PROJ cannot tell two derived CRSs equivalent even for pyproj's own round trip (rotated pole), and
 * names differ between any two builders, so the check is what matters: the same longitude/latitude
 * project to the same coordinates (within a millimetre) through ours and through pyproj's, and the
 * ellipsoids are the same.
 */
const COMPARE = `
import json, sys, warnings
from pyproj import CRS, Transformer
warnings.simplefilter("ignore")
cases = json.loads(sys.argv[1])
def project(crs, pts):
    t = Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True)
    return [t.transform(lon, lat) for lon, lat in pts]
def same(a, b):
    return all(abs(x[0] - y[0]) < 1e-3 and abs(x[1] - y[1]) < 1e-3 for x, y in zip(a, b))
out = {}
for name, c in cases.items():
    a = c["attrs"]
    ref = CRS.from_cf(a)
    ours = CRS.from_wkt(c["wkt2"])
    proj = CRS.from_proj4(c["proj4"])
    lon = next((a[k] for k in ("longitude_of_central_meridian", "longitude_of_projection_origin", "straight_vertical_longitude_from_pole") if k in a), 0)
    lat = max(-80, min(80, a.get("latitude_of_projection_origin", 30)))
    pts = [(lon + dx, lat + dy) for dx in (-2, 0, 2) for dy in (-2, 0, 2)]
    e, re = ours.ellipsoid, ref.ellipsoid
    out[name] = {
        "wkt": ref.is_geographic == ours.is_geographic and same(project(ref, pts), project(ours, pts)),
        "proj": same(project(ref, pts), project(proj, pts)),
        "axes": [e.semi_major_metre, round(e.semi_minor_metre, 3)] == [re.semi_major_metre, round(re.semi_minor_metre, 3)]
            and [p.semi_major_metre for p in (proj.ellipsoid,)] == [re.semi_major_metre],
        "datum": ours.datum.name,
    }
print(json.dumps(out))
`;

describe("CF grid mappings to WKT2 and PROJ (pyproj.CRS.from_cf is the reference)", () => {
  const built = Object.fromEntries(
    Object.entries(CASES).map(([k, attrs]) => {
      const c = crsFromCf(attrs);
      if (!c) throw new Error(`no CRS for ${k}`);
      return [k, { attrs, wkt2: c.wkt2, proj4: c.proj4 }];
    }),
  );
  const result = pythonJson<Record<string, { wkt: boolean; proj: boolean; axes: boolean; datum: string }>>(
    COMPARE,
    [JSON.stringify(built)],
  );

  it.each(Object.keys(CASES))("%s: our WKT2 is pyproj's CRS, on the source's ellipsoid", (name) => {
    expect(result[name]).toMatchObject({ wkt: true, axes: true });
  });

  it.each(Object.keys(CASES))("%s: our PROJ string projects the same", (name) => {
    expect(result[name]!.proj).toBe(true);
  });

  it("keeps the datum's name when the source gives it, WGS 84 when it declares no ellipsoid", () => {
    expect(result.transverse_mercator!.datum).toBe("North American Datum 1927");
    expect(result.no_ellipsoid!.datum).toBe("World Geodetic System 1984");
  });

  it("refuses what it cannot express: an unknown grid mapping, a missing required parameter", () => {
    expect(crsFromCf({ grid_mapping_name: "space_view_perspective" })).toBeNull();
    expect(crsFromCf({ grid_mapping_name: "geostationary", longitude_of_projection_origin: 0 })).toBeNull();
    expect(crsFromCf({ grid_mapping_name: "lambert_conformal_conic" })).toBeNull();
  });
});

describe("inferredGridMappingName", () => {
  it("names a rotated pole from its two pole parameters, and nothing it could mistake", () => {
    const pole = { grid_north_pole_latitude: 39.25, grid_north_pole_longitude: -162 };
    expect(inferredGridMappingName(pole)).toBe("rotated_latitude_longitude");
    // A declared name is never overridden; one pole parameter, or another mapping's, say nothing.
    expect(inferredGridMappingName({ ...pole, grid_mapping_name: "latitude_longitude" })).toBeUndefined();
    expect(inferredGridMappingName({ grid_north_pole_latitude: 39.25 })).toBeUndefined();
    expect(inferredGridMappingName({ ...pole, grid_north_pole_latitude: "north" })).toBeUndefined();
    expect(
      inferredGridMappingName({
        latitude_of_projection_origin: 90,
        straight_vertical_longitude_from_pole: 0,
      }),
    ).toBeUndefined();
  });
});
