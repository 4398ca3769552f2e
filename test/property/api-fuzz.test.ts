/**
 * Fuzzes the HTTP surface with what clients can send: random paths (encoded, malformed, unicode, `..`, empty
 * segments) and random selectors, through the real app, providers, templates and registry, with a Prometheus that
 * always answers. Client input must never produce a 5xx, an exception, or a body that is not JSON.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_RULES_TEXT } from "../../src/config/defaults.ts";
import { parseRulesText } from "../../src/config/load.ts";
import { collapseShapes } from "../../src/discovery/series-lister.ts";
import { compileRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { QueryResult } from "../../src/prometheus/types.ts";
import { createCustomMetricsProvider } from "../../src/providers/custom-metrics-provider.ts";
import { buildMetricRegistry } from "../../src/discovery/registry.ts";
import { createQueryCache } from "../../src/prometheus/query-cache.ts";
import { createApp } from "../../src/app/compose.ts";
import { createRandom } from "../support/go-strings.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const rules = compileRules(parseRulesText(DEFAULT_RULES_TEXT, "default.yaml"), () => mapper);
const shapes = collapseShapes([
  { __name__: "http_requests_total", namespace: "default", pod: "web-0", service: "web" },
  { __name__: "queue_length", namespace: "default", pod: "web-0", node: "n1" },
]);
const { registry } = buildMetricRegistry(
  rules.custom.map((rule) => ({ rule, series: shapes })),
  [],
);
const answer: QueryResult = {
  resultType: "vector",
  result: [
    { metric: { pod: "web-0", namespace: "default", service: "web", node: "n1" }, timestampSeconds: 1, value: "1.5" },
  ],
};
const queries = createQueryCache({ source: { query: async () => answer }, now: Date.now, ttl: 0 });
const provider = createCustomMetricsProvider({
  registry: () => registry,
  mapper: () => mapper,
  queries,
  now: Date.now,
  logger: silentLogger,
});
const app = createApp({
  logger: silentLogger,
  readiness: () => null,
  selfMetrics: { text: async () => "", contentType: "text/plain" },
  customMetrics: () => ({ provider, registry: () => registry }),
});

const SEGMENTS = [
  "namespaces",
  "default",
  "pods",
  "pod",
  "*",
  "%2A",
  "http_requests",
  "queue_length",
  "metrics",
  "nodes",
  "n1",
  "web-0",
  "services",
  "deployments.apps",
  "jobs.batch",
  "",
  "..",
  ".",
  "%zz",
  "%",
  "%2F",
  "%00",
  "é",
  "\u{1F600}",
  "a".repeat(300),
  "custommetrics",
  "v1beta1",
  "v1beta2",
  "custom.metrics.k8s.io",
  "apis",
  "x.y.z",
  "POD",
  "-",
  "_",
];
const SELECTORS = [
  "",
  "a=b",
  "a!=b",
  "a in (b,c)",
  "a notin (b)",
  "a",
  "!a",
  "a>1",
  "a<b",
  "a=",
  "=b",
  "a in ()",
  "a=b,",
  ",",
  "a b",
  "a=b/c",
  "app.kubernetes.io/name=x",
  "a in (",
  '"',
  "a=\u0000",
  "x".repeat(70) + "=1",
  "a==b,b==c",
  "%",
  "a=b&c=d",
];

describe("fuzzing the API with client input", () => {
  test("4000 random requests never answer 5xx, never throw, and always answer JSON or plain health text", async () => {
    const random = createRandom(1126);
    const pick = <T>(list: readonly T[]) => list[random(list.length)]!;
    for (let i = 0; i < 4000; i++) {
      const depth = random(9);
      const segments = [
        "apis",
        random(4) === 0 ? pick(SEGMENTS) : "custom.metrics.k8s.io",
        random(4) === 0 ? pick(SEGMENTS) : pick(["v1beta1", "v1beta2"]),
      ];
      for (let d = 0; d < depth; d++) segments.push(pick(SEGMENTS));
      const params = new URLSearchParams();
      if (random(2)) params.set("labelSelector", pick(SELECTORS));
      if (random(2)) params.set("metricLabelSelector", pick(SELECTORS));
      if (random(5) === 0) params.set("fieldSelector", pick(["metadata.name=web-0", "metadata.name=x", "a=b", ""]));
      if (random(5) === 0) params.set("pretty", pick(["true", "false", "1", ""]));
      const path = `/${segments.map((s) => (random(3) === 0 ? encodeURIComponent(s) : s)).join("/")}`;
      let response: Response;
      try {
        response = await app.handle(new Request(`https://127.0.0.1:6443${path}?${params}`));
      } catch (error) {
        throw new Error(`${path}?${params} threw ${(error as Error).message}`);
      }
      const body = await response.text();
      if (response.status >= 500) throw new Error(`${path}?${params} answered ${response.status}: ${body}`);
      expect(() => JSON.parse(body)).not.toThrow();
    }
  });
});
