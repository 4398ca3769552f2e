/**
 * The two rule extensions beyond upstream (off unless written): `defaultValue` answers objects (or external
 * metrics) without samples, and `prometheus: {parameters, headers}` goes with every query of the rule (Thanos
 * `dedup`, a tenant's `X-Scope-OrgID`). Against a real Prometheus behind a recording proxy.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import { startFaultyProxy, type FaultyProxy } from "../support/faulty-proxy.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("rule extension tests", skip);

const NOW = Math.floor(Date.now() / 1000);
const RULES = `rules:
- seriesQuery: '{__name__="queue_length"}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  defaultValue: 0
  prometheus:
    parameters: {dedup: "true", partial_response: "false"}
    headers: {X-Scope-OrgID: team-a}
externalRules:
- seriesQuery: '{__name__="jobs_waiting"}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
  defaultValue: 0.5
- seriesQuery: '{__name__="jobs_failed"}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
`;

describe.skipIf(skip !== null)("rule extensions", () => {
  let prometheus: RunningPrometheus;
  let proxy: FaultyProxy;
  let adapter: TestAdapter;

  beforeAll(async () => {
    if (skip) return;
    prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        { name: "queue_length", labels: { namespace: "default", pod: "worker-0" }, samples: [[NOW - 20, 7]] },
        { name: "jobs_waiting", labels: { namespace: "default", queue: "a" }, samples: [[NOW - 20, 3]] },
        { name: "jobs_failed", labels: { namespace: "default", queue: "a" }, samples: [[NOW - 20, 1]] },
      ]),
    });
    proxy = startFaultyProxy(prometheus.url);
    adapter = await startTestAdapter({ prometheusUrl: proxy.url, rules: RULES, extraArgs: ["--query-cache-ttl=0s"] });
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
  });
  afterAll(async () => {
    await adapter?.close();
    await proxy?.stop();
    await prometheus?.stop();
  });

  test("a named object without a sample gets the rule's defaultValue instead of a 404", async () => {
    const existing = (await (
      await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/worker-0/queue_length")
    ).json()) as { items: { value: string }[] };
    expect(existing.items.map((i) => i.value)).toEqual(["7"]);
    const absent = (await (
      await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/worker-9/queue_length")
    ).json()) as {
      items: { describedObject: { name: string }; value: string }[];
    };
    expect(absent.items.map((i) => [i.describedObject.name, i.value])).toEqual([["worker-9", "0"]]);
  });

  test("the rule's parameters and headers go with its queries", async () => {
    await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/worker-0/queue_length");
    const query = proxy
      .requests()
      .filter((r) => r.url.startsWith("/api/v1/query"))
      .at(-1)!;
    const params = new URLSearchParams(query.url.split("?")[1] ?? query.body);
    expect(params.get("dedup")).toBe("true");
    expect(params.get("partial_response")).toBe("false");
    expect(params.get("query")).toBe('sum(queue_length{namespace="default",pod="worker-0"}) by (pod)');
    expect(query.headers.get("x-scope-orgid")).toBe("team-a");
  });

  test("an external metric with an empty result gets one defaultValue item; without defaultValue it stays empty", async () => {
    const empty = (await (
      await adapter.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/other/jobs_waiting")
    ).json()) as { items: { metricLabels: unknown; value: string }[] };
    expect(empty.items.map((i) => [i.metricLabels, i.value])).toEqual([[{}, "500m"]]);
    const found = (await (
      await adapter.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/jobs_waiting")
    ).json()) as { items: { value: string }[] };
    expect(found.items.map((i) => i.value)).toEqual(["3"]);
    const plain = (await (
      await adapter.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/other/jobs_failed")
    ).json()) as { items: unknown[] };
    expect(plain.items).toEqual([]);
    const lastQuery = proxy
      .requests()
      .filter((r) => r.url.startsWith("/api/v1/query"))
      .at(-1)!;
    expect(lastQuery.headers.get("x-scope-orgid")).toBeNull();
  });
});
