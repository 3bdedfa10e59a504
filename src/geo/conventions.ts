/**
 * The Zarr conventions GeoZarr composes (zarr-conventions-spec): each identified by its UUID, which
 * is stable while names and URLs have changed between revisions (geozarr-spec#121). We write the
 * revision the stable tags and rioxarray use; readers and the validator match on UUID.
 * @module
 */

import type { JsonObject } from "../zarr/json.js";

export const PROJ_UUID = "f17cb550-5864-4468-aeb7-f3180cfb622f";
export const SPATIAL_UUID = "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4";
export const MULTISCALES_UUID = "d35379db-88df-4056-af3a-620245f8e347";
export const CF_UUID = "77c308c7-4db2-4774-8b2d-aa37e9997db6";

/** The convention metadata objects we write into `zarr_conventions`. */
export const PROJ_CONVENTION: JsonObject = {
  schema_url: "https://raw.githubusercontent.com/zarr-conventions/geo-proj/refs/tags/v1/schema.json",
  spec_url: "https://github.com/zarr-conventions/geo-proj/blob/v1/README.md",
  uuid: PROJ_UUID,
  name: "proj:",
  description: "Coordinate reference system information for geospatial data",
};

export const SPATIAL_CONVENTION: JsonObject = {
  schema_url: "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
  spec_url: "https://github.com/zarr-conventions/spatial/blob/v1/README.md",
  uuid: SPATIAL_UUID,
  name: "spatial:",
  description: "Spatial coordinate information",
};

export const MULTISCALES_CONVENTION: JsonObject = {
  schema_url: "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json",
  spec_url: "https://github.com/zarr-conventions/multiscales/blob/v1/README.md",
  uuid: MULTISCALES_UUID,
  name: "multiscales",
  description: "Multiscale layout of zarr datasets",
};
