import { describe, expect, test } from "bun:test";
import { closestNames, editDistance, suffixVariants } from "./suggestions.ts";

describe("editDistance", () => {
  test.each([
    ["", "", 0],
    ["abc", "", 3],
    ["matchs", "matches", 1],
    ["kitten", "sitting", 3],
    ["pods", "pdos", 2],
  ])("%s -> %s is %d", (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe("closestNames", () => {
  test("returns close candidates, closest first, ties in candidate order, never the name itself", () => {
    expect(
      closestNames("http_request", ["http_requests", "http_request", "https_requests", "cpu_usage", "http_requests"]),
    ).toEqual(["http_requests", "https_requests"]);
  });

  test("compares case-insensitively and scales the allowed distance with the name's length (at most 3)", () => {
    expect(closestNames("Pod", ["pods", "node"])).toEqual(["pods"]);
    expect(closestNames("ab", ["abcd"])).toEqual([]);
    expect(closestNames("container_cpu_usage", ["container_cpu_usage_seconds"])).toEqual([]);
    expect(closestNames("metricQuery", ["metricsQuery", "seriesQuery"], 1)).toEqual(["metricsQuery"]);
  });
});

describe("suffixVariants", () => {
  test("finds names that differ by a common suffix such as _total or _per_second", () => {
    expect(
      suffixVariants("http_requests_total", [
        "http_requests",
        "http_requests_per_second",
        "grpc_requests",
        "http_requests_total",
      ]),
    ).toEqual(["http_requests", "http_requests_per_second"]);
    expect(suffixVariants("cpu", ["cpu_seconds_total", "memory_bytes"])).toEqual(["cpu_seconds_total"]);
  });
});
