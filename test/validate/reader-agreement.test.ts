/**
 * One definition of valid (issue 12; issue 10 item 8): every store geozarr's reader refuses, the
 * validator reports with at least one error. "The reader refuses" is measured on the real read
 * path, not on the validator's helpers: open the hierarchy (consolidated metadata first, as every
 * command does), open every array, and decode its first chunk.
 *
 * The stores are the bundled sample (v2 and v3) broken one document at a time: a list of the
 * refusals we know (each with the rule that must name it, and checked to be refused), then random
 * edits of an array document, for which the implication must hold whatever the edit.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { isGeoZarrError, messageOf } from "../../src/errors.js";
import { validateStore } from "../../src/validate/validate.js";
import { openHierarchy } from "../../src/zarr/hierarchy.js";
import { type JsonObject, type JsonValue, parseJsonLenient, toStrictJson } from "../../src/zarr/json.js";
import { openArray, readChunk } from "../../src/zarr/read/array.js";
import type { MemoryStore } from "../../src/zarr/store/memory.js";
import { runCli } from "../helpers/cli.js";
import { edit, type SampleOptions, sampleStore, saveStore, setRaw } from "../helpers/stores.js";
import { tmpDir } from "../helpers/tmp.js";

const V2: SampleOptions = { zarrFormat: 2 };
const V3: SampleOptions = { zarrFormat: 3 };
const V3F: SampleOptions = { zarrFormat: 3, unpack: "float32" };

/**
 * Why the reader refuses the store's metadata, or null when it reads every array's first chunk.
 * Chunk bytes that do not decode under metadata the reader accepts (a codec dropped from the
 * list: zstd frames read as raw bytes) are a data fault, not a refusal: the validator reads no
 * chunks.
 */
async function readerRefuses(store: MemoryStore): Promise<string | null> {
  try {
    const h = await openHierarchy(store, { name: "s" });
    // Arrays set aside as unreadable are refused when asked for (getNode): that is the refusal.
    const [unreadable] = h.unsupported.values();
    if (unreadable) return unreadable.message;
    for (const n of h.nodes.values()) {
      if (n.meta.kind !== "array") continue;
      const a = openArray(store, n.path, n.meta, "s");
      await readChunk(
        a,
        n.meta.shape.map(() => 0),
      );
    }
    return null;
  } catch (err) {
    if (isGeoZarrError(err, "ChunkSize") || (err as Error).cause instanceof zarr.CodecPipelineError)
      return null;
    return messageOf(err);
  }
}

/** Drop the root's inline consolidated metadata (v3): readers then walk the node documents. */
function unconsolidate(s: MemoryStore): void {
  const r = parseJsonLenient(s.map.get("/zarr.json")!, "r").value as JsonObject;
  delete r.consolidated_metadata;
  setRaw(s, "/zarr.json", toStrictJson(r));
}

interface Case {
  name: string;
  store: SampleOptions;
  rule: string;
  brk(s: MemoryStore): void;
}

const CASES: Case[] = [
  {
    name: "uint8 with fill_value 300",
    store: V3,
    rule: "Z3-03",
    brk: (s) =>
      edit(s, "/sea_ice_fraction/zarr.json", (d) => {
        d.data_type = "uint8";
        d.fill_value = 300;
      }),
  },
  {
    name: "int16 fill_value beyond its range (v2)",
    store: V2,
    rule: "Z2-02",
    brk: (s) => edit(s, "/analysed_sst/.zarray", (d) => (d.fill_value = 1e6)),
  },
  {
    name: "a float fill_value that is not a number",
    store: V3F,
    rule: "Z3-03",
    brk: (s) => edit(s, "/analysed_sst/zarr.json", (d) => (d.fill_value = "nan")),
  },
  {
    // Without consolidated metadata, so that the reader reads the node's own document.
    name: "an unparseable zarr.json",
    store: V3,
    rule: "ZR-01",
    brk: (s) => {
      unconsolidate(s);
      setRaw(s, "/analysed_sst/zarr.json", '{"zarr_format": 3,, }');
    },
  },
  {
    name: "an unparseable root zarr.json",
    store: V3,
    rule: "ZR-01",
    brk: (s) => setRaw(s, "/zarr.json", "{"),
  },
  {
    name: "an unparseable .zmetadata",
    store: V2,
    rule: "ZR-01",
    brk: (s) => setRaw(s, "/.zmetadata", '{"metadata": '),
  },
  {
    name: "a .zmetadata without its metadata object",
    store: V2,
    rule: "ZC-01",
    brk: (s) => setRaw(s, "/.zmetadata", '{"zarr_consolidated_format": 1}'),
  },
  {
    name: "a .zmetadata whose .zarray contradicts the array's",
    store: V2,
    rule: "ZC-04",
    brk: (s) => {
      const z = parseJsonLenient(s.map.get("/.zmetadata")!, "z").value as JsonObject;
      // Stale: the array was rewritten with another compressor since.
      ((z.metadata as JsonObject)["analysed_sst/.zarray"] as JsonObject).compressor = { id: "lzma" };
      setRaw(s, "/.zmetadata", toStrictJson(z));
    },
  },
  {
    name: "inline consolidated metadata whose array contradicts the array's zarr.json",
    store: V3,
    rule: "ZC-04",
    brk: (s) => {
      const r = parseJsonLenient(s.map.get("/zarr.json")!, "r").value as JsonObject;
      const cm = r.consolidated_metadata as JsonObject;
      ((cm.metadata as JsonObject).analysed_sst as JsonObject).chunk_key_encoding = { name: "v9" };
      setRaw(s, "/zarr.json", toStrictJson(r));
    },
  },
  {
    name: "an unknown v3 codec",
    store: V3,
    rule: "ZR-03",
    brk: (s) => edit(s, "/lat/zarr.json", (d) => ((d.codecs as JsonObject[])[1]!.name = "lzma")),
  },
  {
    name: "an unknown v2 compressor",
    store: V2,
    rule: "ZR-03",
    brk: (s) => edit(s, "/lat/.zarray", (d) => (d.compressor = { id: "lzma" })),
  },
  {
    name: "an unknown v2 filter",
    store: V2,
    rule: "ZR-03",
    brk: (s) => edit(s, "/lat/.zarray", (d) => (d.filters = [{ id: "quantize", digits: 3 }])),
  },
  {
    name: "storage_transformers",
    store: V3,
    rule: "Z3-10",
    brk: (s) =>
      edit(s, "/analysed_sst/zarr.json", (d) => (d.storage_transformers = [{ name: "chunk-manifest-json" }])),
  },
  {
    name: "an unknown chunk_key_encoding",
    store: V3,
    rule: "ZR-02",
    brk: (s) => edit(s, "/lat/zarr.json", (d) => (d.chunk_key_encoding = { name: "v9" })),
  },
  {
    name: "an unsupported data_type",
    store: V3,
    rule: "ZR-02",
    brk: (s) => edit(s, "/lat/zarr.json", (d) => (d.data_type = "complex64")),
  },
  {
    name: "a group with node_type banana",
    store: V3,
    rule: "ZR-02",
    brk: (s) => edit(s, "/zarr.json", (d) => (d.node_type = "banana")),
  },
  {
    name: "a group with zarr_format 2 in zarr.json",
    store: V3,
    rule: "ZR-02",
    brk: (s) => edit(s, "/zarr.json", (d) => (d.zarr_format = 2)),
  },
  {
    name: "attributes that are not an object",
    store: V3,
    rule: "ZR-02",
    brk: (s) => edit(s, "/lat/zarr.json", (d) => (d.attributes = [1])),
  },
  {
    name: "a v2 .zattrs that is a list",
    store: V2,
    rule: "ZR-02",
    brk: (s) => {
      setRaw(s, "/lat/.zattrs", "[1, 2]");
      const z = parseJsonLenient(s.map.get("/.zmetadata")!, "z").value as JsonObject;
      (z.metadata as JsonObject)["lat/.zattrs"] = [1, 2];
      setRaw(s, "/.zmetadata", toStrictJson(z));
    },
  },
  {
    name: "a structured v2 dtype",
    store: V2,
    rule: "ZR-02",
    brk: (s) => edit(s, "/lat/.zarray", (d) => (d.dtype = [["a", "<f4"]] as unknown as JsonValue)),
  },
  {
    name: "a v2 order that is neither C nor F",
    store: V2,
    rule: "ZR-02",
    brk: (s) => edit(s, "/lat/.zarray", (d) => (d.order = "X")),
  },
  {
    name: "a codec configuration that is not an object",
    store: V3,
    rule: "ZR-02",
    brk: (s) => edit(s, "/lat/zarr.json", (d) => ((d.codecs as JsonObject[])[1]!.configuration = "fast")),
  },
];

describe("the validator reports every store the reader refuses", () => {
  it.each(CASES)("$name: the reader refuses it, validate reports $rule as an error", async (c) => {
    const s = await sampleStore(c.store);
    expect(await readerRefuses(s), "the unbroken sample reads").toBeNull();
    c.brk(s);
    expect(await readerRefuses(s), "the reader refuses the broken store").not.toBeNull();
    const report = await validateStore(s, "s");
    const errors = report.findings.filter((f) => f.severity === "error");
    expect(
      errors.map((f) => f.rule),
      JSON.stringify(errors),
    ).toContain(c.rule);
    for (const f of errors) expect(f.message).not.toContain("the rule failed to run");
  });

  it("a valid array document nested 100,000 levels deep in its attributes: the reader's depth limit, ZR-01", async () => {
    const s = await sampleStore(V3);
    unconsolidate(s);
    const doc = parseJsonLenient(s.map.get("/lat/zarr.json")!, "d").value as JsonObject;
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    setRaw(
      s,
      "/lat/zarr.json",
      toStrictJson(doc).replace(/"attributes":\s*\{/, `"attributes": {"x": ${deep},`),
    );
    expect(await readerRefuses(s)).toMatch(/lat\/zarr\.json: invalid JSON: nested deeper than \d+ levels/);
    const report = await validateStore(s, "s");
    expect(report.findings.filter((f) => f.rule === "ZR-01")).toEqual([
      {
        rule: "ZR-01",
        severity: "error",
        path: "/lat",
        pointer: "",
        message: expect.stringMatching(/^zarr\.json cannot be read as JSON: nested deeper than \d+ levels$/),
        fix: "rewrite the document as valid JSON",
      },
    ]);
  });

  it("a shape past 2^53 (read as a bigint): the reader refuses it, ZR-02 names the array", async () => {
    const s = await sampleStore(V3);
    unconsolidate(s);
    const text = new TextDecoder().decode(s.map.get("/lat/zarr.json")!);
    setRaw(s, "/lat/zarr.json", text.replace(/"shape":\s*\[\s*719\s*\]/, '"shape": [18446744073709551616]'));
    expect(await readerRefuses(s)).toMatch(/more than the largest length supported here/);
    const report = await validateStore(s, "s");
    const zr02 = report.findings.filter((f) => f.rule === "ZR-02");
    expect(zr02.map((f) => [f.path, f.message])).toEqual([
      [
        "/lat",
        expect.stringMatching(
          /^geozarr cannot read this array: "shape"\[0\] is 18446744073709551616, more than/,
        ),
      ],
    ]);
  });

  it("random edits of an array document: whenever the reader refuses the store, validate has an error", async () => {
    const base = await sampleStore(V3);
    const doc = parseJsonLenient(base.map.get("/sea_ice_fraction/zarr.json")!, "d").value as JsonObject;
    const fields = Object.keys(doc).filter((k) => k !== "attributes");
    const value = fc.oneof(
      fc.constantFrom<JsonValue>(
        null,
        true,
        0,
        -1,
        1.5,
        300,
        1e20,
        "",
        "NaN",
        "0x7fc00000",
        "uint8",
        "float32",
        "v2",
      ),
      fc.constantFrom<JsonValue>([], [1], [1, 719, 1440], [0, 0, 0], { name: "regular" }, { name: "zstd" }),
      fc.constantFrom<JsonValue>(
        [{ name: "bytes", configuration: { endian: "little" } }],
        [{ name: "gzip", configuration: { level: 1 } }],
      ),
    );
    let refusals = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), value, fc.boolean(), async (field, v, drop) => {
        const s = await sampleStore(V3);
        edit(s, "/sea_ice_fraction/zarr.json", (d) => {
          if (drop) delete d[field];
          else d[field] = v;
        });
        const refused = await readerRefuses(s);
        if (refused === null) return;
        refusals++;
        const report = await validateStore(s, "s");
        expect(
          report.summary.errors,
          `${field} = ${drop ? "(deleted)" : JSON.stringify(v)}: ${refused}`,
        ).toBeGreaterThan(0);
      }),
      { numRuns: 80, seed: 12 },
    );
    // The generator does produce refusals (the property is not vacuous).
    expect(refusals).toBeGreaterThan(20);
  });
});

describe("geozarr info and geozarr validate agree", () => {
  const dir = tmpDir("agree");
  it("on a uint8 array with fill_value 300: info exits 3 naming the key, validate exits 1 with Z3-03", async () => {
    const s = await sampleStore(V3);
    edit(s, "/sea_ice_fraction/zarr.json", (d) => {
      d.data_type = "uint8";
      d.fill_value = 300;
    });
    const path = saveStore(s, `${dir}/fill300.zarr`);
    const info = await runCli("info", path);
    expect(info.code).toBe(3);
    expect(info.stderr.trim().split("\n")).toHaveLength(1);
    expect(info.stderr).toMatch(
      /^geozarr: error: .*sea_ice_fraction: fill_value 300 is out of range for uint8\n$/,
    );
    const v = await runCli("validate", "--json", path);
    expect(v.code).toBe(1);
    const f = JSON.parse(v.stdout).findings.filter((x: { severity: string }) => x.severity === "error");
    expect(f).toEqual([
      {
        rule: "Z3-03",
        severity: "error",
        path: "/sea_ice_fraction",
        pointer: "/fill_value",
        message: "fill_value 300 is out of range for uint8",
        fix: "use a value within the range of uint8",
      },
    ]);
  });

  it("on an unparseable zarr.json: info exits 3, validate exits 1 with ZR-01 naming the document", async () => {
    const s = await sampleStore(V3);
    unconsolidate(s);
    setRaw(s, "/lat/zarr.json", '{"zarr_format": 3, "node_type": "array"');
    const path = saveStore(s, `${dir}/broken.zarr`);
    expect((await runCli("info", path)).code).toBe(3);
    const v = await runCli("validate", "--json", path);
    expect(v.code).toBe(1);
    const f = JSON.parse(v.stdout).findings.filter((x: { rule: string }) => x.rule === "ZR-01");
    expect(f).toEqual([
      {
        rule: "ZR-01",
        severity: "error",
        path: "/lat",
        pointer: "",
        message: "zarr.json cannot be read as JSON: expected ',' or '}' at line 1 column 40",
        fix: "rewrite the document as valid JSON",
      },
    ]);
  });
});
