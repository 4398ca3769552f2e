import { describe, expect, test } from "bun:test";
import { encodeParams, queryEscape } from "./form-encoding.ts";

describe("queryEscape matches Go's url.QueryEscape", () => {
  test.each([
    { name: "unreserved characters stay", text: "AZaz09-_.~", expected: "AZaz09-_.~" },
    { name: "space becomes +", text: "a b", expected: "a+b" },
    { name: "sub-delimiters are escaped", text: "!'()*", expected: "%21%27%28%29%2A" },
    { name: "PromQL punctuation is escaped", text: 'x{a=~"b|c"}[5m]', expected: "x%7Ba%3D~%22b%7Cc%22%7D%5B5m%5D" },
    { name: "plus and percent are escaped", text: "+%", expected: "%2B%25" },
    { name: "non-ASCII is UTF-8 percent-encoded", text: "é✓", expected: "%C3%A9%E2%9C%93" },
  ])("$name", ({ text, expected }) => {
    expect(queryEscape(text)).toBe(expected);
  });
});

describe("encodeParams", () => {
  test("sorts keys and repeats a list value's key in order", () => {
    expect(encodeParams({ start: "1", "match[]": ["b", "a"], end: "2" })).toBe(
      "end=2&match%5B%5D=b&match%5B%5D=a&start=1",
    );
  });

  test("an empty list sends nothing for that key", () => {
    expect(encodeParams({ "match[]": [], time: "1" })).toBe("time=1");
  });
});
