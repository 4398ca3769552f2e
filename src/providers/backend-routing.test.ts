import { describe, expect, test } from "bun:test";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { parseRulesText } from "../config/load.ts";
import type { ExternalMetricEntry } from "../discovery/registry.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { routedExtras } from "./backend-routing.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compiled = compileRules(
  parseRulesText(
    `backends:
- {name: team-a, url: 'http://a', namespaces: [team-a]}
externalRules:
- seriesQuery: q
  resources: {namespaced: false}
  metricsQuery: m
  prometheus: {headers: {X-Scope-OrgID: t}}
`,
    "rules.yaml",
  ),
  () => mapper,
);
const rule = compiled.external[0]!;
const entry = (backends?: string[]): ExternalMetricEntry => ({
  metric: "m",
  seriesName: "m",
  rule,
  namespaced: true,
  ...(backends === undefined ? {} : { backends }),
});

describe("the extras of a routed query", () => {
  test("without backends, the rule's own extras object is used as is (same cache key as before backends)", () => {
    expect(routedExtras(entry(), "team-a", undefined)).toBe(rule.queryExtras);
  });

  test("a named backend is added to the rule's extras; the default backend is never written", () => {
    const backends = () => compiled.backends;
    expect(routedExtras(entry(["default", "team-a"]), "team-a", backends)).toEqual({
      parameters: {},
      headers: { "X-Scope-OrgID": "t" },
      backend: "team-a",
    });
    expect(routedExtras(entry(["default", "team-a"]), "other", backends)).toBe(rule.queryExtras);
  });
});
