/**
 * The Zarr conventions GeoZarr composes (zarr-conventions-spec): proj, spatial and multiscales.
 * This module is the one place that knows their declarations (Convention Metadata Objects):
 *
 *  - what we write: exactly the v0.1 objects, every constant taken from the official schemas'
 *    `$defs/conventionMetadata` (data/zarr-conventions/, checked by test/geo/conventions.test.ts);
 *  - what we read: any revision ever written. A declaration is identified by its UUID (stable
 *    across revisions), else by its schema_url, else its spec_url (zarr-conventions-spec,
 *    "identity precedence"); never by name. Older forms: the unpublished `refs/tags/v1` URLs,
 *    `zarr-experimental/geo-proj`, `zarr-conventions/geo-proj`, names with a colon ("proj:",
 *    "spatial:"), zarr-cm's commit-pinned URLs and `main` branch URLs;
 *  - how writers declare: `declare()` upgrades recognised older declarations to v0.1 and keeps
 *    conventions we do not know as they are;
 *  - the `multiscales` layout (`multiscalesAttribute`), built by one function for every producer
 *    (pyramid levels, WebMercatorQuad zooms, the inspector's overviews).
 * @module
 */

import { isJsonObject, type JsonObject, type JsonValue } from "../zarr/json.js";

export const PROJ_UUID = "f17cb550-5864-4468-aeb7-f3180cfb622f";
export const SPATIAL_UUID = "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4";
export const MULTISCALES_UUID = "d35379db-88df-4056-af3a-620245f8e347";
export const CF_UUID = "77c308c7-4db2-4774-8b2d-aa37e9997db6";

/** The revision we write. */
export const CONVENTIONS_VERSION = "v0.1";

const raw = (repo: string) =>
  `https://raw.githubusercontent.com/zarr-conventions/${repo}/refs/tags/${CONVENTIONS_VERSION}/schema.json`;
const spec = (repo: string) =>
  `https://github.com/zarr-conventions/${repo}/blob/${CONVENTIONS_VERSION}/README.md`;

/** proj v0.1 (proj-v0.1.schema.json, $defs/conventionMetadata). */
export const PROJ_CONVENTION: JsonObject = {
  schema_url: raw("proj"),
  spec_url: spec("proj"),
  uuid: PROJ_UUID,
  name: "proj",
  description: "Coordinate reference system information for geospatial data",
};

/** spatial v0.1 (spatial-v0.1.schema.json, $defs/conventionMetadata). */
export const SPATIAL_CONVENTION: JsonObject = {
  schema_url: raw("spatial"),
  spec_url: spec("spatial"),
  uuid: SPATIAL_UUID,
  name: "spatial",
  description: "Spatial coordinate information",
};

/** multiscales v0.1 (multiscales-v0.1.schema.json, $defs/conventionMetadata). */
export const MULTISCALES_CONVENTION: JsonObject = {
  schema_url: raw("multiscales"),
  spec_url: spec("multiscales"),
  uuid: MULTISCALES_UUID,
  name: "multiscales",
  description: "Multiscale layout of zarr datasets",
};

export type ConventionName = "proj" | "spatial" | "multiscales";

export interface ConventionInfo {
  name: ConventionName;
  uuid: string;
  /** The v0.1 declaration. */
  current: JsonObject;
  /** Repositories the convention has lived in, as "owner/name". */
  repos: string[];
  /** Names older revisions used. */
  oldNames: string[];
}

export const CONVENTIONS: readonly ConventionInfo[] = [
  {
    name: "proj",
    uuid: PROJ_UUID,
    current: PROJ_CONVENTION,
    repos: ["zarr-conventions/proj", "zarr-conventions/geo-proj", "zarr-experimental/geo-proj"],
    oldNames: ["proj:"],
  },
  {
    name: "spatial",
    uuid: SPATIAL_UUID,
    current: SPATIAL_CONVENTION,
    repos: ["zarr-conventions/spatial", "zarr-experimental/spatial"],
    oldNames: ["spatial:"],
  },
  {
    name: "multiscales",
    uuid: MULTISCALES_UUID,
    current: MULTISCALES_CONVENTION,
    repos: ["zarr-conventions/multiscales", "zarr-experimental/multiscales"],
    oldNames: [],
  },
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
/** A tag, a branch or a commit: what a URL pins. */
const REF = "(refs/tags/[^/]+|refs/heads/[^/]+|[0-9a-f]{7,40}|v[0-9][^/]*|main|master)";

function urlPatterns(c: ConventionInfo): { schema: RegExp; spec: RegExp } {
  const repos = c.repos.map(escapeRegExp).join("|");
  return {
    schema: new RegExp(`^https://raw\\.githubusercontent\\.com/(${repos})/${REF}/schema\\.json$`),
    spec: new RegExp(`^https://github\\.com/(${repos})/(blob|tree)/([^/]+)(/README\\.md)?/?$`),
  };
}

const PATTERNS = new Map(CONVENTIONS.map((c) => [c.uuid, urlPatterns(c)]));

/** The revision a URL pins: "v0.1", "v1", "main", "commit f5c536b"; null when it pins none we read. */
function revisionOf(url: string): string | null {
  const m =
    /\/refs\/tags\/([^/]+)\//.exec(url) ??
    /\/refs\/heads\/([^/]+)\//.exec(url) ??
    /\/(?:blob|tree)\/([^/]+)/.exec(url) ??
    /githubusercontent\.com\/[^/]+\/[^/]+\/([^/]+)\//.exec(url);
  if (!m) return null;
  return /^[0-9a-f]{7,40}$/.test(m[1]!) ? `commit ${m[1]!.slice(0, 7)}` : m[1]!;
}

export interface Declaration {
  /** The convention this declaration is of. */
  convention: ConventionInfo;
  /** The revision its URLs pin ("v0.1", "v1", "commit f5c536b"), or "unknown". */
  version: string;
  /** True when it is exactly the v0.1 object (what we write). */
  current: boolean;
  /** How it was identified. */
  by: "uuid" | "schema_url" | "spec_url";
}

const text = (v: JsonValue | undefined) => (typeof v === "string" ? v : undefined);

/** Which of our conventions a declaration (CMO) is, or null: by uuid, else schema_url, else spec_url. */
export function identify(cmo: JsonValue): Declaration | null {
  if (!isJsonObject(cmo)) return null;
  const uuid = text(cmo.uuid);
  const schemaUrl = text(cmo.schema_url);
  const specUrl = text(cmo.spec_url);
  let convention: ConventionInfo | undefined;
  let by: Declaration["by"] = "uuid";
  if (uuid !== undefined) convention = CONVENTIONS.find((c) => c.uuid === uuid);
  else if (schemaUrl !== undefined) {
    by = "schema_url";
    convention = CONVENTIONS.find((c) => PATTERNS.get(c.uuid)!.schema.test(schemaUrl));
  } else if (specUrl !== undefined) {
    by = "spec_url";
    convention = CONVENTIONS.find((c) => PATTERNS.get(c.uuid)!.spec.test(specUrl));
  }
  if (!convention) return null;
  const version = (schemaUrl && revisionOf(schemaUrl)) ?? (specUrl && revisionOf(specUrl)) ?? "unknown";
  const keys = Object.keys(cmo);
  const cur = convention.current;
  const current =
    keys.length === Object.keys(cur).length && keys.every((k) => Object.hasOwn(cur, k) && cmo[k] === cur[k]);
  return { convention, version, current, by };
}

/** What a declaration is, in words, for messages: "the v1-tag form (never published)". */
export function describeForm(cmo: JsonObject, d: Declaration): string {
  const notes: string[] = [];
  if (d.version === "v1") notes.push("the v1 tags were never published");
  const url = text(cmo.schema_url) ?? text(cmo.spec_url) ?? "";
  const repo = d.convention.repos.find((r) => url.includes(`/${r}/`));
  if (repo && repo !== d.convention.repos[0]) notes.push(`${repo} is the convention's former home`);
  if (typeof cmo.name === "string" && d.convention.oldNames.includes(cmo.name))
    notes.push(`the name "${cmo.name}" is an older one`);
  const form = d.version === "unknown" ? "a form of unknown revision" : `the ${d.version} form`;
  return notes.length ? `${form} (${notes.join("; ")})` : form;
}

/** What a declaration says, for reports: the convention's name, the revision its URLs pin, its UUID. */
export interface DeclaredConvention {
  name: string | null;
  version: string | null;
  uuid: string | null;
  /** True when the declaration is exactly the v0.1 object; null for conventions we do not know. */
  current: boolean | null;
}

export function declaredConvention(cmo: JsonValue): DeclaredConvention {
  const d = identify(cmo);
  if (d) return { name: d.convention.name, version: d.version, uuid: d.convention.uuid, current: d.current };
  const c = isJsonObject(cmo) ? cmo : {};
  const url = text(c.schema_url) ?? text(c.spec_url);
  return {
    name: text(c.name) ?? null,
    version: (url && revisionOf(url)) ?? null,
    uuid: text(c.uuid) ?? null,
    current: null,
  };
}

/** The `zarr_conventions` list of an attributes object, or [] when there is none. */
export function declarationsOf(attrs: JsonObject): JsonValue[] {
  return Array.isArray(attrs.zarr_conventions) ? attrs.zarr_conventions : [];
}

/**
 * `zarr_conventions` for a node we write: the node's existing declarations with every recognised
 * revision of our conventions replaced by its v0.1 object, then `add` (v0.1 objects), each
 * convention once, in first-seen order; declarations of other conventions are kept as they are.
 */
export function declare(existing: JsonValue | undefined, add: JsonObject[] = []): JsonObject[] {
  const out: JsonObject[] = [];
  const seen = new Set<string>();
  const items = [...(Array.isArray(existing) ? existing : []), ...add];
  for (const c of items) {
    if (!isJsonObject(c)) continue;
    const d = identify(c);
    if (!d) {
      out.push(c);
      continue;
    }
    if (seen.has(d.convention.uuid)) continue;
    seen.add(d.convention.uuid);
    out.push(d.convention.current);
  }
  return out;
}

/** Attributes with their recognised declarations upgraded to v0.1 (a copy; unchanged without any). */
export function upgradeDeclarations(attrs: JsonObject): JsonObject {
  if (!Array.isArray(attrs.zarr_conventions)) return attrs;
  return { ...attrs, zarr_conventions: declare(attrs.zarr_conventions) };
}

/** One level of a multiscale layout: its asset and its own grid. */
export interface LayoutLevel {
  asset: string;
  /** [rows, cols] along the spatial dimensions (`spatial:shape`). */
  shape: readonly number[];
  /** The level's `spatial:transform`, rasterio order [a, b, c, d, e, f]. */
  affine: readonly number[];
  /**
   * How this level was computed from the one before; default: the layout's method; null when
   * nobody knows (a source's own overview that does not record it): then none is declared.
   */
  resampling?: string | null | undefined;
}

/**
 * The scale from level `prev` to level `l` along one axis: the ratio of their cell sizes. When the
 * two cover the same extent (levels sized as GDAL's overviews) that is exactly the ratio of their
 * sizes (17999 / 9000); otherwise the cell ratio, without float noise (2, not 2.0000000000000004).
 */
function scaleOf(step: number, prevStep: number, n: number, prevN: number): number {
  const extent = step * n;
  const prevExtent = prevStep * prevN;
  if (Math.abs(extent - prevExtent) <= Math.abs(prevExtent) * 1e-12) return prevN / n;
  return Number((step / prevStep).toPrecision(15));
}

/**
 * The zarr-conventions `multiscales` object (multiscales v0.1 + spatial v0.1's per-level keys),
 * levels finest first. Every entry has `transform`: level 0 the identity, each next one
 * `derived_from` the level before, `scale` the ratio of the two levels' cell sizes along
 * [Y, X] (spatial:dimensions order; `scaleOf`) and `translation` the shift of their origins in the
 * coordinate space; `spatial:shape` and `spatial:transform` are the level's own (the same
 * arrays its group declares), so the layout and the levels cannot disagree.
 */
export function multiscalesAttribute(
  levels: readonly LayoutLevel[],
  resampling: string,
  extra: JsonObject = {},
): JsonObject {
  const layout = levels.map((l, k): JsonObject => {
    const prev = levels[k - 1];
    const base: JsonObject = prev
      ? {
          asset: l.asset,
          derived_from: prev.asset,
          transform: {
            scale: [
              scaleOf(l.affine[4]!, prev.affine[4]!, l.shape[0]!, prev.shape[0]!),
              scaleOf(l.affine[0]!, prev.affine[0]!, l.shape[1]!, prev.shape[1]!),
            ],
            translation: [l.affine[5]! - prev.affine[5]!, l.affine[2]! - prev.affine[2]!],
          },
          ...(l.resampling === null ? {} : { resampling_method: l.resampling ?? resampling }),
        }
      : { asset: l.asset, transform: { scale: [1, 1], translation: [0, 0] } };
    return { ...base, "spatial:shape": [...l.shape], "spatial:transform": [...l.affine] };
  });
  return { ...extra, resampling_method: resampling, layout };
}
