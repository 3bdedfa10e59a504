/**
 * Every node geozarr writes in Zarr v3 passes the conventions' official v0.1 JSON schemas
 * (data/zarr-conventions/), checked as a new user would, with an off-the-shelf validator and
 * not through geozarr's own rules: ajv (draft-07) and, independently, Python's jsonschema
 * (Debian's python3-jsonschema, Draft7Validator). Each node is validated against the schema of
 * every convention it declares, and each declaration against the schema's
 * `$defs/conventionMetadata` (draft-07 ignores the `contains` beside `$ref` that would check it).
 *
 * The stores: a default v3 conversion of the sample, `convert --multiscales`,
 * `pyramid --tms WebMercatorQuad`, and an inspector overview store. And a store with the
 * declarations geozarr wrote before v0.1 (the unpublished v1 tags), which must fail.
 */

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Ajv } from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import { WorkerPool } from "../../src/parallel/pool.js";
import { buildOverview } from "../../src/pyramid/overview.js";
import { validateStore } from "../../src/validate/validate.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { FileSystemStore } from "../../src/zarr/store/fs.js";
import { runCli } from "../helpers/cli.js";
import { python } from "../helpers/python.js";
import { tmpDir } from "../helpers/tmp.js";

const SAMPLE = resolve("examples/data/mur_small.nc");
const SCHEMAS = resolve("data/zarr-conventions");
const dir = tmpDir("schemas");
const stores = {
  convert: join(dir, "default.zarr"),
  multiscales: join(dir, "multiscales.zarr"),
  webmercator: join(dir, "webmercator.zarr"),
  overview: join(dir, "overview.zarr"),
};
const OLD = join(dir, "old-v1.zarr");

/** What geozarr wrote before v0.1: the constants of the conventions' v1 tags (never published). */
const V1: Record<string, object> = {
  "f17cb550-5864-4468-aeb7-f3180cfb622f": {
    schema_url: "https://raw.githubusercontent.com/zarr-conventions/geo-proj/refs/tags/v1/schema.json",
    spec_url: "https://github.com/zarr-conventions/geo-proj/blob/v1/README.md",
    uuid: "f17cb550-5864-4468-aeb7-f3180cfb622f",
    name: "proj:",
    description: "Coordinate reference system information for geospatial data",
  },
  "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4": {
    schema_url: "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
    spec_url: "https://github.com/zarr-conventions/spatial/blob/v1/README.md",
    uuid: "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4",
    name: "spatial:",
    description: "Spatial coordinate information",
  },
  "d35379db-88df-4056-af3a-620245f8e347": {
    schema_url: "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json",
    spec_url: "https://github.com/zarr-conventions/multiscales/blob/v1/README.md",
    uuid: "d35379db-88df-4056-af3a-620245f8e347",
    name: "multiscales",
    description: "Multiscale layout of zarr datasets",
  },
};

const SCHEMA_BY_UUID: Record<string, string> = {
  "f17cb550-5864-4468-aeb7-f3180cfb622f": "proj-v0.1.schema.json",
  "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4": "spatial-v0.1.schema.json",
  "d35379db-88df-4056-af3a-620245f8e347": "multiscales-v0.1.schema.json",
};

interface NodeDoc {
  store: string;
  key: string;
  doc: { attributes?: { zarr_conventions?: { uuid?: string }[] } };
}

function zarrJsons(root: string): string[] {
  return readdirSync(root).flatMap((f) => {
    const p = join(root, f);
    return statSync(p).isDirectory() ? zarrJsons(p) : f === "zarr.json" ? [p] : [];
  });
}

function nodeDocs(store: string): NodeDoc[] {
  return zarrJsons(store).map((file) => ({
    store,
    key: relative(store, file),
    doc: JSON.parse(readFileSync(file, "utf8")),
  }));
}

/** Rewrite every declaration of a store (consolidated copies included) to its v1 form. */
function downgrade(store: string): void {
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] =
        k === "zarr_conventions" && Array.isArray(x)
          ? x.map((c: { uuid: string }) => V1[c.uuid] ?? c)
          : visit(x);
    return out;
  };
  for (const file of zarrJsons(store))
    writeFileSync(file, JSON.stringify(visit(JSON.parse(readFileSync(file, "utf8"))), null, 2));
}

/** ajv over every node: the document against each declared convention's schema, each declaration against conventionMetadata. */
function ajvFailures(docs: NodeDoc[]): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addSchema({ $id: "https://proj.org/schemas/v0.7/projjson.schema.json", type: "object" });
  const ids: Record<string, string> = {};
  for (const [uuid, file] of Object.entries(SCHEMA_BY_UUID)) {
    const schema = JSON.parse(readFileSync(join(SCHEMAS, file), "utf8"));
    ajv.addSchema(schema);
    ids[uuid] = schema.$id;
  }
  const out: string[] = [];
  for (const { store, key, doc } of docs) {
    for (const cmo of doc.attributes?.zarr_conventions ?? []) {
      const id = ids[cmo.uuid ?? ""];
      if (!id) continue;
      const node = ajv.getSchema(id)!;
      if (!node(doc)) out.push(`${relative(dir, store)}/${key}: ${ajv.errorsText(node.errors)}`);
      const decl = ajv.getSchema(`${id}#/$defs/conventionMetadata`)!;
      if (!decl(cmo)) out.push(`${relative(dir, store)}/${key} declaration: ${ajv.errorsText(decl.errors)}`);
    }
  }
  return out;
}

/** The same check in Python's jsonschema (Draft7Validator), an implementation independent of ajv. */
const PY_CHECK = `
import json, sys, warnings
import jsonschema
warnings.simplefilter("ignore")
schemas_dir, docs_file = sys.argv[1], sys.argv[2]
files = {"f17cb550-5864-4468-aeb7-f3180cfb622f": "proj-v0.1.schema.json",
         "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4": "spatial-v0.1.schema.json",
         "d35379db-88df-4056-af3a-620245f8e347": "multiscales-v0.1.schema.json"}
schemas = {u: json.load(open(f"{schemas_dir}/{f}")) for u, f in files.items()}
store = {s["$id"]: s for s in schemas.values()}
store["https://proj.org/schemas/v0.7/projjson.schema.json"] = {"type": "object"}
failures, checked = [], 0
for d in json.load(open(docs_file)):
    for cmo in d["doc"].get("attributes", {}).get("zarr_conventions", []):
        s = schemas.get(cmo.get("uuid"))
        if s is None:
            continue
        resolver = jsonschema.RefResolver.from_schema(s, store=store)
        node = jsonschema.Draft7Validator(s, resolver=resolver)
        decl = jsonschema.Draft7Validator(s["$defs"]["conventionMetadata"], resolver=resolver)
        for v, inst, what in ((node, d["doc"], ""), (decl, cmo, " declaration")):
            checked += 1
            for e in v.iter_errors(inst):
                failures.append(f'{d["key"]}{what}: {"/".join(map(str, e.absolute_path))} {e.message}')
print(json.dumps({"checked": checked, "failures": failures}))
`;

function pythonFailures(docs: NodeDoc[], label: string): { checked: number; failures: string[] } {
  const file = join(dir, `${label}-docs.json`);
  writeFileSync(file, JSON.stringify(docs.map(({ key, doc }) => ({ key, doc }))));
  return JSON.parse(python(PY_CHECK, [SCHEMAS, file]));
}

const pool = new WorkerPool(0);

beforeAll(async () => {
  const ok = async (...args: string[]) => expect((await runCli(...args)).code, args.join(" ")).toBe(0);
  await ok("convert", SAMPLE, stores.convert, "--workers", "0");
  await ok("convert", SAMPLE, stores.multiscales, "--multiscales", "--tile-size", "256", "--workers", "0");
  await ok("convert", SAMPLE, stores.webmercator, "--workers", "0");
  await ok("pyramid", stores.webmercator, "--tms", "WebMercatorQuad", "--levels", "2", "--workers", "0");
  await ok(
    "convert",
    SAMPLE,
    OLD,
    "--multiscales",
    "--tile-size",
    "256",
    "--require-standard-name",
    "--workers",
    "0",
  );
  downgrade(OLD);
  // The inspector's display overview of analysed_sst, as `geozarr serve` builds it.
  mkdirSync(stores.overview);
  const h = await openHierarchy(new FileSystemStore(stores.convert), { name: stores.convert });
  await buildOverview(h, "/analysed_sst", [0, 0, 0], pool, new FileSystemStore(stores.overview), {
    maxSide: 512,
    tile: 128,
  });
}, 300_000);

describe("geozarr's v3 outputs against the official v0.1 schemas", () => {
  it.each(Object.entries(stores))("%s: every node that declares a convention validates (ajv)", (_, store) => {
    const docs = nodeDocs(store);
    const declared = docs.filter((d) => d.doc.attributes?.zarr_conventions?.length);
    // Each store declares conventions on several nodes, and all three conventions appear.
    expect(declared.length).toBeGreaterThanOrEqual(3);
    const uuids = new Set(declared.flatMap((d) => d.doc.attributes!.zarr_conventions!.map((c) => c.uuid)));
    expect(uuids.has("f17cb550-5864-4468-aeb7-f3180cfb622f")).toBe(true);
    expect(uuids.has("689b58e2-cf7b-45e0-9fff-9cfc0883d6b4")).toBe(true);
    if (store !== stores.convert) expect(uuids.has("d35379db-88df-4056-af3a-620245f8e347")).toBe(true);
    expect(ajvFailures(docs)).toEqual([]);
  });

  it("Python's jsonschema (Draft7Validator) agrees: 0 failures over the same documents", () => {
    const docs = Object.values(stores).flatMap(nodeDocs);
    const r = pythonFailures(docs, "ours");
    expect(r.failures).toEqual([]);
    expect(r.checked).toBeGreaterThan(40);
  });

  it("geozarr validate finds nothing wrong with their Zarr metadata and conventions", async () => {
    for (const [label, store] of Object.entries(stores)) {
      const report = await validateStore(new FileSystemStore(store), store);
      const found = report.findings.filter((f) => f.severity !== "info");
      // Zarr, consolidated metadata, what the reader refuses, the conventions: nothing at all.
      expect(
        found
          .filter((f) => /^(ZJ|ZR|Z2|Z3|ZC|GC)-/.test(f.rule))
          .map((f) => `${f.rule} ${f.path} ${f.message}`),
        label,
      ).toEqual([]);
      const other = new Set(found.map((f) => `${f.rule} ${f.path.slice(f.path.lastIndexOf("/"))}`));
      if (label === "overview")
        // A display store of physical float32 values: no CF dataset (no Conventions, coordinate
        // variables or standard names), which the CF and GeoZarr v0.4 rules say.
        expect(
          [...other].every((x) => /^(CF-01|CF-05|G4-04) /.test(x)),
          [...other].join(", "),
        ).toBe(true);
      // A default conversion keeps the two variables that have no CF standard name (and says so
      // when converting; --require-standard-name drops them): GeoZarr v0.4 wants one.
      else expect(other).toEqual(new Set(["G4-04 /analysis_error", "G4-04 /mask"]));
    }
  });
});

describe("one multiscales layout for the three producers", () => {
  it.each(["multiscales", "webmercator", "overview"] as const)(
    "%s: level 0 is the identity, every level derives from the one before, and each entry's grid is its group's own",
    (label) => {
      const root = JSON.parse(readFileSync(join(stores[label], "zarr.json"), "utf8")).attributes;
      const layout = root.multiscales.layout as Record<string, unknown>[];
      expect(layout.length).toBeGreaterThanOrEqual(2);
      expect(layout[0]).toMatchObject({ transform: { scale: [1, 1], translation: [0, 0] } });
      expect(layout[0]!.derived_from).toBeUndefined();
      layout.forEach((l, k) => {
        const group = JSON.parse(readFileSync(join(stores[label], String(l.asset), "zarr.json"), "utf8"));
        expect(l["spatial:transform"], `${label} ${l.asset}`).toEqual(group.attributes["spatial:transform"]);
        expect(l["spatial:shape"], `${label} ${l.asset}`).toEqual(group.attributes["spatial:shape"]);
        if (k === 0) return;
        expect(l.derived_from).toBe(layout[k - 1]!.asset);
        expect(typeof l.resampling_method).toBe("string");
        // The scale turns the previous level's cells into this level's.
        const [sy, sx] = (l.transform as { scale: number[] }).scale as [number, number];
        const t = l["spatial:transform"] as number[];
        const p = layout[k - 1]!["spatial:transform"] as number[];
        expect(t[0]).toBeCloseTo(p[0]! * sx, 12);
        expect(t[4]).toBeCloseTo(p[4]! * sy, 12);
      });
    },
  );
});

describe("writers given a store with the old v1 declarations", () => {
  it("pyramid and a Zarr-to-Zarr convert write only v0.1 declarations", async () => {
    const src = join(dir, "old-plain.zarr");
    expect((await runCli("convert", SAMPLE, src, "--require-standard-name", "--workers", "0")).code).toBe(0);
    downgrade(src);
    expect(ajvFailures(nodeDocs(src)).length).toBeGreaterThan(0);
    const copy = join(dir, "old-copied.zarr");
    expect((await runCli("convert", src, copy, "--workers", "0")).code).toBe(0);
    expect((await runCli("pyramid", src, "--workers", "0")).code).toBe(0);
    for (const store of [src, copy]) {
      const docs = nodeDocs(store);
      expect(docs.filter((d) => d.doc.attributes?.zarr_conventions?.length).length).toBeGreaterThanOrEqual(3);
      expect(ajvFailures(docs), store).toEqual([]);
      const report = await validateStore(new FileSystemStore(store), store);
      expect(report.findings.filter((f) => f.rule === "GC-03")).toEqual([]);
    }
  });
});

describe("a store with the old v1 declarations", () => {
  it("fails the official schemas, in ajv and in Python's jsonschema", () => {
    const docs = nodeDocs(OLD);
    const failures = ajvFailures(docs);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.join("\n")).toMatch(/declaration: .*data\/name must be equal to constant/);
    const py = pythonFailures(docs, "old");
    expect(py.failures.length).toBeGreaterThan(0);
    expect(py.failures.join("\n")).toMatch(/declaration: (schema_url|spec_url|name) '.*' was expected/);
  });

  it("geozarr validate reads it (0 errors) and warns on each old declaration, with the v0.1 object as the fix", async () => {
    const report = await validateStore(new FileSystemStore(OLD), OLD);
    expect(report.summary.errors).toBe(0);
    const warnings = report.findings.filter((f) => f.severity === "warning");
    expect(new Set(warnings.map((f) => f.rule))).toEqual(new Set(["GC-03"]));
    const declarations = nodeDocs(OLD).reduce(
      (n, d) => n + (d.doc.attributes?.zarr_conventions?.length ?? 0),
      0,
    );
    expect(warnings).toHaveLength(declarations);
    const proj = warnings.find((f) => f.message.startsWith("proj "))!;
    expect(proj.message).toMatch(
      /^proj is declared in the v1 form \(the v1 tags were never published.*not v0\.1/,
    );
    expect(proj.fix).toContain(
      '"schema_url":"https://raw.githubusercontent.com/zarr-conventions/proj/refs/tags/v0.1/schema.json"',
    );
    expect(proj.fix).toContain('"name":"proj"');
    expect(report.conventions["/"]).toEqual([
      { name: "multiscales", version: "v1", uuid: "d35379db-88df-4056-af3a-620245f8e347", current: false },
      { name: "proj", version: "v1", uuid: "f17cb550-5864-4468-aeb7-f3180cfb622f", current: false },
      { name: "spatial", version: "v1", uuid: "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4", current: false },
    ]);
  });
});
