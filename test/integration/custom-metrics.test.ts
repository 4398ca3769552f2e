/**
 * The custom metrics API end to end against a real Prometheus (backfilled with promtool): discovery, values for `*`,
 * by name, root-scoped and namespace metrics, metricLabelSelector, and the error Statuses. Every value served is
 * compared with the same PromQL sent straight to Prometheus.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { parseSampleValue } from "../../src/prometheus/sample-value.ts";
import { quantityFromSample } from "../../src/apimachinery/quantity.ts";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type OpenMetricsSeries,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { recentSampleTimes, risingCounter, steadyGauge } from "../support/series.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("custom metrics integration tests", skip);

// Samples whose rate() is the same whenever it is evaluated in the next minute (see test/support/series.ts), so the
// adapter's answers and the same PromQL sent directly agree exactly.
const TIMES = recentSampleTimes();
const counter = (labels: Record<string, string>, perSecond: number) => risingCounter(labels, perSecond, TIMES);
const gauge = (name: string, labels: Record<string, string>, value: number) => steadyGauge(name, labels, value, TIMES);

const POD_A = "podinfo-7cd8684594-vcrcj";
const POD_B = "podinfo-7cd8684594-x2k9q";
const SERIES: OpenMetricsSeries[] = [
  counter({ namespace: "default", pod: POD_A, method: "GET" }, 0.65),
  counter({ namespace: "default", pod: POD_A, method: "POST" }, 0.1),
  counter({ namespace: "default", pod: POD_B, method: "GET" }, 0.5),
  counter({ namespace: "other", pod: "podinfo-other-0", method: "GET" }, 2),
  gauge("podinfo_queue_length", { namespace: "default", pod: POD_A }, 7),
  gauge("node_gigawatts", { node: "n1" }, 1.21),
  gauge("node_gigawatts", { node: "n2" }, 3),
];

const NODE_RULES = `rules:
- seriesQuery: '{__name__="node_gigawatts",node!=""}'
  resources:
    overrides:
      node: {resource: node}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;

let prometheus: RunningPrometheus;
let adapter: TestAdapter;
let nodeAdapter: TestAdapter;

beforeAll(async () => {
  if (skip) return;
  prometheus = await startPrometheus({ openMetrics: openMetricsText(SERIES) });
  adapter = await startTestAdapter({ prometheusUrl: prometheus.url });
  nodeAdapter = await startTestAdapter({ prometheusUrl: prometheus.url, rules: NODE_RULES });
  expect(await adapter.adapter.relister.runOnce()).toBe(true);
  expect(await nodeAdapter.adapter.relister.runOnce()).toBe(true);
});

afterAll(async () => {
  await adapter?.close();
  await nodeAdapter?.close();
  await prometheus?.stop();
});

/** The sample values of a direct instant query, by the given label, as Quantity strings. */
async function direct(query: string, byLabel: string): Promise<Record<string, string>> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return Object.fromEntries(
    body.data.result.map((s) => [s.metric[byLabel]!, quantityFromSample(parseSampleValue(s.value[1]), "DecimalSI")!]),
  );
}

const withoutTimestamps = (text: string) =>
  text.replaceAll(/"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/g, '"timestamp":"T"');
type Item = { describedObject: { name: string }; value: string };

describe.skipIf(skip !== null)("custom.metrics.k8s.io against a real Prometheus", () => {
  test("discovery lists the scenario's metrics for pods and namespaces, sorted, in both versions", async () => {
    for (const version of ["v1beta1", "v1beta2"]) {
      const response = await adapter.get(`/apis/custom.metrics.k8s.io/${version}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      const body = (await response.json()) as { groupVersion: string; resources: { name: string }[] };
      expect(body.groupVersion).toBe(`custom.metrics.k8s.io/${version}`);
      const names = body.resources.map((r) => r.name);
      expect(names).toEqual([...names].sort());
      expect(names).toContain("pods/http_requests");
      expect(names).toContain("namespaces/http_requests");
      expect(names).toContain("pods/podinfo_queue_length");
    }
    const text = await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta2")).text();
    expect(text).toContain(
      '{"name":"pods/http_requests","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]}',
    );
    expect(text).toContain(
      '{"name":"namespaces/http_requests","singularName":"","namespaced":false,"kind":"MetricValueList","verbs":["get"]}',
    );
  });

  test("root-scoped metrics are listed as not namespaced", async () => {
    const body = await (await nodeAdapter.get("/apis/custom.metrics.k8s.io/v1beta1")).text();
    expect(body).toBe(
      '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"custom.metrics.k8s.io/v1beta1","resources":[' +
        '{"name":"nodes/node_gigawatts","singularName":"","namespaced":false,"kind":"MetricValueList","verbs":["get"]}]}\n',
    );
  });

  test("pods/* answers every pod of the namespace with the values of the same PromQL sent directly", async () => {
    const response = await adapter.get(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/%2A/http_requests",
      {
        accept: "application/vnd.kubernetes.protobuf, */*",
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const expected = await direct('sum(rate(http_requests_total{namespace="default",pod=~".+"}[5m])) by (pod)', "pod");
    expect(Object.keys(expected).sort()).toEqual([POD_A, POD_B]);
    const text = await response.text();
    expect(withoutTimestamps(text)).toBe(
      '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[' +
        `{"describedObject":{"kind":"Pod","namespace":"default","name":"${POD_A}","apiVersion":"/v1"},"metric":{"name":"http_requests","selector":null},"timestamp":"T","value":"${expected[POD_A]}"},` +
        `{"describedObject":{"kind":"Pod","namespace":"default","name":"${POD_B}","apiVersion":"/v1"},"metric":{"name":"http_requests","selector":null},"timestamp":"T","value":"${expected[POD_B]}"}]}\n`,
    );
  });

  test("v1beta1 answers the same values in its own item shape", async () => {
    const text = await (
      await adapter.get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/http_requests")
    ).text();
    const expected = await direct('sum(rate(http_requests_total{namespace="default",pod=~".+"}[5m])) by (pod)', "pod");
    expect(withoutTimestamps(text)).toBe(
      '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        `{"describedObject":{"kind":"Pod","namespace":"default","name":"${POD_A}","apiVersion":"/v1"},"metricName":"http_requests","timestamp":"T","value":"${expected[POD_A]}","selector":null},` +
        `{"describedObject":{"kind":"Pod","namespace":"default","name":"${POD_B}","apiVersion":"/v1"},"metricName":"http_requests","timestamp":"T","value":"${expected[POD_B]}","selector":null}]}\n`,
    );
    expect(text).toMatch(/"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
  });

  test("a pod by name answers exactly one item", async () => {
    const response = await adapter.get(
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/${POD_A}/http_requests`,
    );
    const body = (await response.json()) as { items: Item[] };
    const expected = await direct(
      `sum(rate(http_requests_total{namespace="default",pod="${POD_A}"}[5m])) by (pod)`,
      "pod",
    );
    expect(body.items.map((i) => [i.describedObject.name, i.value])).toEqual([[POD_A, expected[POD_A]!]]);
  });

  test("metricLabelSelector filters the series and is echoed as a LabelSelector", async () => {
    const response = await adapter.get(
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?metricLabelSelector=${encodeURIComponent("method in (POST)")}`,
    );
    const body = (await response.json()) as { items: (Item & { metric: { selector: unknown } })[] };
    const expected = await direct(
      'sum(rate(http_requests_total{method=~"POST",namespace="default",pod=~".+"}[5m])) by (pod)',
      "pod",
    );
    expect(body.items.map((i) => [i.describedObject.name, i.value])).toEqual([[POD_A, expected[POD_A]!]]);
    expect(body.items[0]?.metric.selector).toEqual({
      matchExpressions: [{ key: "method", operator: "In", values: ["POST"] }],
    });
  });

  test("the namespace's own metric is served through namespaces/{ns}/metrics/{m} without a namespace", async () => {
    const text = await (
      await adapter.get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/other/metrics/http_requests")
    ).text();
    const expected = await direct('sum(rate(http_requests_total{namespace="other"}[5m])) by (namespace)', "namespace");
    expect(withoutTimestamps(text)).toBe(
      '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        `{"describedObject":{"kind":"Namespace","name":"other","apiVersion":"/v1"},"metricName":"http_requests","timestamp":"T","value":"${expected.other}","selector":null}]}\n`,
    );
  });

  test("gauges keep their name and are not rated", async () => {
    const body = (await (
      await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/podinfo_queue_length")
    ).json()) as { items: Item[] };
    expect(body.items.map((i) => [i.describedObject.name, i.value])).toEqual([[POD_A, "7"]]);
  });

  test("root-scoped objects are answered by name and for *", async () => {
    const all = (await (
      await nodeAdapter.get("/apis/custom.metrics.k8s.io/v1beta2/nodes/*/node_gigawatts")
    ).json()) as { items: Item[] };
    expect(all.items.map((i) => [i.describedObject.name, i.value])).toEqual([
      ["n1", "1210m"],
      ["n2", "3"],
    ]);
    const text = await (await nodeAdapter.get("/apis/custom.metrics.k8s.io/v1beta1/nodes/n2/node_gigawatts")).text();
    expect(withoutTimestamps(text)).toBe(
      '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        '{"describedObject":{"kind":"Node","name":"n2","apiVersion":"/v1"},"metricName":"node_gigawatts","timestamp":"T","value":"3","selector":null}]}\n',
    );
  });

  test.each([
    [
      "an unknown metric",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/nope",
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the metric nope for pods","reason":"NotFound","code":404}',
    ],
    [
      "a metric asked in the wrong scope",
      "/apis/custom.metrics.k8s.io/v1beta2/pods/*/http_requests",
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the metric http_requests for pods","reason":"NotFound","code":404}',
    ],
    [
      "an unknown resource",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/gizmos/*/http_requests",
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the metric http_requests for gizmos","reason":"NotFound","code":404}',
    ],
    [
      "a named pod without samples",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pod/ghost/http_requests",
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the metric http_requests for pod ghost","reason":"NotFound","code":404}',
    ],
    [
      "a path too short after the namespace",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/http_requests",
      400,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"invalid request path","reason":"BadRequest","code":400}',
    ],
    [
      "an unknown path",
      "/apis/nothing.here/v1",
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}',
    ],
    [
      "an unknown version",
      "/apis/custom.metrics.k8s.io/v1/namespaces/default/pods/*/http_requests",
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}',
    ],
    [
      "a greater-than metric selector",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?metricLabelSelector=code%3E400",
      400,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"operator not supported by prometheus","reason":"BadRequest","code":400}',
    ],
    [
      "a labelSelector in standalone mode",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dpodinfo",
      400,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"labelSelector is not supported in standalone mode","reason":"BadRequest","code":400}',
    ],
    [
      "a mismatched fieldSelector",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/a/http_requests?fieldSelector=metadata.name%3Db",
      400,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"fieldSelector metadata.name doesn\'t match requested name","reason":"BadRequest","code":400}',
    ],
  ])("%s answers the exact Status", async (_, path, code, body) => {
    const response = await adapter.get(path);
    expect(response.status).toBe(code);
    expect(await response.text()).toBe(`${body}\n`);
  });

  test("a malformed metricLabelSelector is a 400 naming the parameter", async () => {
    const response = await adapter.get(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?metricLabelSelector=a%20b",
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string; reason: string };
    expect(body.reason).toBe("BadRequest");
    expect(body.message).toStartWith("unable to parse metricLabelSelector: ");
  });

  test("a metricLabelSelector key that is no Prometheus label name is a 400, not a query Prometheus rejects", async () => {
    const response = await adapter.get(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?metricLabelSelector=app.kubernetes.io%2Fname%3Dweb",
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toBe(
      'metricLabelSelector: "app.kubernetes.io/name" is not a valid Prometheus label name (letters, digits and _ only)',
    );
  });

  test("?pretty indents the body by two spaces", async () => {
    const text = await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta1?pretty=true")).text();
    expect(text).toStartWith('{\n  "kind": "APIResourceList",\n  "apiVersion": "v1",');
  });

  test("methods other than GET get a 405 Status", async () => {
    const response = await adapter.request("/apis/custom.metrics.k8s.io/v1beta1", { method: "POST", body: "{}" });
    expect(response.status).toBe(405);
    expect(((await response.json()) as { reason: string }).reason).toBe("MethodNotAllowed");
  });

  test("group discovery lists the installed groups, custom metrics with v1beta2 first and preferred", async () => {
    // The default rules have `rules` and `resourceRules`, no `externalRules`.
    expect(await (await adapter.get("/apis")).text()).toBe(
      '{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"custom.metrics.k8s.io","versions":[{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},{"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}},' +
        '{"name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}}]}\n',
    );
    expect(await (await adapter.get("/apis/custom.metrics.k8s.io")).text()).toBe(
      '{"kind":"APIGroup","apiVersion":"v1","name":"custom.metrics.k8s.io","versions":[{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},{"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}}\n',
    );
  });

  test("the aggregated discovery v2 Accept header still gets the legacy APIGroupList as JSON", async () => {
    const response = await adapter.get("/apis", {
      accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(((await response.json()) as { kind: string }).kind).toBe("APIGroupList");
  });

  test("OpenAPI documents describe the installed groups; an absent group's document is a 404 Status", async () => {
    const v2 = (await (await adapter.get("/openapi/v2")).json()) as { swagger: string; paths: Record<string, unknown> };
    expect(v2.swagger).toBe("2.0");
    expect(Object.keys(v2.paths)).toContain(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name}/{metric}",
    );
    const index = (await (await adapter.get("/openapi/v3")).json()) as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    const document = await adapter.get(index.paths["apis/custom.metrics.k8s.io/v1beta1"]!.serverRelativeURL);
    expect(((await document.json()) as { openapi: string }).openapi).toBe("3.0.0");
    const absent = await adapter.get("/openapi/v3/apis/external.metrics.k8s.io/v1beta1");
    expect(absent.status).toBe(404);
    expect(((await absent.json()) as { kind: string }).kind).toBe("Status");
  });

  test("/metrics shows the request, Prometheus, discovery, cache, reload, readiness and freshness families", async () => {
    await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests");
    await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests");
    const response = await adapter.get("/metrics");
    expect(response.headers.get("content-type")).toStartWith("text/plain");
    const text = await response.text();
    for (const line of [
      'prom_adapter_requests_total{api="custom.metrics.k8s.io",version="v1beta2",route="namespaced-object",code="200"}',
      'prometheus_adapter_prometheus_client_request_duration_seconds_count{path="/api/v1/query",server="' +
        prometheus.url +
        '",outcome="success"}',
      'prometheus_adapter_prometheus_client_request_duration_seconds_count{path="/api/v1/labels",server="' +
        prometheus.url +
        '",outcome="success"}',
      'prom_adapter_discovery_duration_seconds_count{outcome="success",mode="labels"}',
      'prom_adapter_discovery_received_bytes_total{mode="labels"}',
      'prom_adapter_discovery_calls_total{mode="labels"}',
      "prom_adapter_discovery_last_success_timestamp_seconds ",
      "prom_adapter_discovery_relist_interval_seconds 60\n",
      "prom_adapter_ready 1\n",
      'prom_adapter_registered_metrics{api="custom.metrics.k8s.io"}',
      'prom_adapter_query_cache_requests_total{result="hit"}',
      'prom_adapter_query_cache_requests_total{result="miss"}',
      "prom_adapter_query_cache_entries ",
      "prom_adapter_config_last_reload_successful 1",
      'metrics_apiserver_metric_freshness_seconds_count{group="custom.metrics.k8s.io"}',
      "process_resident_memory_bytes ",
    ]) {
      expect(text).toContain(line);
    }
  });

  test("--v=6 logs each Prometheus call with its URL and duration", () => {
    expect(
      adapter.logs.some(
        (line) =>
          line.includes("prometheus call") &&
          line.includes(`url=${prometheus.url}/api/v1/query`) &&
          / ms=[\d.]+/.test(line),
      ),
    ).toBe(true);
  });

  test("/version answers the version document", async () => {
    const version = (await (await adapter.get("/version")).json()) as Record<string, string>;
    expect(Object.keys(version)).toEqual([
      "major",
      "minor",
      "gitVersion",
      "gitCommit",
      "buildDate",
      "compiler",
      "platform",
    ]);
    expect(version.compiler).toBe("bun");
  });

  test("health endpoints answer ok", async () => {
    for (const path of ["/healthz", "/livez", "/readyz"]) {
      const response = await adapter.get(path);
      expect([path, response.status, await response.text()]).toEqual([path, 200, "ok"]);
    }
  });
});
