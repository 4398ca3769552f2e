/**
 * external.metrics.k8s.io against a real Prometheus (backfilled with promtool): discovery, namespaced and
 * cluster-wide (`namespaced: false`) metrics, labelSelector, scalar, empty, NaN and Inf results, and the error
 * Statuses. Every value served is compared with the same PromQL sent straight to Prometheus.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createMemoryLogger } from "../../src/observability/logger.ts";
import { parseSampleValue } from "../../src/prometheus/sample-value.ts";
import { quantityFromSample } from "../../src/apimachinery/quantity.ts";
import { EMPTY_REGISTRY, type MetricRegistry } from "../../src/discovery/registry.ts";
import {
  compileRulesText,
  createMetricsApp,
  discoverRegistry,
  prometheusClient,
  type MetricsApp,
} from "../support/metrics-app.ts";
import {
  freePort,
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type OpenMetricsSeries,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("external metrics integration tests", skip);

const NOW = Math.floor(Date.now() / 1000);
const TIMES = Array.from({ length: 15 }, (_, i) => NOW - 240 + i * 15);
const gauge = (name: string, labels: Record<string, string>, value: number): OpenMetricsSeries => ({
  name,
  labels,
  samples: TIMES.map((t) => [t, value] as const),
});

const SERIES: OpenMetricsSeries[] = [
  gauge("queue_depth", { namespace: "default", queue: "orders" }, 42),
  gauge("queue_depth", { namespace: "default", queue: "billing" }, 7.5),
  gauge("queue_depth", { namespace: "other", queue: "orders" }, 3),
  gauge("cluster_backlog", { region: "eu" }, 12),
  gauge("cluster_backlog", { region: "us" }, 0.016),
  gauge("odd_values", { namespace: "default", kind: "nan" }, Number.NaN),
  gauge("odd_values", { namespace: "default", kind: "inf" }, Number.POSITIVE_INFINITY),
  gauge("odd_values", { namespace: "default", kind: "neginf" }, Number.NEGATIVE_INFINITY),
  gauge("odd_values", { namespace: "default", kind: "one" }, 1),
];

const QUEUE = `  resources: {overrides: {namespace: {resource: namespace}}}`;
const RULES = `externalRules:
- seriesQuery: '{__name__="queue_depth",namespace!=""}'
${QUEUE}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
- seriesQuery: '{__name__="queue_depth",namespace!=""}'
${QUEUE}
  name: {matches: ^queue_depth$, as: queue_depth_scalar}
  metricsQuery: scalar(sum(<<.Series>>{<<.LabelMatchers>>}))
- seriesQuery: '{__name__="queue_depth",namespace!=""}'
${QUEUE}
  name: {matches: ^queue_depth$, as: queue_depth_range}
  metricsQuery: <<.Series>>{<<.LabelMatchers>>}[1m]
- seriesQuery: '{__name__="queue_depth",namespace!=""}'
${QUEUE}
  name: {matches: ^queue_depth$, as: queue_depth_string}
  metricsQuery: '"<<.Series>>"'
- seriesQuery: '{__name__="cluster_backlog"}'
  resources: {namespaced: false}
  metricsQuery: <<.Series>>{<<.LabelMatchers>>}
- seriesQuery: '{__name__="odd_values",namespace!=""}'
${QUEUE}
  metricsQuery: <<.Series>>{<<.LabelMatchers>>}
`;
const GROUP = "/apis/external.metrics.k8s.io";

let prometheus: RunningPrometheus;
let registry: MetricRegistry;
let app: MetricsApp;
const logger = createMemoryLogger(3);

beforeAll(async () => {
  if (skip) return;
  prometheus = await startPrometheus({ openMetrics: openMetricsText(SERIES) });
  const client = prometheusClient(prometheus.url);
  registry = await discoverRegistry(client, compileRulesText(RULES));
  app = createMetricsApp({ logger, external: { registry, client } });
});

afterAll(async () => {
  await prometheus?.stop();
});

const get = (path: string, appUnderTest: MetricsApp = app) => appUnderTest.handle(new Request(`http://adapter${path}`));

/** Samples of a direct instant query, in Prometheus order. */
async function direct(query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data.result;
}
const quantity = (raw: string) => quantityFromSample(parseSampleValue(raw), "DecimalSI");
const withoutTimestamps = (text: string) =>
  text.replaceAll(/"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/g, '"timestamp":"T"');
const status = (code: number, message: string, reason?: string, details?: string) =>
  `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":${JSON.stringify(message)}${reason ? `,"reason":"${reason}"` : ""}${details ? `,"details":${details}` : ""},"code":${code}}\n`;
const notFoundPath = status(404, "the server could not find the requested resource", "NotFound", "{}");

describe.skipIf(skip !== null)("external.metrics.k8s.io against a real Prometheus", () => {
  test("the group document lists v1beta1", async () => {
    const response = await get(GROUP);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe(
      '{"kind":"APIGroup","apiVersion":"v1","name":"external.metrics.k8s.io","versions":[{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],' +
        '"preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}}\n',
    );
  });

  test("the resource list has every discovered metric, sorted, with namespaced from the rule", async () => {
    const entry = (name: string, namespaced = true) =>
      `{"name":"${name}","singularName":"","namespaced":${namespaced},"kind":"ExternalMetricValueList","verbs":["get"]}`;
    expect(await (await get(`${GROUP}/v1beta1`)).text()).toBe(
      `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[${[
        entry("cluster_backlog", false),
        entry("odd_values"),
        entry("queue_depth"),
        entry("queue_depth_range"),
        entry("queue_depth_scalar"),
        entry("queue_depth_string"),
      ].join(",")}]}\n`,
    );
  });

  test("an empty registry lists the placeholder, which answers 404", async () => {
    const empty = createMetricsApp({
      logger,
      external: { registry: EMPTY_REGISTRY, client: prometheusClient(prometheus.url) },
    });
    expect(await (await get(`${GROUP}/v1beta1`, empty)).text()).toBe(
      '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[' +
        '{"name":"externalmetrics","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]}]}\n',
    );
    const response = await get(`${GROUP}/v1beta1/namespaces/default/externalmetrics`, empty);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(
      status(404, "the server could not find the metric externalmetrics for namespaces default", "NotFound"),
    );
  });

  test("a namespaced metric answers one item per sample of the same PromQL sent directly, in Prometheus order", async () => {
    const expected = await direct('sum(queue_depth{namespace="default"}) by (queue)');
    expect(expected.map((s) => s.metric.queue).sort()).toEqual(["billing", "orders"]);
    const response = await get(`${GROUP}/v1beta1/namespaces/default/queue_depth`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(withoutTimestamps(text)).toBe(
      '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        expected
          .map(
            (s) =>
              `{"metricName":"queue_depth","metricLabels":{"queue":"${s.metric.queue}"},"timestamp":"T","value":"${quantity(s.value[1])}"}`,
          )
          .join(",") +
        "]}\n",
    );
    expect(text).toContain('"value":"7500m"');
    // The timestamp is the sample's (the evaluation time of the instant query), within the last minute.
    const body = JSON.parse(text) as { items: { timestamp: string }[] };
    for (const item of body.items) expect(Math.abs(Date.parse(item.timestamp) - Date.now())).toBeLessThan(60_000);
  });

  test("the namespace of the path selects the series", async () => {
    const body = (await (await get(`${GROUP}/v1beta1/namespaces/other/queue_depth`)).json()) as { items: unknown[] };
    expect(body.items).toEqual([
      { metricName: "queue_depth", metricLabels: { queue: "orders" }, timestamp: expect.any(String), value: "3" },
    ]);
  });

  test("labelSelector narrows the series", async () => {
    const body = (await (
      await get(
        `${GROUP}/v1beta1/namespaces/default/queue_depth?labelSelector=${encodeURIComponent("queue in (orders)")}`,
      )
    ).json()) as { items: unknown[] };
    expect(body.items).toEqual([
      { metricName: "queue_depth", metricLabels: { queue: "orders" }, timestamp: expect.any(String), value: "42" },
    ]);
  });

  test("a namespaced: false metric ignores the path namespace and keeps every sample label, __name__ included", async () => {
    const expected = await direct("cluster_backlog");
    for (const namespace of ["default", "anything"]) {
      const text = await (await get(`${GROUP}/v1beta1/namespaces/${namespace}/cluster_backlog`)).text();
      expect(withoutTimestamps(text)).toBe(
        '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[' +
          expected
            .map(
              (s) =>
                `{"metricName":"cluster_backlog","metricLabels":{"__name__":"cluster_backlog","region":"${s.metric.region}"},"timestamp":"T","value":"${quantity(s.value[1])}"}`,
            )
            .join(",") +
          "]}\n",
      );
    }
    const eu = (await (
      await get(`${GROUP}/v1beta1/namespaces/default/cluster_backlog?labelSelector=region%3Deu`)
    ).json()) as { items: { value: string }[] };
    expect(eu.items.map((i) => i.value)).toEqual(["12"]);
  });

  test("a scalar result is one item with null metricLabels", async () => {
    const response = await fetch(
      `${prometheus.url}/api/v1/query?query=${encodeURIComponent('scalar(sum(queue_depth{namespace="default"}))')}`,
    );
    const scalar = ((await response.json()) as { data: { resultType: string; result: [number, string] } }).data;
    expect(scalar.resultType).toBe("scalar");
    const text = await (await get(`${GROUP}/v1beta1/namespaces/default/queue_depth_scalar`)).text();
    expect(withoutTimestamps(text)).toBe(
      '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        `{"metricName":"queue_depth_scalar","metricLabels":null,"timestamp":"T","value":"${quantity(scalar.result[1])}"}]}\n`,
    );
    expect(text).toContain('"value":"49500m"');
  });

  test("an empty result is an empty list with 200", async () => {
    const response = await get(`${GROUP}/v1beta1/namespaces/default/queue_depth?labelSelector=queue%3Dnone`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(
      '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[]}\n',
    );
  });

  test("NaN samples print 0 and infinite samples are dropped", async () => {
    const expected = await direct('odd_values{namespace="default"}');
    expect(expected.map((s) => s.value[1]).sort()).toEqual(["+Inf", "-Inf", "1", "NaN"]);
    const text = await (await get(`${GROUP}/v1beta1/namespaces/default/odd_values`)).text();
    const finite = expected.filter((s) => s.value[1] === "NaN" || s.value[1] === "1");
    expect(withoutTimestamps(text)).toBe(
      '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        finite
          .map(
            (s) =>
              `{"metricName":"odd_values","metricLabels":{"__name__":"odd_values","kind":"${s.metric.kind}","namespace":"default"},"timestamp":"T","value":"${s.value[1] === "NaN" ? "0" : "1"}"}`,
          )
          .join(",") +
        "]}\n",
    );
    expect(logger.lines.some((line) => line.includes("dropping an infinite sample"))).toBe(true);
  });

  test.each([
    [
      "a matrix result",
      `${GROUP}/v1beta1/namespaces/default/queue_depth_range`,
      500,
      status(500, "encountered an unexpected query result type"),
    ],
    [
      "a string result",
      `${GROUP}/v1beta1/namespaces/default/queue_depth_string`,
      500,
      status(500, "encountered an unexpected query result type"),
    ],
    [
      "an unknown metric",
      `${GROUP}/v1beta1/namespaces/team-a/nope`,
      404,
      status(404, "the server could not find the metric nope for namespaces team-a", "NotFound"),
    ],
    ["the cluster-scoped path", `${GROUP}/v1beta1/queue_depth`, 404, notFoundPath],
    ["a namespace without metric", `${GROUP}/v1beta1/namespaces/default`, 404, notFoundPath],
    ["a path too long", `${GROUP}/v1beta1/namespaces/default/queue_depth/extra`, 404, notFoundPath],
    ["an unknown version", `${GROUP}/v1beta2/namespaces/default/queue_depth`, 404, notFoundPath],
    [
      "a greater-than selector",
      `${GROUP}/v1beta1/namespaces/default/queue_depth?labelSelector=queue%3E1`,
      400,
      status(400, "operator not supported by prometheus", "BadRequest"),
    ],
    [
      "a malformed selector",
      `${GROUP}/v1beta1/namespaces/default/queue_depth?labelSelector=a%20b`,
      400,
      status(
        400,
        "unable to parse labelSelector: unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
        "BadRequest",
      ),
    ],
  ])("%s answers the exact Status", async (_, path, code, body) => {
    const response = await get(path);
    expect(response.status).toBe(code);
    expect(await response.text()).toBe(body);
  });

  test("a metric name arriving percent-encoded is decoded once", async () => {
    const body = (await (await get(`${GROUP}/v1beta1/namespaces/other/queue%5Fdepth`)).json()) as {
      items: { value: string }[];
    };
    expect(body.items.map((i) => i.value)).toEqual(["3"]);
  });

  test("an unreachable Prometheus is a 500 that hides the cause", async () => {
    const down = createMetricsApp({
      logger,
      external: { registry, client: prometheusClient(`http://127.0.0.1:${await freePort()}`) },
    });
    const response = await get(`${GROUP}/v1beta1/namespaces/default/queue_depth`, down);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe(
      status(
        500,
        "Internal error occurred: unable to fetch metrics",
        "InternalError",
        '{"causes":[{"message":"unable to fetch metrics"}]}',
      ),
    );
  });

  test("?pretty indents by two spaces", async () => {
    const text = await (await get(`${GROUP}/v1beta1/namespaces/other/queue_depth?pretty=true`)).text();
    expect(text).toStartWith(
      '{\n  "kind": "ExternalMetricValueList",\n  "apiVersion": "external.metrics.k8s.io/v1beta1",\n  "metadata": {},\n  "items": [\n    {\n      "metricName": "queue_depth",',
    );
  });
});
