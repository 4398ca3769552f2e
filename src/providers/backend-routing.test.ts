import { describe, expect, test } from "bun:test";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { parseRulesText } from "../config/load.ts";
import { rulesForBackend } from "../discovery/backend-relisters.ts";
import { buildMetricRegistry, mergeRegistries, type ExternalMetricEntry } from "../discovery/registry.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { routeQuery } from "./backend-routing.ts";

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
    expect(routeQuery(entry(), "team-a", undefined).extras).toBe(rule.queryExtras);
  });

  test("a named backend is added to the rule's extras; the default backend is never written", () => {
    const backends = () => compiled.backends;
    expect(routeQuery(entry(["default", "team-a"]), "team-a", backends).extras).toEqual({
      parameters: {},
      headers: { "X-Scope-OrgID": "t" },
      backend: "team-a",
    });
    expect(routeQuery(entry(["default", "team-a"]), "other", backends).extras).toBe(rule.queryExtras);
  });
});

describe("a metric several backends registered", () => {
  const twoTeams = compileRules(
    parseRulesText(
      `backends:
- {name: team-a, url: 'http://a', namespaces: [team-a]}
- {name: team-b, url: 'http://b', namespaces: [team-b]}
rules:
- seriesQuery: '{__name__=~"^queue_depth.*",namespace!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "^(queue_depth).*", as: "$1"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{__name__="queue_depth_a",namespace!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "^(queue_depth).*", as: "$1"}
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  prometheus: {backend: team-a}
`,
      "rules.yaml",
    ),
    () => mapper,
  );
  /** What `backend` registers when its rules see one series named `seriesName`. */
  const registryOf = (backend: string, seriesName: string) => {
    const rules = rulesForBackend(twoTeams, backend);
    const series = [{ name: seriesName, labelNames: ["__name__", "namespace", "pod"] }];
    return buildMetricRegistry(
      rules.custom.map((rule) => ({ rule, series })),
      [],
    ).registry;
  };
  const merged = mergeRegistries([
    { backend: "default", registry: buildMetricRegistry([], []).registry },
    { backend: "team-a", registry: registryOf("team-a", "queue_depth_a") },
    { backend: "team-b", registry: registryOf("team-b", "queue_depth_b") },
  ]);
  const queueDepth = merged.customMetric({ group: "", resource: "pods" }, true, "queue_depth")!;
  const route = (namespace: string) => routeQuery(queueDepth, namespace, () => twoTeams.backends);

  test("goes, for a namespace of the second backend, there with that backend's series name and rule", () => {
    const { entry, extras } = route("team-b");
    expect({ backend: extras?.backend, series: entry.seriesName, rule: entry.rule.id }).toEqual({
      backend: "team-b",
      series: "queue_depth_b",
      rule: twoTeams.custom[0]!.id,
    });
  });

  test("goes, for a namespace of the first backend, there with the rule naming that backend", () => {
    const { entry, extras } = route("team-a");
    expect({ backend: extras?.backend, series: entry.seriesName, rule: entry.rule.id }).toEqual({
      backend: "team-a",
      series: "queue_depth_a",
      rule: twoTeams.custom[1]!.id,
    });
  });
});
