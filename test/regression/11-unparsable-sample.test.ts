/**
 * Issue 11, "also found": a Prometheus sample value that is not a float fails like an unreachable Prometheus, the
 * same way in the custom, external and resource providers, and is never cached. Before, the custom provider
 * answered "an unexpected error occurred" and the bad result stayed cached for the TTL; the resource provider
 * served the pod with usage 0.
 */
import { describe, expect, test } from "bun:test";
import { parseRulesText } from "../../src/config/load.ts";
import { compileRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../../src/observability/logger.ts";
import { UnparsableSampleError } from "../../src/prometheus/sample-value.ts";
import { promql } from "../../src/naming/promql.ts";
import type { QueryResult } from "../../src/prometheus/types.ts";
import { createCustomMetricsProvider } from "../../src/providers/custom-metrics-provider.ts";
import { createExternalMetricsProvider } from "../../src/providers/external-metrics-provider.ts";
import { createResourceMetricsProvider } from "../../src/providers/resource-metrics-provider.ts";
import { buildMetricRegistry } from "../../src/discovery/registry.ts";
import { createQueryCache, type QuerySource } from "../../src/prometheus/query-cache.ts";
import { createApp } from "../../src/app/compose.ts";

const T = 1_714_564_800;
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const RULES = `rules:
- seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "$1"}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
externalRules:
- seriesQuery: '{__name__="queue_depth",namespace!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
resourceRules:
  cpu:
    containerQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
    nodeQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[5m])) by (<<.GroupBy>>)
    resources: {overrides: {instance: {resource: node}, namespace: {resource: namespace}, pod: {resource: pod}}}
    containerLabel: container
  memory:
    containerQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id='/'}) by (<<.GroupBy>>)
    resources: {overrides: {instance: {resource: node}, namespace: {resource: namespace}, pod: {resource: pod}}}
    containerLabel: container
  window: 5m
`;
const compiled = compileRules(parseRulesText(RULES, "rules.yaml"), () => mapper);
const { registry } = buildMetricRegistry(
  [{ rule: compiled.custom[0]!, series: [{ name: "http_requests_total", labelNames: ["namespace", "pod"] }] }],
  [{ rule: compiled.external[0]!, series: [{ name: "queue_depth", labelNames: ["namespace", "queue"] }] }],
);

/** A Prometheus whose every sample has the value `value` (mutable), with the labels every query here groups by. */
function prometheusAnswering() {
  const state = { value: "not-a-number", calls: 0 };
  const source: QuerySource = {
    async query(): Promise<QueryResult> {
      state.calls += 1;
      const metric = { namespace: "default", pod: "web-0", container: "app", queue: "jobs" };
      return { resultType: "vector", result: [{ metric, value: state.value, timestampSeconds: T }] };
    },
  };
  return { state, source };
}

/** A query cache with a 60 s TTL on a clock that never moves: whatever it keeps, it keeps. */
const cacheOver = (source: QuerySource) =>
  createQueryCache({ source, now: () => T * 1000, ttl: 60_000, monotonicNow: () => 0 });

describe("an unparsable sample value", () => {
  test("is not cached: the query cache refuses the result and asks Prometheus again within the TTL", async () => {
    const prometheus = prometheusAnswering();
    const cache = cacheOver(prometheus.source);
    const first = await cache.get(promql("up")).then(
      () => "served",
      (error: unknown) => error,
    );
    prometheus.state.value = "1.5";
    const second = await cache.get(promql("up"));
    const { calls } = prometheus.state;
    expect({ first: first instanceof UnparsableSampleError, second: second.resultType, calls }).toEqual({
      first: true,
      second: "vector",
      calls: 2,
    });
  });

  test.each([
    ["custom", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/web-0/http_requests"],
    ["external", "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth"],
  ])("gives the %s API a 500 'unable to fetch metrics', cause logged, then the next answer", async (_api, path) => {
    const prometheus = prometheusAnswering();
    const logger = createMemoryLogger(1);
    const queries = cacheOver(prometheus.source);
    const app = createApp({
      logger,
      readiness: () => null,
      selfMetrics: { text: async () => "", contentType: "text/plain" },
      customMetrics: () => ({
        registry: () => registry,
        provider: createCustomMetricsProvider({
          registry: () => registry,
          mapper: () => mapper,
          queries,
          now: () => T * 1000,
          logger,
        }),
      }),
      externalMetrics: () => ({
        registry: () => registry,
        provider: createExternalMetricsProvider({ registry: () => registry, queries, logger }),
      }),
    });
    const failed = await app.handle(new Request(`https://127.0.0.1:6443${path}`));
    const failure = { status: failed.status, message: ((await failed.json()) as { message: string }).message };
    prometheus.state.value = "1.5";
    const next = await app.handle(new Request(`https://127.0.0.1:6443${path}`));
    expect({ failure, logged: logger.lines.some((line) => line.includes("not-a-number")), next: next.status }).toEqual({
      failure: { status: 500, message: "Internal error occurred: unable to fetch metrics" },
      logged: true,
      next: 200,
    });
  });

  test("makes the resource API skip the pod as on a Prometheus failure (logged), never serve usage 0", async () => {
    const prometheus = prometheusAnswering();
    const logger = createMemoryLogger(1);
    const pods = [{ namespace: "default", name: "web-0", labels: {} }];
    const provider = createResourceMetricsProvider({
      rules: () => compiled.resource!,
      objects: {
        listPods: async () => pods,
        getPod: async () => pods[0]!,
        listNodes: async () => [],
        getNode: async () => null,
      },
      prometheus: prometheus.source,
      now: () => T * 1000,
      logger,
    });
    const listed = await provider.listPods("default", { labelSelector: "", fieldSelector: "" });
    prometheus.state.value = "0.25";
    const next = await provider.listPods("default", { labelSelector: "", fieldSelector: "" });
    expect({
      listed: listed.length,
      logged: logger.lines.some((line) => line.includes("unable to fetch metrics") && line.includes("not-a-number")),
      next: next.length,
    }).toEqual({ listed: 0, logged: true, next: 1 });
  });
});
