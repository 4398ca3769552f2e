/**
 * `prom-adapter check` and `prom-adapter explain` against a real Prometheus (backfilled with promtool) and, for
 * cluster mode, the kube-apiserver stand-in: per-rule discovery results and collisions, and explanations of a
 * working metric, a query that aggregates the resource label away, selectors that match nothing, unknown metrics and
 * resources, external namespace mapping, RBAC failures, and the real entry point run as a process.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCheck, type CheckReport } from "../../src/commands/check/check.ts";
import { UnreachableError } from "../../src/commands/environment.ts";
import { runExplain } from "../../src/commands/explain/explain.ts";
import type { ExplainReport, ExplainStep, StepName } from "../../src/commands/explain/types.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { parseSampleValue } from "../../src/prometheus/sample-value.ts";
import { quantityFromSample } from "../../src/apimachinery/quantity.ts";
import { startTestAdapter } from "../support/adapter.ts";
import { parseOptions } from "../../src/options.ts";
import { customResourceDefinition, startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";
import { runMain } from "../support/process.ts";
import { recentSampleTimes, risingCounter, steadyGauge } from "../support/series.ts";
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
announceSkip("check/explain integration tests", skip);

const TIMES = recentSampleTimes();
const counter = (labels: Record<string, string>, perSecond: number) => risingCounter(labels, perSecond, TIMES);
const gauge = (name: string, labels: Record<string, string>, value: number) => steadyGauge(name, labels, value, TIMES);

const SERIES: OpenMetricsSeries[] = [
  counter({ namespace: "default", pod: "podinfo-a" }, 0.5),
  counter({ namespace: "default", pod: "podinfo-b" }, 2),
  counter({ namespace: "default", pod: "other-0" }, 4),
  gauge("pod_temperature", { namespace: "default", pod: "podinfo-a" }, 20),
  gauge("pod_temperature", { namespace: "default", pod: "podinfo-b" }, 22),
  gauge("pod_queue_length", { namespace: "default", pod: "podinfo-a" }, 3),
  gauge("pod_queue_length", { namespace: "default", pod: "podinfo-b" }, 5.5),
  gauge("build_info", { instance: "prom-adapter:6443", version: "1.0" }, 1),
  gauge("queue_depth", { namespace: "default", queue: "orders" }, 42),
  gauge("queue_messages", { queue: "billing" }, 7),
  // metrics.k8s.io: two pods in namespace shop, two nodes of which only node-1 has memory data.
  risingCounter(
    { namespace: "shop", pod: "web-0", container: "app" },
    0.25,
    TIMES,
    "container_cpu_usage_seconds_total",
  ),
  risingCounter(
    { namespace: "shop", pod: "web-0", container: "sidecar" },
    0.05,
    TIMES,
    "container_cpu_usage_seconds_total",
  ),
  risingCounter({ namespace: "shop", pod: "web-1", container: "app" }, 0.5, TIMES, "container_cpu_usage_seconds_total"),
  gauge("container_memory_working_set_bytes", { namespace: "shop", pod: "web-0", container: "app" }, 64 * 1024 * 1024),
  gauge(
    "container_memory_working_set_bytes",
    { namespace: "shop", pod: "web-0", container: "sidecar" },
    16 * 1024 * 1024,
  ),
  gauge("container_memory_working_set_bytes", { namespace: "shop", pod: "web-1", container: "app" }, 128 * 1024 * 1024),
  risingCounter({ id: "/", node: "node-1" }, 1.5, TIMES, "container_cpu_usage_seconds_total"),
  risingCounter({ id: "/", node: "node-2" }, 0.75, TIMES, "container_cpu_usage_seconds_total"),
  gauge("container_memory_working_set_bytes", { id: "/", node: "node-1" }, 2 * 1024 * 1024 * 1024),
];

const GOOD_RULES = `rules:
- seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
- seriesQuery: '{__name__="pod_temperature"}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
- seriesQuery: '{__name__="build_info"}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{__name__="never_scraped_total"}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{__name__="pod_queue_length"}'
  resources: {template: <<.Resource>>}
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
externalRules:
- seriesQuery: '{__name__="queue_depth"}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
- seriesQuery: '{__name__="queue_messages"}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)
`;

const COLLIDING_RULES = `rules:
- seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
- seriesQuery: '{__name__="pod_temperature"}'
  resources: {template: <<.Resource>>}
  name: {matches: ^pod_temperature$, as: http_requests}
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;

const REFUSED_RULES = `rules:
- seriesQuery: '{__name__=~"("}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;

const RESOURCE_MAPPING =
  "{overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}";
const RESOURCE_RULES = `resourceRules:
  cpu:
    containerQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!=""}[5m])) by (<<.GroupBy>>)
    nodeQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id="/"}[5m])) by (<<.GroupBy>>)
    resources: ${RESOURCE_MAPPING}
    containerLabel: container
  memory:
    containerQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)
    nodeQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id="/"}) by (<<.GroupBy>>)
    resources: ${RESOURCE_MAPPING}
    containerLabel: container
  window: 5m
`;

let prometheus: RunningPrometheus;
let dir: string;
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
let good: string;
let colliding: string;
let resourceRules: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "check-explain-"));
  good = file("good.yaml", GOOD_RULES);
  colliding = file("colliding.yaml", COLLIDING_RULES);
  resourceRules = file("resource.yaml", RESOURCE_RULES);
  if (skip) return;
  prometheus = await startPrometheus({ openMetrics: openMetricsText(SERIES) });
});
afterAll(async () => {
  await prometheus?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const check = (args: string[]): Promise<CheckReport> =>
  runCheck({
    options: parseOptions(args),
    withPrometheus: args.includes("--prometheus-url"),
    cluster: args.includes("--kubeconfig"),
    logger: silentLogger,
  });
const explain = (path: string, args: string[] = []): Promise<ExplainReport> =>
  runExplain({ options: parseOptions(["--config", good, "--prometheus-url", prometheus.url, ...args]), path });
const explainStandalone = (path: string) => explain(path, ["--standalone"]);
const stepOf = <N extends StepName>(report: ExplainReport, name: N) =>
  report.steps.find((step) => step.step === name) as Extract<ExplainStep, { step: N }>;
const statuses = (report: ExplainReport) => Object.fromEntries(report.steps.map((step) => [step.step, step.status]));

describe.skipIf(skip !== null)("check against a real Prometheus", () => {
  test("reports per rule the series matched, the metrics produced with resource and scope, and what was skipped", async () => {
    const report = await check(["--config", good, "--prometheus-url", prometheus.url]);
    expect(report.exitCode).toBe(0);
    const discovery = report.discovery!;
    expect(
      discovery.rules.map((rule) => [
        rule.id,
        rule.seriesMatched,
        rule.metrics.map((m) => `${m.resource ?? "external"}/${m.metric}:${m.namespaced}`),
      ]),
    ).toEqual([
      ["rules[0]", 3, ["namespaces/http_requests:false", "pods/http_requests:true"]],
      ["rules[1]", 2, ["namespaces/pod_temperature:false", "pods/pod_temperature:true"]],
      ["rules[2]", 1, []],
      ["rules[3]", 0, []],
      ["rules[4]", 2, ["namespaces/pod_queue_length:false", "pods/pod_queue_length:true"]],
      ["externalRules[0]", 1, ["external/queue_depth:true"]],
      ["externalRules[1]", 1, ["external/queue_messages:true"]],
    ]);
    expect(discovery.rules[2]?.skipped).toEqual([
      { series: "build_info", reason: "no-resource", labelNames: ["instance", "version"], metric: "build_info" },
    ]);
    expect(discovery.collisions).toEqual([]);
    expect(discovery.registered).toEqual({ custom: 6, external: 2 });
    expect(discovery.mode).toEqual({
      requested: "auto",
      used: "labels",
      reason: "the backend honours match[] on the labels endpoints",
    });
    expect(discovery.notes).toEqual([
      "rules[2]: 1 series shape(s) skipped, no label maps to a resource: build_info (labels: instance, version)",
      "rules[2]: produces no metric",
      `rules[3]: no series matched seriesQuery {__name__="never_scraped_total"} since ${discovery.since}: is --metrics-max-age (1m) ≥ the scrape interval, and are the targets scraped?`,
    ]);
  });

  test("names a collision between rules and which rule is served (the later one)", async () => {
    const report = await check(["--config", colliding, "--prometheus-url", prometheus.url]);
    expect(report.exitCode).toBe(0);
    expect(report.discovery?.collisions).toEqual([
      {
        metric: "http_requests",
        resource: "namespaces",
        namespaced: false,
        rules: ["rules[0]", "rules[1]"],
        winner: "rules[1]",
      },
      {
        metric: "http_requests",
        resource: "pods",
        namespaced: true,
        rules: ["rules[0]", "rules[1]"],
        winner: "rules[1]",
      },
    ]);
    expect(report.discovery?.rules[0]?.metrics.map((m) => m.overriddenBy)).toEqual(["rules[1]", "rules[1]"]);
    expect(report.discovery?.notes).toContain(
      "collision: pods/http_requests is produced by rules[0], rules[1]; later rules win, so rules[1] is served",
    );
  });

  test("a seriesQuery Prometheus refuses fails the check with Prometheus' message", async () => {
    const report = await check(["--config", file("refused.yaml", REFUSED_RULES), "--prometheus-url", prometheus.url]);
    expect(report.exitCode).toBe(1);
    expect(report.discovery?.rules[0]?.error).toStartWith("bad_data: ");
    expect(report.discovery?.notes[0]).toStartWith(
      'rules[0]: Prometheus refused seriesQuery {__name__=~"("}: bad_data: ',
    );
  });

  test("an unreachable Prometheus is an UnreachableError (exit code 3 from the command)", async () => {
    const port = await freePort();
    await expect(check(["--config", good, "--prometheus-url", `http://127.0.0.1:${port}`])).rejects.toBeInstanceOf(
      UnreachableError,
    );
  });
});

describe.skipIf(skip !== null)("explain in standalone mode", () => {
  const PODS = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*";

  test("a working metric: rule, series, PromQL, samples, matching and the server's answer", async () => {
    const report = await explainStandalone(`${PODS}/http_requests`);
    expect(report.exitCode).toBe(0);
    expect(report.verdict).toMatchObject({ ok: true, step: null, reason: null });
    expect(statuses(report)).toEqual({
      request: "ok",
      rules: "ok",
      discovery: "ok",
      resource: "ok",
      metric: "ok",
      objects: "ok",
      query: "ok",
      result: "ok",
      matching: "ok",
      response: "ok",
    });
    expect(stepOf(report, "metric").summary).toBe("registered by rules[0] from series http_requests_total");
    expect(stepOf(report, "discovery").summary).toContain(
      "discovery mode labels (--discovery-mode=auto: the backend honours match[]",
    );
    expect(stepOf(report, "query").data.promql).toBe(
      'sum(rate(http_requests_total{namespace="default",pod=~".+"}[5m])) by (pod)',
    );
    expect(stepOf(report, "result").data.samples.map((sample) => sample.labels)).toHaveLength(3);
    // Each object's value is its sample's, as a Quantity; the response serves exactly those.
    const samples = stepOf(report, "result").data.samples;
    const matching = stepOf(report, "matching");
    expect(matching.data.objects.map((object) => object.name)).toEqual(["other-0", "podinfo-a", "podinfo-b"]);
    for (const object of matching.data.objects) {
      const sample = samples.find((candidate) => candidate.labels.pod === object.name)!;
      expect(object.value).toBe(quantityFromSample(parseSampleValue(sample.value), "DecimalSI"));
      expect(object.note).toBe(`sample ${sample.value}`);
    }
    const response = stepOf(report, "response").data!;
    expect(response.status).toBe(200);
    const items = (response.body as { items: { describedObject: { name: string }; value: string }[] }).items;
    expect(items.map((item): (string | null)[] => [item.describedObject.name, item.value])).toEqual(
      matching.data.objects.map((object) => [object.name, object.value]),
    );
  });

  test("the final response is what the running server answers for the same path", async () => {
    const path = `${PODS}/pod_queue_length`;
    const report = await explainStandalone(path);
    const adapter = await startTestAdapter({ prometheusUrl: prometheus.url, rules: GOOD_RULES });
    try {
      expect(await adapter.adapter.relister.runOnce()).toBe(true);
      const served = await adapter.get(path);
      const withoutTimestamps = (body: unknown) =>
        JSON.parse(JSON.stringify(body).replace(/"timestamp":"[^"]+"/g, '"timestamp":"T"')) as unknown;
      expect(stepOf(report, "response").data?.status).toBe(served.status);
      expect(withoutTimestamps(stepOf(report, "response").data?.body)).toEqual(withoutTimestamps(await served.json()));
      expect(stepOf(report, "matching").data.objects.map((object) => object.value)).toEqual(["3", "5500m"]);
    } finally {
      await adapter.close();
    }
  });

  test("a query without by (...) loses the resource label, and the matching step says so", async () => {
    const report = await explainStandalone(`${PODS}/pod_temperature`);
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toEqual({
      ok: false,
      step: "matching",
      reason: "resource-label-aggregated-away",
      message: "the result has no `pod` label: the query aggregates it away — add it to by (...)",
    });
    expect(stepOf(report, "matching").hints).toEqual([
      "metricsQuery never uses <<.GroupBy>>: write e.g. `sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)` (it was: sum(<<.Series>>{<<.LabelMatchers>>}))",
    ]);
    expect(stepOf(report, "result").data.samples).toEqual([{ labels: {}, value: "42", timestamp: expect.any(String) }]);
    expect(stepOf(report, "response").data).toMatchObject({ status: 200, body: { items: [] } });
  });

  test("a metricLabelSelector that matches no series: the result step probes without it", async () => {
    const report = await explainStandalone(`${PODS}/http_requests?metricLabelSelector=instance%3Dnone`);
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toMatchObject({ step: "result", reason: "selector-filtered-everything" });
    expect(report.verdict.message).toBe(
      "the query returned nothing; without metricLabelSelector instance=none it returns 3 sample(s): the selector filters every series out",
    );
    expect(stepOf(report, "result").data.probes[0]).toEqual({
      question: "does the query return anything without metricLabelSelector?",
      promql: 'sum(rate(http_requests_total{namespace="default",pod=~".+"}[5m])) by (pod)',
      samples: 3,
    });
  });

  test("a labelSelector in standalone mode is the 400 the server answers", async () => {
    const report = await explainStandalone(`${PODS}/http_requests?labelSelector=app=podinfo`);
    expect(report.verdict).toMatchObject({ step: "objects", reason: "bad-request" });
    expect(stepOf(report, "response").data).toMatchObject({
      status: 400,
      body: { message: "labelSelector is not supported in standalone mode" },
    });
  });

  test("a named object without series: the probe lists which objects do have series", async () => {
    const report = await explainStandalone(
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/ghost/http_requests",
    );
    expect(report.verdict).toMatchObject({ step: "result", reason: "query-empty" });
    expect(report.verdict.message).toBe(
      "the query returned nothing: http_requests_total in namespace default has series for pod=other-0, podinfo-a, podinfo-b, but none for the requested objects (ghost)",
    );
    expect(stepOf(report, "response").data).toMatchObject({
      status: 404,
      body: { message: "the server could not find the metric http_requests for pods ghost" },
    });
  });

  test.each([
    ["a misspelt metric", `${PODS}/http_request`, "pods/http_requests"],
    ["a suffix variant", `${PODS}/http_requests_total`, "pods/http_requests"],
    [
      "the right metric on the wrong resource",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/*/http_requests",
      "pods/http_requests",
    ],
  ])("an unknown metric (%s) is lost at the metric step with a suggestion", async (_name, path, suggestion) => {
    const report = await explainStandalone(path);
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toMatchObject({ step: "metric", reason: "metric-not-registered" });
    expect(report.verdict.message).toEndWith(`: did you mean ${suggestion}?`);
    expect(stepOf(report, "metric").hints).toContain(
      `${suggestion} is registered${suggestion === "pods/http_requests" && path.includes("deployments") ? " (namespaced)" : ""}: /apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests`,
    );
    expect(stepOf(report, "response").data?.status).toBe(404);
  });

  test("an unknown metric also lists rules whose seriesQuery matched nothing and series without resource labels", async () => {
    const report = await explainStandalone(`${PODS}/build_info`);
    const hints = stepOf(report, "metric").hints;
    expect(hints).toContain(
      "rules[2]: series build_info would be build_info, but none of its labels (instance, version) maps to a resource: map one in resources (overrides or template)",
    );
    expect(
      hints.some((hint) =>
        hint.startsWith('rules[3]: no series matched seriesQuery {__name__="never_scraped_total"} since '),
      ),
    ).toBe(true);
  });

  test("an unknown resource is lost at the resource step with a suggestion", async () => {
    const report = await explainStandalone(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/podz/*/http_requests",
    );
    expect(report.verdict).toEqual({
      ok: false,
      step: "resource",
      reason: "resource-unknown",
      message:
        '"podz" is unknown to the REST mapper: the server doesn\'t have a resource type "podz"; did you mean pods?',
    });
    expect(stepOf(report, "response").data).toMatchObject({
      status: 404,
      body: { message: "the server could not find the metric http_requests for podz" },
    });
  });

  test("an external metric with the namespace mapped works", async () => {
    const report = await explainStandalone(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue%3Dorders",
    );
    expect(report.exitCode).toBe(0);
    expect(stepOf(report, "query").data.promql).toBe('sum(queue_depth{queue="orders",namespace="default"}) by (queue)');
    expect(stepOf(report, "metric").summary).toBe(
      'registered by externalRules[0] from series queue_depth; the query gets namespace="default" from the URL namespace',
    );
    expect(stepOf(report, "response").data).toMatchObject({
      status: 200,
      body: { items: [{ metricName: "queue_depth", metricLabels: { queue: "orders" }, value: "42" }] },
    });
  });

  test("an external metric whose series carry no namespace: the probe without the namespace matcher finds them", async () => {
    const report = await explainStandalone("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_messages");
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toMatchObject({ step: "result", reason: "namespace-filtered-everything" });
    expect(report.verdict.message).toBe(
      'the query returned nothing; without the namespace matcher namespace="default" it returns 1 sample(s): the series are not in namespace default',
    );
    expect(stepOf(report, "result").hints[0]).toContain("set `resources: {namespaced: false}` on externalRules[1]");
  });

  test("an unknown external metric suggests the close name", async () => {
    const report = await explainStandalone("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_dept");
    expect(report.verdict).toMatchObject({
      step: "metric",
      reason: "metric-not-registered",
      message: "external metric queue_dept is not registered: did you mean queue_depth?",
    });
  });

  test("a path that is not a metric path is refused like the server refuses it", async () => {
    const report = await explainStandalone(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests/extra",
    );
    expect(report.verdict).toMatchObject({ step: "request", reason: "bad-request" });
    expect(stepOf(report, "response").data?.status).toBe(404);
  });
});

describe.skipIf(skip !== null)("explain of metrics.k8s.io (kubectl top) in standalone mode", () => {
  const explainTop = (path: string) =>
    runExplain({
      options: parseOptions(["--config", resourceRules, "--prometheus-url", prometheus.url, "--standalone"]),
      path,
    });

  test("a working pod list: pods found in Prometheus, CPU and memory PromQL, samples, every pod matched", async () => {
    const path = "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods";
    const report = await explainTop(path);
    expect(report.exitCode).toBe(0);
    expect(report.verdict).toMatchObject({ ok: true, step: null, reason: null });
    expect(report.steps.map((step) => `${step.step}:${step.status}`)).toEqual([
      "request:ok",
      "rules:ok",
      "objects:ok",
      "query:ok",
      "result:ok",
      "query:ok",
      "result:ok",
      "matching:ok",
      "response:ok",
    ]);
    expect(stepOf(report, "rules").summary).toBe(
      `${resourceRules}: resourceRules present (pods ← pod, nodes ← node, namespaces ← namespace, containerLabel container; window 5m)`,
    );
    expect(stepOf(report, "objects").summary).toBe(
      "2 pods in namespace shop (values of label pod in the CPU query's result): shop/web-0, shop/web-1",
    );
    const queries = report.steps.filter((step) => step.step === "query").map((step) => step.summary);
    expect(queries).toEqual([
      'CPU, namespace shop: sum(rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"web-0|web-1",container!=""}[5m])) by (pod,container)',
      'memory, namespace shop: sum(container_memory_working_set_bytes{namespace="shop",pod=~"web-0|web-1",container!=""}) by (pod,container)',
    ]);
    expect(stepOf(report, "result").data.samples).toHaveLength(3);
    // NB: with recentSampleTimes, rate(...[5m]) extrapolates to 3/4 of the per-second rise (0.25/s -> 187m).
    expect(stepOf(report, "matching").data.objects).toEqual([
      {
        name: "shop/web-0",
        value: "app: cpu 187m, memory 64Mi; sidecar: cpu 37m, memory 16Mi",
        note: "CPU from 2 sample(s), memory from 2 sample(s)",
      },
      {
        name: "shop/web-1",
        value: "app: cpu 375m, memory 128Mi",
        note: "CPU from 1 sample(s), memory from 1 sample(s)",
      },
    ]);
    // The response is what the running server answers for the same path.
    const adapter = await startTestAdapter({ prometheusUrl: prometheus.url, rules: RESOURCE_RULES });
    try {
      const served = await adapter.get(path);
      const withoutTimes = (body: unknown) =>
        JSON.parse(JSON.stringify(body).replace(/"(timestamp|creationTimestamp)":"[^"]+"/g, '"$1":"T"')) as unknown;
      expect(stepOf(report, "response").data?.status).toBe(served.status);
      expect(withoutTimes(stepOf(report, "response").data?.body)).toEqual(withoutTimes(await served.json()));
    } finally {
      await adapter.close();
    }
  });

  test("a node without memory data: the node list is served without it, and the matching step says why", async () => {
    const report = await explainTop("/apis/metrics.k8s.io/v1beta1/nodes");
    expect(report.exitCode).toBe(0);
    expect(report.verdict.ok).toBe(true);
    expect(report.verdict.message).toStartWith(
      "values served, with a warning: 1 of 2 node(s) lack CPU or memory usage and are left out: node-2",
    );
    const matching = stepOf(report, "matching");
    expect(matching).toMatchObject({ status: "warning", reason: "object-missing-usage" });
    expect(matching.data.objects).toEqual([
      { name: "node-1", value: "cpu 1125m, memory 2Gi", note: "CPU from 1 sample(s), memory from 1 sample(s)" },
      {
        name: "node-2",
        value: null,
        note: "no memory sample with label node=node-2 (the samples have node=node-1): the CPU query has one under the same label, so this node's memory series are missing (not scraped, or named differently)",
      },
    ]);
    expect(stepOf(report, "response").data).toMatchObject({
      status: 200,
      body: { kind: "NodeMetricsList", items: [{ metadata: { name: "node-1" } }] },
    });
  });

  test("that node asked by name is lost at the matching step and answers 404", async () => {
    const report = await explainTop("/apis/metrics.k8s.io/v1beta1/nodes/node-2");
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toMatchObject({ ok: false, step: "matching", reason: "object-missing-usage" });
    const memoryResult = report.steps.filter((step) => step.step === "result")[1] as Extract<
      ExplainStep,
      { step: "result" }
    >;
    expect(memoryResult).toMatchObject({ status: "warning", reason: "query-empty" });
    expect(memoryResult.data.probes).toEqual([
      {
        question: "does the query return anything for any node?",
        promql: 'sum(container_memory_working_set_bytes{node=~".+",id="/"}) by (node)',
        samples: 1,
      },
    ]);
    expect(stepOf(report, "response").data).toMatchObject({
      status: 404,
      body: { message: 'nodemetrics.metrics.k8s.io "node-2" not found' },
    });
  });

  test("a namespace without pods in Prometheus is lost at the objects step", async () => {
    const report = await explainTop("/apis/metrics.k8s.io/v1beta1/namespaces/empty/pods");
    expect(report.verdict).toMatchObject({
      ok: false,
      step: "objects",
      reason: "no-objects",
      message: 'no pods in namespace empty: the CPU containerQuery returns no sample with pod=~".+"',
    });
    expect(stepOf(report, "response").data).toMatchObject({ status: 200, body: { items: [] } });
  });

  test("a file without resourceRules: metrics.k8s.io is not served", async () => {
    const report = await explainStandalone("/apis/metrics.k8s.io/v1beta1/nodes");
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toEqual({
      ok: false,
      step: "rules",
      reason: "resource-rules-missing",
      message: `${good} has no \`resourceRules\`: metrics.k8s.io is not served (kubectl top says "Metrics API not available")`,
    });
    expect(stepOf(report, "response").data?.status).toBe(404);
  });
});

describe.skipIf(skip !== null)("explain in cluster mode (kube-apiserver stand-in)", () => {
  let cluster: KubeApiServer;
  let adminConfig: string;
  beforeAll(async () => {
    if (skip) return;
    cluster = await startKubeApiServer();
    cluster.setObjects({ group: "", resource: "pods" }, [
      { name: "podinfo-a", namespace: "default", labels: { app: "podinfo" } },
      { name: "other-0", namespace: "default", labels: { app: "other" } },
      { name: "podinfo-b", namespace: "default", labels: { app: "podinfo" } },
    ]);
    cluster.setTokens({ "no-rbac-token": { username: "nobody", groups: [] } });
    adminConfig = cluster.kubeconfigFor({ token: cluster.adminToken });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  test("check resolves resources with the cluster's discovery: a CRD override the built-in table does not know is valid", async () => {
    cluster.addResource(
      customResourceDefinition({
        group: "example.com",
        version: "v1",
        kind: "Widget",
        plural: "widgets",
        namespaced: false,
      }),
    );
    const path = file(
      "widgets.yaml",
      "rules:\n- seriesQuery: widget_temperature\n  resources: {overrides: {widget: {group: example.com, resource: widget}}}\n  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)\n",
    );
    const offline = await check(["--config", path]);
    // Without a cluster the built-in table cannot know it: a warning, as a standalone server gives, not an error.
    expect(offline.exitCode).toBe(0);
    expect(offline.findings[0]).toMatchObject({
      severity: "warning",
      code: "unknown-resource",
      path: "rules[0].resources.overrides.widget",
    });
    const report = await check(["--config", path, "--kubeconfig", adminConfig]);
    expect(report).toMatchObject({ valid: true, exitCode: 0, mapper: "cluster", kubernetes: cluster.url });
  });

  test("the HPA's request: objects LISTed with the labelSelector, values in LIST order", async () => {
    const report = await explain(
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dpodinfo`,
      ["--kubeconfig", adminConfig],
    );
    expect(report.exitCode).toBe(0);
    expect(report.mode).toBe("cluster");
    expect(stepOf(report, "objects").summary).toBe(
      "2 listed in namespace default matching labelSelector app=podinfo: podinfo-a, podinfo-b",
    );
    expect(stepOf(report, "query").data.promql).toBe(
      'sum(rate(http_requests_total{namespace="default",pod=~"podinfo-a|podinfo-b"}[5m])) by (pod)',
    );
    expect(stepOf(report, "matching").data.objects.map((object) => object.name)).toEqual(["podinfo-a", "podinfo-b"]);
    expect(stepOf(report, "matching").data.objects.every((object) => object.value !== null)).toBe(true);
    expect(stepOf(report, "matching").data.unmatchedSamples).toEqual([]);
  });

  test("a labelSelector that selects no object: the selector filtered everything out", async () => {
    const report = await explain(
      `/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dnone`,
      ["--kubeconfig", adminConfig],
    );
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toEqual({
      ok: false,
      step: "objects",
      reason: "selector-filtered-everything",
      message:
        "no pods in namespace default matching labelSelector app=none, though 3 exist without it: the selector filters everything out",
    });
    expect(stepOf(report, "response").data).toMatchObject({
      status: 404,
      body: { message: "the server could not find the metric http_requests for pods" },
    });
  });

  test("an identity that may not LIST pods: the objects step names the failure and the RBAC fix", async () => {
    const report = await explain(`/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests`, [
      "--kubeconfig",
      cluster.kubeconfigFor({ token: "no-rbac-token" }),
    ]);
    expect(report.exitCode).toBe(1);
    expect(report.verdict).toMatchObject({ step: "objects", reason: "objects-list-failed" });
    expect(report.verdict.message).toBe(
      "listing pods in namespace default failed: Internal error occurred: unable to list matching resources: GET /api/v1/namespaces/default/pods: 403",
    );
    expect(stepOf(report, "objects").hints[0]).toContain("ClusterRole prom-adapter-resource-reader");
    expect(stepOf(report, "response").data).toMatchObject({
      status: 500,
      body: { message: "Internal error occurred: unable to list matching resources" },
    });
  });
});

describe.skipIf(skip !== null)("the real entry point", () => {
  test("check --output json parses and exits 0 for a good file", async () => {
    const { code, stdout } = await runMain([
      "check",
      "--config",
      good,
      "--prometheus-url",
      prometheus.url,
      "--output",
      "json",
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as CheckReport;
    expect(report.valid).toBe(true);
    expect(report.discovery?.registered).toEqual({ custom: 6, external: 2 });
  });

  test("check prints the table on a terminal-style run", async () => {
    const { code, stdout } = await runMain(["check", "--config", colliding, "--prometheus-url", prometheus.url]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      `${colliding}: valid (2 rules, 0 externalRules); REST mapper: built-in table (pass --kubeconfig for the cluster's)`,
    );
    expect(stdout).toContain(
      "collision: pods/http_requests is produced by rules[0], rules[1]; later rules win, so rules[1] is served",
    );
  });

  test("explain --output json of a query that aggregates the label away exits 1", async () => {
    const { code, stdout } = await runMain([
      "explain",
      "--config",
      good,
      "--prometheus-url",
      prometheus.url,
      "--standalone",
      "--output",
      "json",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/pod_temperature",
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ExplainReport;
    expect(report.verdict.reason).toBe("resource-label-aggregated-away");
    expect(report.exitCode).toBe(1);
  });

  test("explain in text prints the numbered steps and the verdict", async () => {
    const { code, stdout } = await runMain([
      "explain",
      "--config",
      good,
      "--prometheus-url",
      prometheus.url,
      "--standalone",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests",
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      ' 7. query      ok       sum(rate(http_requests_total{namespace="default",pod=~".+"}[5m])) by (pod)',
    );
    expect(stdout).toContain("verdict: ok");
  });

  test("explain with Prometheus unreachable exits 3", async () => {
    const port = await freePort();
    const { code, stderr } = await runMain([
      "explain",
      "--config",
      good,
      "--prometheus-url",
      `http://127.0.0.1:${port}`,
      "--standalone",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/x",
    ]);
    expect(code).toBe(3);
    expect(stderr).toStartWith(`prom-adapter explain: cannot list series from http://127.0.0.1:${port}: network: `);
  });
});
