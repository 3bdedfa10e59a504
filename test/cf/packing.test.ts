/** `valueOfType`: a missing_value as a value of the variable's type, as numpy's `dtype.type(mv)` casts it. */

import { describe, expect, it } from "vitest";
import { valueOfType } from "../../src/cf/packing.js";

describe("valueOfType (CF 1.11 §2.5.1)", () => {
  it("integers: numbers and digit text the type holds exactly, nothing else", () => {
    expect(valueOfType("12", "int8")).toBe(12);
    expect(valueOfType(" -3 ", "int16")).toBe(-3);
    expect(valueOfType(12, "uint8")).toBe(12);
    for (const v of ["12.5", "12.0", "not_numeric", "-1.e+34f", ""])
      expect(valueOfType(v, "int8"), v).toBeUndefined();
    expect(valueOfType(128, "int8")).toBeUndefined();
    expect(valueOfType(-1, "uint8")).toBeUndefined();
    expect(valueOfType(1e20, "int32")).toBeUndefined();
    expect(valueOfType(12.5, "int32")).toBeUndefined();
    expect(valueOfType("9223372036854775807", "int64")).toBe(9223372036854775807n);
    expect(valueOfType("9223372036854775808", "int64")).toBeUndefined();
    expect(valueOfType(18446744073709551615n, "uint64")).toBe(18446744073709551615n);
  });

  it("floats: any number or numeric text, float32 rounded as numpy rounds it", () => {
    expect(valueOfType("1e20", "float64")).toBe(1e20);
    expect(valueOfType(0.1, "float32")).toBe(Math.fround(0.1));
    expect(valueOfType("nan", "float32")).toBeNaN();
    expect(valueOfType("-1.e+34f", "float32")).toBeUndefined();
    expect(valueOfType("not_numeric", "float64")).toBeUndefined();
  });
});
