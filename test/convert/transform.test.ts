import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyTransform } from "../../src/convert/transform.js";

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

describe("unpack (xarray's mask_and_scale)", () => {
  it("decodes every int16 value: missing values to NaN, others raw * scale + offset", () => {
    const raw = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const out = new Float64Array(raw.length);
    applyTransform({ kind: "unpack", scale: 0.001, offset: 298.15, missing: [-32768, -32767] }, raw, out);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      expect(same(out[i]!, v === -32768 || v === -32767 ? Number.NaN : v * 0.001 + 298.15), `raw ${v}`).toBe(
        true,
      );
    }
  });

  it("in float32, rounds as numpy does: fround(fround(fround(raw) * scale) + offset)", () => {
    const raw = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    const out = new Float32Array(256);
    applyTransform({ kind: "unpack", scale: 0.01, offset: 0, missing: [-128], float32: true }, raw, out);
    const f = Math.fround;
    for (let i = 1; i < 256; i++) expect(out[i]).toBe(f(f(f(raw[i]!) * f(0.01)) + f(0)));
    expect(out[0]).toBeNaN();
  });

  it("gives the same values through the lookup table and the direct loop (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 3 }),
        fc.boolean(),
        (values, scale, offset, missing, float32) => {
          const t = { kind: "unpack" as const, scale, offset, missing, float32 };
          const viaLut = new Float64Array(values.length);
          const direct = new Float64Array(values.length);
          applyTransform(t, Int16Array.from(values), viaLut); // 16-bit: lookup table
          applyTransform(t, Int32Array.from(values), direct); // 32-bit: computed
          return values.every((_, i) => same(viaLut[i]!, direct[i]!));
        },
      ),
      { numRuns: 300 },
    );
  });
});
