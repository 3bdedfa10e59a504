#!/usr/bin/python3
"""Generate data/crs/epsg.json: canonical WKT2 and CF grid-mapping attributes for EPSG codes.

No npm package yields canonical OGC WKT2 offline (docs/design.md), so the table is generated once
with Debian's pyproj (PROJ database) and committed. Run: /usr/bin/python3 scripts/data/gen_crs_table.py

Per code: name, kind (geographic|projected), wkt2 (WKT2_2019, for crs_wkt and proj:wkt2), wkt1
(WKT1_GDAL, for the GDAL-style spatial_ref attribute), proj4 (for proj4js), cf (CF grid-mapping
attributes without crs_wkt; the four *_name attributes always all present, CF 1.11 §5.6), axes
(the CRS's own axis order: ["lat","lon"], ["x","y"], ...), bounds (area of use, lon/lat degrees).
"""
import json
import os
import warnings

import pyproj
from pyproj import CRS

warnings.filterwarnings("ignore")

CODES = (
    [4326, 4269, 4258, 4267, 4283, 4230, 3857, 3031, 3413, 3995, 3976, 3035, 3034, 5070, 27700, 2154, 3577, 3338]
    + list(range(32601, 32661))  # WGS 84 / UTM north
    + list(range(32701, 32761))  # WGS 84 / UTM south
    + list(range(25828, 25839))  # ETRS89 / UTM
    + list(range(26901, 26924))  # NAD83 / UTM
    # GeoTIFF input (issue 17): UPS, world Mercator and equal-area grids, national grids GDAL
    # writes as EPSG codes.
    + [32661, 32761, 3395, 6933, 6931, 6932, 3410, 4087]
    + [3067, 2056, 21781, 28992, 3006, 31287, 2180, 3763, 5514, 3059, 3346, 2100, 3812, 31370, 25884]
    + [3005, 3347, 3978, 3979, 2193, 3112, 4283, 7844, 4617, 4674, 4612, 6668, 4490]
    + list(range(28348, 28359))  # GDA94 / MGA
    + list(range(7846, 7860))  # GDA2020 / MGA
    + list(range(31978, 31986))  # SIRGAS 2000 / UTM south
    + list(range(23028, 23039))  # ED50 / UTM
)


def axes(crs):
    out = []
    for a in crs.axis_info:
        abbr = a.abbrev.lower()
        out.append({"lat": "lat", "lon": "lon", "e": "x", "n": "y", "x": "x", "y": "y"}.get(abbr, abbr))
    return out


def cf_attrs(crs, code):
    cf = {k: v for k, v in crs.to_cf().items() if k != "crs_wkt"}
    datum = crs.datum.name if crs.datum else None
    if datum:
        # pyproj 3.4 leaves it out for datum ensembles; CF wants the four names together. The
        # ensemble suffix is dropped, as rioxarray writes EPSG:4326 ("World Geodetic System 1984").
        cf["horizontal_datum_name"] = datum.removesuffix(" ensemble")
    order = ["semi_major_axis", "semi_minor_axis", "inverse_flattening", "reference_ellipsoid_name",
             "longitude_of_prime_meridian", "prime_meridian_name", "geographic_crs_name",
             "horizontal_datum_name", "projected_crs_name", "grid_mapping_name"]
    return {k: cf[k] for k in order if k in cf} | {k: v for k, v in cf.items() if k not in order}


table = {}
for code in CODES:
    crs = CRS.from_epsg(code)
    aou = crs.area_of_use
    table[f"EPSG:{code}"] = {
        "name": crs.name,
        "kind": "geographic" if crs.is_geographic else "projected",
        "wkt2": crs.to_wkt("WKT2_2019"),
        "wkt1": crs.to_wkt("WKT1_GDAL"),
        "proj4": crs.to_proj4(),
        "cf": cf_attrs(crs, code),
        "axes": axes(crs),
        "bounds": [aou.west, aou.south, aou.east, aou.north] if aou else None,
    }

out = os.path.join(os.path.dirname(__file__), "..", "..", "data", "crs", "epsg.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"generator": f"pyproj {pyproj.__version__}, PROJ {pyproj.proj_version_str}", "crs": table}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(table)} CRSs to {os.path.normpath(out)}")
