import { describe, expect, test } from "bun:test";
import { parseRulesText } from "../config/load.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import { PrometheusError } from "../prometheus/errors.ts";
import type { PromQL } from "../naming/promql.ts";
import type { QueryResult } from "../prometheus/types.ts";
import { buildMetricRegistry } from "../discovery/registry.ts";
import type { QueryCache } from "../prometheus/query-cache.ts";
import { ApiError } from "../apimachinery/status.ts";
import { createExternalMetricsProvider, type ExternalMetricValue } from "./external-metrics-provider.ts";

const RULES = `externalRules:
- seriesQuery: '{__name__="queue_depth",namespace!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
- seriesQuery: '{__name__="cluster_backlog"}'
  resources: {namespaced: false}
  metricsQuery: <<.Series>>{<<.LabelMatchers>>}
`;
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compiled = compileRules(parseRulesText(RULES, "rules.yaml"), () => mapper);
const { registry } = buildMetricRegistry(
  [],
  [
    { rule: compiled.external[0]!, series: [{ name: "queue_depth", labelNames: ["namespace", "queue"] }] },
    { rule: compiled.external[1]!, series: [{ name: "cluster_backlog", labelNames: ["region"] }] },
  ],
);

const T = 1_714_564_800; // 2024-05-01T12:00:00Z
const vector = (...samples: [Record<string, string>, string, number?][]): QueryResult => ({
  resultType: "vector",
  result: samples.map(([metric, value, time = T]) => ({ metric, value, timestampSeconds: time })),
});

/** A QueryCache that answers every query with `answer` and records the queries. */
function fakeQueries(answer: (query: PromQL) => QueryResult | Error) {
  const queries: string[] = [];
  const cache: QueryCache = {
    async get(query) {
      queries.push(query);
      const result = answer(query);
      if (result instanceof Error) throw result;
      return result;
    },
    size: () => 0,
    clear: () => {},
  };
  return { cache, queries };
}

function provider(answer: (query: PromQL) => QueryResult | Error) {
  const { cache, queries } = fakeQueries(answer);
  const logger = createMemoryLogger();
  return {
    provider: createExternalMetricsProvider({ registry: () => registry, queries: cache, logger }),
    queries,
    logs: logger.lines,
  };
}

async function rejection(
  promise: Promise<unknown>,
): Promise<{ code: number; reason: string; message: string; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { code: error.code, reason: error.reason, message: error.message, details: error.details };
  }
  throw new Error("expected a rejection");
}

describe("external metric values", () => {
  test.each<[string, QueryResult, ExternalMetricValue[]]>([
    [
      "a vector gives one value per sample, in Prometheus order, labels sorted, at the sample time",
      vector([{ queue: "orders", env: "prod" }, "42"], [{ queue: "billing" }, "0.65", T - 30]),
      [
        { metric: "queue_depth", labels: { env: "prod", queue: "orders" }, timestampMs: T * 1000, value: "42" },
        { metric: "queue_depth", labels: { queue: "billing" }, timestampMs: (T - 30) * 1000, value: "650m" },
      ],
    ],
    [
      "a sample without labels has empty metricLabels",
      vector([{}, "7"]),
      [{ metric: "queue_depth", labels: {}, timestampMs: T * 1000, value: "7" }],
    ],
    [
      "__name__ is kept when the query keeps it",
      vector([{ __name__: "queue_depth", queue: "a" }, "1"]),
      [{ metric: "queue_depth", labels: { __name__: "queue_depth", queue: "a" }, timestampMs: T * 1000, value: "1" }],
    ],
    [
      "a scalar gives one value with null labels at the scalar's time",
      { resultType: "scalar", result: { value: "1.5", timestampSeconds: T + 0.25 } },
      [{ metric: "queue_depth", labels: null, timestampMs: (T + 0.25) * 1000, value: "1500m" }],
    ],
    ["an empty vector gives no values", vector(), []],
    [
      "NaN prints 0",
      vector([{ queue: "a" }, "NaN"]),
      [{ metric: "queue_depth", labels: { queue: "a" }, timestampMs: T * 1000, value: "0" }],
    ],
    [
      "infinite samples are dropped",
      vector([{ queue: "a" }, "+Inf"], [{ queue: "b" }, "3"], [{ queue: "c" }, "-Inf"]),
      [{ metric: "queue_depth", labels: { queue: "b" }, timestampMs: T * 1000, value: "3" }],
    ],
    [
      "an infinite scalar gives no values",
      { resultType: "scalar", result: { value: "+Inf", timestampSeconds: T } },
      [],
    ],
  ])("%s", async (_, result, expected) => {
    const { provider: external } = provider(() => result);
    expect(await external.getValues({ namespace: "default", metric: "queue_depth", labelSelector: "" })).toEqual(
      expected,
    );
  });

  test("dropped infinite samples are logged", async () => {
    const { provider: external, logs } = provider(() => vector([{ queue: "a" }, "+Inf"]));
    await external.getValues({ namespace: "default", metric: "queue_depth", labelSelector: "" });
    expect(logs.some((line) => line.includes("dropping an infinite sample") && line.includes("+Inf"))).toBe(true);
  });
});

describe("external metric queries", () => {
  test.each([
    ["the namespace matcher comes last", "default", "", 'sum(queue_depth{namespace="default"}) by (queue)'],
    [
      "selector requirements come first, sorted by key",
      "team-a",
      "queue in (orders,billing),env=prod",
      'sum(queue_depth{env="prod",queue=~"billing|orders",namespace="team-a"}) by (queue)',
    ],
    [
      "exists and does-not-exist become empty-value matchers",
      "default",
      "canary,!legacy",
      'sum(queue_depth{canary!="",legacy="",namespace="default"}) by (queue)',
    ],
  ])("%s", async (_, namespace, labelSelector, query) => {
    const { provider: external, queries } = provider(() => vector());
    await external.getValues({ namespace, metric: "queue_depth", labelSelector });
    expect(queries).toEqual([query]);
  });

  test("namespaced: false rules ignore the URL namespace", async () => {
    const { provider: external, queries } = provider(() => vector());
    await external.getValues({ namespace: "anything", metric: "cluster_backlog", labelSelector: "region=eu" });
    expect(queries).toEqual(['cluster_backlog{region="eu"}']);
  });
});

describe("external metric errors", () => {
  test.each<
    [
      string,
      { metric?: string; labelSelector?: string; answer?: QueryResult | Error },
      { code: number; reason: string; message: string; details?: unknown },
    ]
  >([
    [
      "an unknown metric is a 404 naming the namespace",
      { metric: "nope" },
      { code: 404, reason: "NotFound", message: "the server could not find the metric nope for namespaces team-a" },
    ],
    [
      "a malformed selector is a 400",
      { labelSelector: "a b" },
      {
        code: 400,
        reason: "BadRequest",
        message:
          "unable to parse labelSelector: unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
      },
    ],
    [
      "a greater-than selector is a 400",
      { labelSelector: "size>3" },
      { code: 400, reason: "BadRequest", message: "operator not supported by prometheus" },
    ],
    [
      "a less-than selector is a 400",
      { labelSelector: "size<3" },
      { code: 400, reason: "BadRequest", message: "operator not supported by prometheus" },
    ],
    [
      "a matrix result is a 500 without reason",
      { answer: { resultType: "matrix", result: [{ metric: {}, values: [{ timestampSeconds: T, value: "1" }] }] } },
      { code: 500, reason: "", message: "encountered an unexpected query result type", details: undefined },
    ],
    [
      "a string result is a 500 without reason",
      { answer: { resultType: "string", result: { timestampSeconds: T, value: "hello" } } },
      { code: 500, reason: "", message: "encountered an unexpected query result type", details: undefined },
    ],
    [
      "a Prometheus failure is a 500 that hides the cause",
      {
        answer: new PrometheusError("network", "network: connection refused", {
          endpoint: "query",
          url: "http://prometheus/api/v1/query",
        }),
      },
      {
        code: 500,
        reason: "InternalError",
        message: "Internal error occurred: unable to fetch metrics",
        details: { causes: [{ message: "unable to fetch metrics" }] },
      },
    ],
    [
      "an unparsable sample value is a 500",
      { answer: vector([{}, "twelve"]) },
      {
        code: 500,
        reason: "InternalError",
        message: "Internal error occurred: unable to fetch metrics",
        details: { causes: [{ message: "unable to fetch metrics" }] },
      },
    ],
  ])("%s", async (_, { metric = "queue_depth", labelSelector = "", answer = vector() }, expected) => {
    const { provider: external } = provider(() => answer);
    const error = await rejection(external.getValues({ namespace: "team-a", metric, labelSelector }));
    expect(error).toMatchObject(expected);
  });

  test("the 404 for an unknown metric comes before running any query", async () => {
    const { provider: external, queries } = provider(() => vector());
    await rejection(external.getValues({ namespace: "default", metric: "nope", labelSelector: "" }));
    expect(queries).toEqual([]);
  });
});
