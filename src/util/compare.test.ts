import { describe, expect, test } from "bun:test";
import { compareEntryKeys, compareStrings } from "./compare.ts";

/** The UTF-8 bytes of a string, compared as Go compares strings. */
function byteOrder(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return Math.sign(x.length - y.length);
}

describe("compareStrings", () => {
  test.each([
    ["equal strings", "pod", "pod", 0],
    ["a prefix sorts first", "pod", "pods", -1],
    ["ASCII by code", "Pod", "pod", -1],
    ["a code point above U+FFFF sorts after U+FFFD, as in UTF-8", "\u{1F600}", "\uFFFD", 1],
    ["U+E000 sorts before a code point above U+FFFF", "\uE000", "\u{10000}", -1],
  ])("%s", (_name, a, b, expected) => {
    expect(compareStrings(a, b)).toBe(expected);
    expect(compareStrings(b, a)).toBe(-expected || 0);
  });

  test("agrees with UTF-8 byte order on mixed samples", () => {
    const samples = ["", "a", "b", "ab", "é", "\uFFFF", "\u{10FFFF}", "\u{1F600}a", "z\uE000", "z\u{10000}", "日本"];
    for (const a of samples) for (const b of samples) expect(compareStrings(a, b)).toBe(byteOrder(a, b));
  });

  test("compareEntryKeys orders entries by key only", () => {
    expect(
      (
        [
          ["b", 1],
          ["a", 2],
        ] as [string, number][]
      ).sort(compareEntryKeys),
    ).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });
});
