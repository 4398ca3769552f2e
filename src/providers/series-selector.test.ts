import { describe, expect, test } from "bun:test";
import { BadRequestError } from "../apimachinery/status.ts";
import { parseSeriesSelector } from "./series-selector.ts";

describe("parseSeriesSelector", () => {
  test.each([
    ["a prefix the Prometheus label-name check must anchor", "example.com/app=web"],
    ["a suffix the Prometheus label-name check must anchor", "app.kubernetes.io=web"],
    ["a leading digit", "1app=web"],
  ])("refuses a label name with %s (400)", (_what, selector) => {
    expect(() => parseSeriesSelector(selector, "labelSelector")).toThrow(BadRequestError);
  });

  test("accepts a label name of letters, digits and _", () => {
    const keys = parseSeriesSelector("app_name2=web", "labelSelector").map((requirement) => requirement.key);
    expect(keys).toEqual(["app_name2"]);
  });
});
