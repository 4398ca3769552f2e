import { describe, expect, test } from "bun:test";
import { parseRulesText } from "../../config/load.ts";
import { compileRules } from "../../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../apimachinery/rest-mapper.ts";
import { PrometheusError } from "../../prometheus/errors.ts";
import type { SeriesLabels } from "../../prometheus/types.ts";
import { discoverOnce, isUnreachable } from "./discovery-report.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compile = (text: string) => compileRules(parseRulesText(text, "rules.yaml"), () => mapper);

/** A series source answering from a table keyed by the match[] it gets; a PrometheusError value is thrown. */
function fakeSource(table: Record<string, readonly SeriesLabels[] | PrometheusError>) {
  const starts: number[] = [];
  return {
    starts,
    async series(matches: readonly string[], startSeconds: number) {
      starts.push(startSeconds);
      const answer = table[matches[0] as string];
      if (answer instanceof PrometheusError) throw answer;
      return [...(answer ?? [])];
    },
  };
}

const RULES = `rules:
- seriesQuery: 'requests'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: 'requests'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_count$, as: $1_per_second}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: 'temperature'
  resources: {overrides: {pod: {resource: pod}}}
  name: {matches: ^temp$, as: http_requests}
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
externalRules:
- seriesQuery: 'queues'
  resources: {namespaced: false}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
- seriesQuery: 'queues'
  resources: {namespaced: false}
  name: {matches: ^queue_(.*)$, as: queue_depth}
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>})
`;

describe("discoverOnce", () => {
  test("lists each seriesQuery once from now minus max age, and reports per rule what it produced and skipped", async () => {
    const source = fakeSource({
      requests: [
        { __name__: "http_requests_total", namespace: "default", pod: "a" },
        { __name__: "http_requests_total", namespace: "default", pod: "b" },
        { __name__: "http_requests_count", pod: "a" },
        { __name__: "build_total", instance: "x" },
      ],
      temperature: [{ __name__: "temp", pod: "a" }, { __name__: "other" }],
      queues: [{ __name__: "queue_depth" }],
    });
    const report = await discoverOnce(source, compile(RULES), 60_000, 1_000_000_000);
    expect(source.starts).toEqual([999_940, 999_940, 999_940]);
    expect(report.sinceMs).toBe(999_940_000);
    expect(report.seriesSeen).toBe(7);
    expect(
      report.rules.map(({ id, seriesMatched, shapes, metrics }) => ({ id, seriesMatched, shapes, metrics })),
    ).toEqual([
      {
        id: "rules[0]",
        seriesMatched: 4,
        shapes: 3,
        metrics: [
          {
            metric: "http_requests",
            resource: "namespaces",
            namespaced: false,
            series: "http_requests_total",
            overriddenBy: null,
          },
          {
            metric: "http_requests",
            resource: "pods",
            namespaced: true,
            series: "http_requests_total",
            overriddenBy: "rules[2]",
          },
        ],
      },
      { id: "rules[1]", seriesMatched: 4, shapes: 3, metrics: [] },
      {
        id: "rules[2]",
        seriesMatched: 2,
        shapes: 2,
        metrics: [{ metric: "http_requests", resource: "pods", namespaced: true, series: "temp", overriddenBy: null }],
      },
      {
        id: "externalRules[0]",
        seriesMatched: 1,
        shapes: 1,
        metrics: [
          {
            metric: "queue_depth",
            resource: null,
            namespaced: false,
            series: "queue_depth",
            overriddenBy: "externalRules[1]",
          },
        ],
      },
      {
        id: "externalRules[1]",
        seriesMatched: 1,
        shapes: 1,
        metrics: [
          { metric: "queue_depth", resource: null, namespaced: false, series: "queue_depth", overriddenBy: null },
        ],
      },
    ]);
    expect(report.rules[0]?.skipped).toEqual([
      { series: "http_requests_count", reason: "filtered", labelNames: ["pod"] },
      { series: "build_total", reason: "no-resource", labelNames: ["instance"], metric: "build" },
    ]);
    expect(report.rules[1]?.skipped.map((s) => [s.series, s.reason])).toEqual([
      ["http_requests_total", "filtered"],
      ["http_requests_count", "empty-name"],
      ["build_total", "filtered"],
    ]);
    expect(report.rules[2]?.skipped).toEqual([{ series: "other", reason: "filtered", labelNames: [] }]);
    expect(report.collisions).toEqual([
      {
        metric: "http_requests",
        resource: "pods",
        namespaced: true,
        rules: ["rules[0]", "rules[2]"],
        winner: "rules[2]",
      },
      {
        metric: "queue_depth",
        resource: null,
        namespaced: false,
        rules: ["externalRules[0]", "externalRules[1]"],
        winner: "externalRules[1]",
      },
    ]);
    expect(report.registry.customMetric({ group: "", resource: "pods" }, true, "http_requests")?.rule.id).toBe(
      "rules[2]",
    );
  });

  test("a seriesQuery Prometheus refuses is recorded on every rule using it; the others are still listed", async () => {
    const refused = new PrometheusError("api", 'bad_data: 1:1: parse error: unexpected "("', {
      endpoint: "series",
      url: "http://p/api/v1/series",
    });
    const report = await discoverOnce(
      fakeSource({ requests: refused, temperature: [{ __name__: "temp", pod: "a" }] }),
      compile(RULES),
      60_000,
      1_000_000_000,
    );
    expect(report.rules.map((rule) => [rule.id, rule.error])).toEqual([
      ["rules[0]", 'bad_data: 1:1: parse error: unexpected "("'],
      ["rules[1]", 'bad_data: 1:1: parse error: unexpected "("'],
      ["rules[2]", null],
      ["externalRules[0]", null],
      ["externalRules[1]", null],
    ]);
    expect(report.registry.customMetrics().map((entry) => entry.metric)).toEqual(["http_requests"]);
  });

  test.each([
    ["network", true],
    ["timeout", true],
    ["bad_response", true],
    ["api", false],
    ["too_large", false],
  ] as const)("a %s failure counts as unreachable: %p", async (kind, unreachable) => {
    const error = new PrometheusError(kind, `${kind}: x`, { endpoint: "series", url: "http://p/api/v1/series" });
    expect(isUnreachable(error)).toBe(unreachable);
    const run = discoverOnce(fakeSource({ requests: error }), compile(RULES), 60_000, 0);
    if (unreachable) await expect(run).rejects.toBe(error);
    else expect((await run).rules[0]?.error).toBe(`${kind}: x`);
  });
});
