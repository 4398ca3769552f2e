import { describe, expect, test } from "bun:test";
import { parseSampleValue } from "../prometheus/sample-value.ts";
import {
  formatQuantity,
  INT64_MAX,
  INT64_MIN,
  milliUnitsFromFloat,
  parseQuantityMilliValue,
  QuantityParseError,
  quantityFromResourceUsage,
  quantityFromSample,
  type QuantityFormat,
} from "./quantity.ts";
import { vectorFileCases } from "../../test/support/vectors.ts";

type QuantityInput =
  | { kind: "amount"; mantissa: string; scale: number; format: string }
  | { kind: "sample" | "resourceUsage"; value: string; format: string }
  | { kind: "parseMilliValue"; quantity: string };

interface QuantityVector {
  name: string;
  input: QuantityInput;
  expected: string | number | null;
}

const vectors = vectorFileCases<QuantityVector>("quantity.json");

/** NB: the vectors carry an "invalid" format on purpose; it must print as DecimalExponent. */
const asFormat = (format: string) => format as QuantityFormat;

describe("quantity.json vectors", () => {
  test("covers every input kind", () => {
    const kinds = new Set(vectors.map((vector) => vector.input.kind));
    expect([...kinds].sort()).toEqual(["amount", "parseMilliValue", "resourceUsage", "sample"]);
  });

  test.each(vectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    const input = vector.input;
    switch (input.kind) {
      case "amount":
        expect(formatQuantity(BigInt(input.mantissa), input.scale, asFormat(input.format))).toBe(
          vector.expected as string,
        );
        break;
      case "sample":
        expect(quantityFromSample(parseSampleValue(input.value), asFormat(input.format))).toBe(
          vector.expected as string | null,
        );
        break;
      case "resourceUsage":
        expect(quantityFromResourceUsage(parseSampleValue(input.value), asFormat(input.format))).toBe(
          vector.expected as string,
        );
        break;
      case "parseMilliValue":
        expect(parseQuantityMilliValue(input.quantity)).toBe(BigInt(vector.expected as number));
        break;
    }
  });
});

describe("formatQuantity", () => {
  test.each([
    ["exponent 1 moves down to milli", 15n, -2, "DecimalSI", "150m"],
    ["exponent -1 moves down by two", 5n, -1, "DecimalSI", "500m"],
    ["exponent 4 moves down to kilo", 1n, 4, "DecimalSI", "10k"],
    ["exponent 5 moves down to kilo", 1n, 5, "DecimalSI", "100k"],
    ["exa is the largest SI suffix", 1n, 18, "DecimalSI", "1E"],
    ["beyond exa falls back to the exponent notation", 1n, 21, "DecimalSI", "1e21"],
    ["below nano falls back to the exponent notation", 1n, -12, "DecimalSI", "1e-12"],
    ["DecimalExponent prints no suffix at exponent 0", 7n, 0, "DecimalExponent", "7"],
    ["DecimalExponent keeps the multiple-of-three rule", 15n, 4, "DecimalExponent", "150e3"],
    ["BinarySI -1024 is not inside the DecimalSI window", -1024n, 0, "BinarySI", "-1Ki"],
    ["BinarySI -1023 falls back to DecimalSI", -1023n, 0, "BinarySI", "-1023"],
    ["BinarySI 1.5Gi prints in Mi", 1536n * 1024n * 1024n, 0, "BinarySI", "1536Mi"],
    ["BinarySI exact integer from milli", 2048000n, -3, "BinarySI", "2Ki"],
    ["BinarySI positive scale", 1024n, 3, "BinarySI", "1000Ki"],
    ["BinarySI Ei", 1n << 62n, 0, "BinarySI", "4Ei"],
    ["BinarySI int64 min keeps the bare number like Go's int64 path", INT64_MIN, 0, "BinarySI", "-9223372036854775808"],
    ["BinarySI beyond Ei prints the bare number like Go", 1n << 62n, 8, "BinarySI", "390625"],
    ["int64 min with a scale needing a multiply", INT64_MIN, -2, "DecimalSI", "-92233720368547758080m"],
    ["int64 max in whole units", INT64_MAX, 0, "DecimalSI", "9223372036854775807"],
  ] as const)("%s", (_name, mantissa, scale, format, expected) => {
    expect(formatQuantity(mantissa, scale, format)).toBe(expected);
  });

  test("rejects a fractional scale", () => {
    expect(() => formatQuantity(1n, 0.5, "DecimalSI")).toThrow(RangeError);
  });

  test("never prints a decimal point or a plus sign for milli-units", () => {
    let seed = 0x9e3779b9;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const mantissa = (BigInt(next()) << 32n) | BigInt(next());
      const signed = BigInt.asIntN(64, mantissa >> BigInt(next() % 64));
      for (const format of ["DecimalSI", "BinarySI"] as const) {
        const text = formatQuantity(signed, -3, format);
        expect(text).toMatch(/^-?[0-9]+(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi|Ei)?$/);
        if (signed !== 0n) expect(parseQuantityMilliValue(text)).toBe(signed);
      }
    }
  });
});

describe("milliUnitsFromFloat", () => {
  test.each([
    ["truncates 12.3456 toward zero", 12.3456, 12345n],
    ["truncates 1.005 toward zero", 1.005, 1004n],
    ["truncates negatives toward zero", -0.0004, 0n],
    ["maps -0 to 0", -0, 0n],
    ["is exact above 2^53", 2 ** 60 / 1000, 1152921504606846976n],
    ["clamps 2^63 to int64 max", 2 ** 63 / 1000, INT64_MAX],
    ["clamps huge finite values to int64 max", Number.MAX_VALUE, INT64_MAX],
    ["keeps -2^63", -(2 ** 63) / 1000, INT64_MIN],
    ["clamps below -2^63 to int64 min", -1e300, INT64_MIN],
  ] as const)("%s", (_name, value, expected) => {
    expect(milliUnitsFromFloat(value)).toBe(expected);
  });

  test("rejects NaN", () => {
    expect(() => milliUnitsFromFloat(Number.NaN)).toThrow(RangeError);
  });
});

describe("quantityFromSample", () => {
  test("prints NaN as zero and drops infinities", () => {
    expect(quantityFromSample(Number.NaN, "DecimalSI")).toBe("0");
    expect(quantityFromSample(Number.POSITIVE_INFINITY, "DecimalSI")).toBeNull();
    expect(quantityFromSample(Number.NEGATIVE_INFINITY, "BinarySI")).toBeNull();
  });

  test("a series wobbling around 10 prints as 10 and 10500m", () => {
    expect(quantityFromSample(10, "DecimalSI")).toBe("10");
    expect(quantityFromSample(10.5, "DecimalSI")).toBe("10500m");
  });
});

describe("quantityFromResourceUsage", () => {
  test("turns -Inf into zero", () => {
    expect(quantityFromResourceUsage(Number.NEGATIVE_INFINITY, "BinarySI")).toBe("0");
  });

  test("prints memory in binary units", () => {
    expect(quantityFromResourceUsage(256 * 1024 * 1024, "BinarySI")).toBe("256Mi");
  });
});

describe("parseQuantityMilliValue", () => {
  test.each([
    ["0", 0n],
    ["-", 0n],
    [".", 0n],
    ["1", 1000n],
    ["+1", 1000n],
    ["007", 7000n],
    ["1.", 1000n],
    [".5", 500n],
    ["-1.5", -1500n],
    ["1500m", 1500n],
    ["1004m", 1004n],
    ["1k", 1000000n],
    ["1P", 1000000000000000000n],
    ["1Ki", 1024000n],
    [".001Ki", 1024n],
    ["1.5Gi", 1610612736000n],
    ["80e-3", 80n],
    ["1e+3", 1000000n],
    ["1n", 1n],
    ["0.9n", 1n],
    ["1u", 1n],
    ["1001u", 2n],
    ["e5", 0n],
    ["1e-30", 1n],
  ] as const)("reads %p", (text, expected) => {
    expect(parseQuantityMilliValue(text)).toBe(expected);
  });

  test("reads the largest milli value and rejects one above it", () => {
    expect(parseQuantityMilliValue("9223372036854775807m")).toBe(INT64_MAX);
    expect(parseQuantityMilliValue("-9223372036854775808m")).toBe(INT64_MIN);
    expect(() => parseQuantityMilliValue("9223372036854775808m")).toThrow(RangeError);
    expect(() => parseQuantityMilliValue("1e100")).toThrow(RangeError);
    expect(() => parseQuantityMilliValue("1E")).toThrow(RangeError);
    expect(() => parseQuantityMilliValue("8Ei")).toThrow(RangeError);
  });

  test("refuses negative values finer than milli-units", () => {
    expect(() => parseQuantityMilliValue("-1n")).toThrow(RangeError);
  });

  test.each(["", "abc", "1x", "1.5.5", "1K", "1ki", "1e", "1ee5", " 1", "1 ", "1e+", "--1"])("rejects %p", (text) => {
    expect(() => parseQuantityMilliValue(text)).toThrow(QuantityParseError);
  });
});
