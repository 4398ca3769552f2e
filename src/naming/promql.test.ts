import { describe, expect, test } from "bun:test";
import { labelMatcher } from "./promql.ts";

describe("labelMatcher", () => {
  test.each([
    ["=", 'l="v"'],
    ["!=", 'l!="v"'],
    ["=~", 'l=~"v"'],
    ["!~", 'l!~"v"'],
  ] as const)("joins label, %s and the quoted value", (op, expected) => {
    expect(labelMatcher("l", op, "v")).toBe(expected);
  });
});
