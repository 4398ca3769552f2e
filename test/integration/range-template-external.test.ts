/**
 * A `range`-based external rule (the Kafka consumer-lag rule from a GitHub issue, building its matchers by ranging
 * over .LabelValuesByName) answers an HPA-style external metrics request against a real Prometheus with the value
 * the same PromQL gives when sent directly.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createMemoryLogger } from "../../src/observability/logger.ts";
import {
  compileRulesText,
  createMetricsApp,
  discoverRegistry,
  prometheusClient,
  type MetricsApp,
} from "../support/metrics-app.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type OpenMetricsSeries,
  type RunningPrometheus,
} from "../support/prometheus.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
if (skip) console.warn(`skipping range template integration tests: ${skip}`);

const NOW = Math.floor(Date.now() / 1000);
const TIMES = Array.from({ length: 15 }, (_, i) => NOW - 240 + i * 15);
const lag = (labels: Record<string, string>, value: number): OpenMetricsSeries => ({
  name: "kafka_consumergroup_lag",
  labels,
  samples: TIMES.map((t) => [t, value] as const),
});

const SERIES: OpenMetricsSeries[] = [
  lag({ consumergroup: "billing", topic: "orders", partition: "0" }, 120),
  lag({ consumergroup: "billing", topic: "orders", partition: "1" }, 30),
  lag({ consumergroup: "billing", topic: "refunds", partition: "0" }, 1000),
  lag({ consumergroup: "shipping", topic: "orders", partition: "0" }, 5),
];

const RULES = `externalRules:
- seriesQuery: 'kafka_consumergroup_lag{topic!=""}'
  resources: {namespaced: false}
  metricsQuery: sum(kafka_consumergroup_lag{<<range $k, $v := .LabelValuesByName>><<$k>>="<<$v>>",<<end>>})
`;
const METRIC = "/apis/external.metrics.k8s.io/v1beta1/namespaces/kafka/kafka_consumergroup_lag";

let prometheus: RunningPrometheus;
let app: MetricsApp;

beforeAll(async () => {
  if (skip) return;
  prometheus = await startPrometheus({ openMetrics: openMetricsText(SERIES) });
  const client = prometheusClient(prometheus.url);
  const registry = await discoverRegistry(client, compileRulesText(RULES));
  app = createMetricsApp({ logger: createMemoryLogger(3), external: { registry, client } });
});

afterAll(async () => {
  await prometheus?.stop();
});

async function direct(query: string): Promise<string[]> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  expect(body.status).toBe("success");
  return body.data.result.map((sample) => sample.value[1]);
}

describe.skipIf(skip !== null)("a range-based external rule against a real Prometheus", () => {
  test("the HPA's request with a label selector gets the sum over exactly the selected series", async () => {
    // What an HPA with `metric.selector.matchLabels: {consumergroup: billing, topic: orders}` asks for.
    const selector = encodeURIComponent("consumergroup=billing,topic=orders");
    const response = await app.handle(new Request(`http://adapter${METRIC}?labelSelector=${selector}`));
    expect(response.status).toBe(200);
    type Item = { metricName: string; metricLabels: Record<string, string>; value: string };
    const body = (await response.json()) as { items: Item[] };
    // The rendered query ranges over the map in key order and keeps the trailing comma, which PromQL accepts.
    expect(await direct('sum(kafka_consumergroup_lag{consumergroup="billing",topic="orders",})')).toEqual(["150"]);
    expect(body.items.map(({ metricName, metricLabels, value }) => ({ metricName, metricLabels, value }))).toEqual([
      { metricName: "kafka_consumergroup_lag", metricLabels: {}, value: "150" },
    ]);
  });

  test("a set-based selector becomes a regex value in the same range", async () => {
    const selector = encodeURIComponent("topic in (orders,refunds),consumergroup=billing");
    const response = await app.handle(new Request(`http://adapter${METRIC}?labelSelector=${selector}`));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { value: string }[] };
    // <<$v>> is "orders|refunds" for the `in`, written with = by this rule: Prometheus matches it literally.
    expect(await direct('sum(kafka_consumergroup_lag{consumergroup="billing",topic="orders|refunds",})')).toEqual([]);
    expect(body.items).toEqual([]);
  });
});
