import { describe, expect, test } from "bun:test";
import { formatLabels, formatTable } from "./table.ts";

describe("formatTable", () => {
  test("pads every column but the last to its widest cell, two spaces apart, without trailing spaces", () => {
    expect(
      formatTable(
        ["RULE", "SERIES", "QUERY"],
        [
          ["rules[0]", "3", "{a}"],
          ["externalRules[10]", "12", ""],
        ],
      ),
    ).toBe("RULE               SERIES  QUERY\nrules[0]           3       {a}\nexternalRules[10]  12\n");
  });

  test("indents every line and turns newlines and tabs inside cells into spaces", () => {
    expect(formatTable(["A", "B"], [["x\ny", "1\t2"]], 4)).toBe("    A    B\n    x y  1 2\n");
  });

  test("counts code points, not UTF-16 units, when padding", () => {
    expect(formatTable(["N", "V"], [["≥😀", "1"]])).toBe("N   V\n≥😀  1\n");
  });
});

describe("formatLabels", () => {
  test.each([
    ["no labels", {}, "{}"],
    ["labels sorted by name, values quoted", { pod: "a", namespace: 'de"f' }, '{namespace="de\\"f", pod="a"}'],
  ])("%s", (_name, labels, expected) => {
    expect(formatLabels(labels)).toBe(expected);
  });
});
