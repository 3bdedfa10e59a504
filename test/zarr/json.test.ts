import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isGeoZarrError } from "../../src/errors.js";
import { encodeJson, jsonEqual, parseJsonLenient, toStrictJson } from "../../src/zarr/json.js";
import { python } from "../helpers/python.js";

describe("lenient JSON parsing", () => {
  it("parses strict JSON without findings", () => {
    expect(parseJsonLenient('{"a": [1, 2.5e3, "x", null, true]}', "doc")).toEqual({
      value: { a: [1, 2500, "x", null, true] },
      nonStandard: [],
    });
  });

  it("accepts bare NaN/Infinity/-Infinity and reports their JSON pointers", () => {
    const r = parseJsonLenient(
      '{"fill_value": NaN, "a/b": {"r": [-Infinity, Infinity]}, "t~": NaN}',
      "x/.zattrs",
    );
    expect(r.value).toEqual({
      fill_value: Number.NaN,
      "a/b": { r: [-Infinity, Infinity] },
      "t~": Number.NaN,
    });
    expect(r.nonStandard).toEqual(["/fill_value", "/a~1b/r/0", "/a~1b/r/1", "/t~0"]);
  });

  it.each([
    ['{"a": 1,}', "line 1 column 9"],
    ['{"a": nan}', "line 1 column 7"],
    ['{\n  "a": [1 2]\n}', "line 2 column 11"],
    ['{"a": "unterminated}', "unterminated string"],
    ["", "unexpected end of input"],
    ['{"a": 1} x', "unexpected content"],
  ])("rejects %j with a one-line message naming the document (%s)", (text, where) => {
    try {
      parseJsonLenient(text, "store/arr/.zarray");
      expect.unreachable();
    } catch (err) {
      expect(isGeoZarrError(err, "InvalidMetadata")).toBe(true);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^store\/arr\/\.zarray: invalid JSON: /);
      expect(msg).toContain(where);
      expect(msg).not.toContain("\n");
    }
  });
});

describe("strict JSON output", () => {
  it("escapes non-ASCII characters, as zarr-python writes metadata", () => {
    expect(toStrictJson({ area: "12°E – 18°E" }, 0)).toBe('{"area":"12\\u00b0E \\u2013 18\\u00b0E"}');
    expect(JSON.parse(toStrictJson({ s: "😀 ü" }, 0))).toEqual({ s: "😀 ü" });
  });

  it("reads integers beyond 2^53 exactly, as bigints", () => {
    const r = parseJsonLenient(
      '{"fill_value": 18446744073709551615, "x": 9007199254740993, "y": 1.5, "z": 12}',
      "d",
    );
    expect(r.value).toEqual({ fill_value: 18446744073709551615n, x: 9007199254740993n, y: 1.5, z: 12 });
  });

  it("keeps __proto__ as an ordinary key", () => {
    const r = parseJsonLenient('{"__proto__": {"polluted": NaN}}', "d").value as Record<string, unknown>;
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.keys(r)).toEqual(["__proto__"]);
  });

  it("writes NaN and the infinities as strings and bigints exactly", () => {
    expect(JSON.parse(toStrictJson({ a: Number.NaN, b: [Infinity, -Infinity] }, 0))).toEqual({
      a: "NaN",
      b: ["Infinity", "-Infinity"],
    });
    expect(toStrictJson({ c: 2n ** 63n - 1n }, 0)).toBe('{"c":9223372036854775807}');
  });

  it("writes floats beyond 2^53 with an exponent, so that they read back as floats (here and in Python)", () => {
    const text = toStrictJson(
      { missing_value: 1e20, m2: 1.0000000200408773e20, n: -1e300, big: 2n ** 64n - 2n },
      0,
    );
    expect(text).toBe(
      '{"missing_value":1e+20,"m2":1.0000000200408773e+20,"n":-1e+300,"big":18446744073709551614}',
    );
    expect(parseJsonLenient(text, "d").value).toEqual({
      missing_value: 1e20,
      m2: 1.0000000200408773e20,
      n: -1e300,
      big: 18446744073709551614n,
    });
    expect(
      python(
        "import sys, json; d = json.loads(sys.argv[1]); print(json.dumps([type(d[k]).__name__ for k in d]))",
        [text],
      ).trim(),
    ).toBe('["float", "float", "float", "int"]');
  });

  it("round-trips any JSON value through encode and lenient parse (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const back = parseJsonLenient(encodeJson(v), "p").value;
        // JSON itself cannot tell -0 from 0
        return jsonEqual(back, JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });

  it("bare special floats read leniently equal the strict document's parse once mapped (property)", () => {
    const special = fc.constantFrom(Number.NaN, Infinity, -Infinity);
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        special,
        fc.integer(),
        fc.string(),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie("node"), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (v) => {
        // Python's json.dumps(allow_nan=True) form: special floats as bare tokens
        const bare = JSON.stringify(v, (_k, x) =>
          typeof x === "number" && !Number.isFinite(x) ? `@@${x}@@` : x,
        ).replace(/"@@(NaN|Infinity|-Infinity)@@"/g, "$1");
        const r = parseJsonLenient(bare, "p");
        return jsonEqual(r.value, v);
      }),
      { numRuns: 300 },
    );
  });
});
