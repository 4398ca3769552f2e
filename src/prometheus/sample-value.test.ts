import { describe, expect, test } from "bun:test";
import { parseSampleValue } from "./sample-value.ts";

describe("parseSampleValue", () => {
  test.each([
    ["0.65", 0.65],
    ["1", 1],
    ["-1.5", -1.5],
    ["1e9", 1e9],
    ["1E-3", 1e-3],
    ["2.5e+3", 2500],
    [".5", 0.5],
    ["1.", 1],
    ["1.e2", 100],
    ["+7", 7],
    ["123456.789", 123456.789],
    ["1e-400", 0],
  ] as const)("parses the decimal %p", (text, expected) => {
    expect(parseSampleValue(text)).toBe(expected);
  });

  test("keeps the sign of negative zero", () => {
    expect(Object.is(parseSampleValue("-0"), -0)).toBe(true);
  });

  test.each(["NaN", "nan", "NAN"])("parses %p as NaN", (text) => {
    expect(parseSampleValue(text)).toBeNaN();
  });

  test.each(["+Inf", "Inf", "inf", "+inf", "INF", "Infinity", "+infinity"])("parses %p as +Inf", (text) => {
    expect(parseSampleValue(text)).toBe(Number.POSITIVE_INFINITY);
  });

  test.each(["-Inf", "-inf", "-Infinity"])("parses %p as -Inf", (text) => {
    expect(parseSampleValue(text)).toBe(Number.NEGATIVE_INFINITY);
  });

  test.each([
    "",
    " 1",
    "1 ",
    ".",
    "+",
    "1e",
    "e5",
    "0x10",
    "1_000",
    "+NaN",
    "-nan",
    "infin",
    "Infinityy",
    "abc",
    "1,5",
  ])("rejects %p", (text) => {
    expect(() => parseSampleValue(text)).toThrow(Error);
  });

  test("rejects a finite literal that overflows float64, like Go's ErrRange", () => {
    expect(() => parseSampleValue("1e400")).toThrow("out of range");
  });
});
