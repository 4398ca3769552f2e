/**
 * The dashboard and the recording rules against real data: a real Prometheus scrapes a prom-adapter running in
 * cluster mode (kube-apiserver stand-in) over HTTPS with a bearer token, through the scrape config the component's
 * ServiceMonitor stands for, while the stand-in authorizes `/metrics` with the component's RBAC. After traffic (values,
 * cache hits, 404, 401, 403) and one outage of the Prometheus the adapter queries (paused, then resumed), every
 * dashboard query and every recording-rule expression must parse and return a finite value, the template variables
 * must list the adapter's namespace and pod, and every rule of rules/alerts.yaml must evaluate without error.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { componentsSkipReason, kustomize, kustomizeWithComponents, type KubeObject } from "../deploy/kustomize.ts";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import { delegatedAuthenticationRules, startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";
import { openMetricsText, prometheusSkipReason, startPrometheus } from "../support/prometheus.ts";
import type { RunningPrometheus } from "../support/prometheus.ts";
import { recentSampleTimes, risingCounter } from "../support/series.ts";
import {
  ALERTS_FILE,
  allPanels,
  dashboard,
  parseLabelValues,
  recordingRules,
  REPO_ROOT,
  substituteVariables,
  variableQuery,
} from "./monitoring-files.ts";
import { policyFromRbac, scrapeConfigFromServiceMonitor, serviceAccountUser } from "./service-monitor.ts";

setDefaultTimeout(120_000);
const skip = prometheusSkipReason() ?? componentsSkipReason();
if (skip) console.warn(`skipping the monitoring scrape test: ${skip}`);

const COMPONENT = join(REPO_ROOT, "deploy", "components", "monitoring");
/** The ClusterRoleBinding granting `get /metrics` to the Prometheus ServiceAccount. */
const SCRAPER = "prom-adapter-metrics-reader";
const NAMESPACE = "custom-metrics";
const POD = "prom-adapter-6d9f7c-abcde";
const ADAPTER = "system:serviceaccount:custom-metrics:prom-adapter";
const READER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
const RULES = `rules:
- seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
`;
/** Values for Grafana's variables: the scraped replica, and a rate window longer than the whole test. */
const VARIABLES = { namespace: NAMESPACE, pod: POD, __rate_interval: "5m" };
const DEADLINE_MS = 60_000;

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: PromSample[] };
}

const messageOf = (error: Error) => error.message;

/** Polls `attempt` until it returns non-null, or throws after `ms` with the last reason. */
async function eventually<T>(what: string, attempt: () => Promise<T | string>, ms = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const outcome = await attempt();
    if (typeof outcome !== "string") return outcome;
    if (Date.now() > deadline) throw new Error(`${what}: ${outcome}`);
    await Bun.sleep(250);
  }
}

describe.skipIf(skip !== null)("a real Prometheus scraping prom-adapter as the ServiceMonitor says", () => {
  let cluster: KubeApiServer;
  let source: RunningPrometheus;
  let scraper: RunningPrometheus;
  let adapter: TestAdapter;
  let dir: string;
  let rendered: KubeObject[];

  async function query(expr: string): Promise<QueryAnswer> {
    const body = new URLSearchParams({ query: expr });
    return (await (await fetch(`${scraper.url}/api/v1/query`, { method: "POST", body })).json()) as QueryAnswer;
  }

  /** The query's samples once it returns at least one finite value; a string saying why not otherwise. */
  async function finiteResult(expr: string): Promise<PromSample[] | string> {
    const answer = await query(expr);
    if (answer.status !== "success") return `${answer.status}: ${answer.error}`;
    const samples = answer.data!.resultType === "vector" ? answer.data!.result : [];
    if (samples.length === 0) return `no data (${answer.data!.resultType})`;
    const finite = samples.some((sample) => Number.isFinite(Number(sample.value[1])));
    return finite ? samples : `only non-finite values: ${JSON.stringify(samples)}`;
  }

  const asReader = (path: string) => adapter.get(path, { authorization: "Bearer reader-token" });
  const metricPath = (pod: string, metric = "http_requests") =>
    `/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/${pod}/${metric}`;

  beforeAll(async () => {
    if (skip) return;
    rendered = kustomizeWithComponents(join(REPO_ROOT, "deploy"), [COMPONENT]);
    const monitor = rendered.find((object) => object.kind === "ServiceMonitor")!;
    const service = rendered.find((object) => object.kind === "Service" && object.metadata.name === "prom-adapter")!;
    const scraperBinding = rendered.find(
      (object) => object.kind === "ClusterRoleBinding" && object.metadata.name === SCRAPER,
    )!;
    const scraperAccount = scraperBinding.subjects[0] as { name: string; namespace: string };
    const scraperGroups = ["system:serviceaccounts", `system:serviceaccounts:${scraperAccount.namespace}`];

    cluster = await startKubeApiServer();
    cluster.setObjects({ group: "", resource: "pods" }, [
      { name: "podinfo-a", namespace: "default", labels: { app: "podinfo" } },
      { name: "podinfo-b", namespace: "default", labels: { app: "podinfo" } },
    ]);
    cluster.setTokens({
      "adapter-token": { username: ADAPTER, groups: ["system:serviceaccounts", `system:serviceaccounts:${NAMESPACE}`] },
      "prometheus-token": { username: serviceAccountUser(scraperAccount), groups: scraperGroups },
      "reader-token": { username: READER, groups: ["system:serviceaccounts"] },
      "stranger-token": { username: "mallory", groups: ["guests"] },
    });
    cluster.setPolicy([
      ...delegatedAuthenticationRules({ users: [ADAPTER] }),
      { users: [ADAPTER], verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods", "namespaces"] },
      { users: [READER], verbs: ["get", "list"], apiGroups: ["custom.metrics.k8s.io"], resources: ["*"] },
      // What the component grants the Prometheus ServiceAccount, read from the rendered RBAC.
      ...policyFromRbac(kustomize(COMPONENT)),
    ]);

    const times = recentSampleTimes();
    source = await startPrometheus({
      openMetrics: openMetricsText([
        risingCounter({ namespace: "default", pod: "podinfo-a" }, 0.6, times),
        risingCounter({ namespace: "default", pod: "podinfo-b" }, 0.9, times),
      ]),
    });
    adapter = await startTestAdapter({
      prometheusUrl: source.url,
      kubeconfig: cluster.kubeconfigFor({ token: "adapter-token" }),
      rules: RULES,
      // Short timeouts, so the outage shows as failed calls within seconds; a short relist, so discovery runs often.
      extraArgs: [
        "--metrics-relist-interval=2s",
        "--metrics-max-age=1h",
        "--prometheus-timeout=1s",
        "--prometheus-series-timeout=1s",
      ],
    });
    expect(await adapter.adapter.relister.runOnce()).toBe(true);

    dir = mkdtempSync(join(tmpdir(), "prom-adapter-scrape-"));
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "prometheus-token");
    const scrapeConfig = scrapeConfigFromServiceMonitor(monitor, service, {
      address: `127.0.0.1:${adapter.adapter.port}`,
      tokenFile,
      labels: {
        namespace: NAMESPACE,
        pod: POD,
        service: service.metadata.name,
        endpoint: monitor.spec.endpoints[0].port,
        container: "prom-adapter",
      },
    });
    scraper = await startPrometheus({ scrapeConfigs: [scrapeConfig], ruleFiles: [ALERTS_FILE] });
  });

  afterAll(async () => {
    await scraper?.stop();
    await adapter?.close();
    await source?.stop();
    await cluster?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the scrape succeeds over HTTPS with the Prometheus ServiceAccount's token, as the RBAC allows", async () => {
    const up = await eventually("up", () => finiteResult('up{job="prom-adapter"}'));
    const { namespace, pod, instance } = up[0]!.metric;
    expect({ series: up.length, namespace, pod, instance, value: up[0]!.value[1] }).toEqual({
      series: 1,
      namespace: NAMESPACE,
      pod: POD,
      instance: `127.0.0.1:${adapter.adapter.port}`,
      value: "1",
    });
    type ReviewSpec = { user: string; nonResourceAttributes?: unknown };
    const scraperReviews = cluster
      .reviews()
      .subjectAccessReviews.map((review) => (review as { spec: ReviewSpec }).spec)
      .filter((spec) => spec.user === "system:serviceaccount:monitoring:prometheus-k8s");
    expect(scraperReviews[0]?.nonResourceAttributes).toEqual({ path: "/metrics", verb: "get" });
  });

  test("after traffic and an outage of the queried Prometheus, every panel and recording rule has data", async () => {
    await eventually("up", () => finiteResult('up{job="prom-adapter"} == 1'));
    // Traffic: values (twice within the 5 s cache TTL: a hit), discovery, an unknown metric, refused callers.
    for (const pod of ["podinfo-a", "*", "podinfo-a"]) expect((await asReader(metricPath(pod))).status).toBe(200);
    expect((await asReader("/apis/custom.metrics.k8s.io/v1beta2")).status).toBe(200);
    expect((await asReader(metricPath("*", "no_such_metric"))).status).toBe(404);
    expect((await adapter.get(metricPath("podinfo-a"), { authorization: "Bearer stranger-token" })).status).toBe(403);
    expect((await adapter.get(metricPath("podinfo-a"), { authorization: "Bearer unknown-token" })).status).toBe(401);

    // The outage: the queried Prometheus stops answering; queries and discovery time out, then it comes back.
    source.pause();
    try {
      expect((await asReader(metricPath("podinfo-b"))).status).toBe(500);
      expect(await adapter.adapter.relister.runOnce()).toBe(false);
    } finally {
      source.resume();
    }
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    expect((await asReader(metricPath("podinfo-b"))).status).toBe(200);
    // Wait until Prometheus has scraped the state after the outage.
    await eventually("the outage in the scraped series", () =>
      finiteResult(
        'prom_adapter_discovery_duration_seconds_count{job="prom-adapter", outcome="success"} >= 3' +
          " and on () prom_adapter_discovery_errors_total > 0",
      ),
    );

    const failures: string[] = [];
    const targets = allPanels(dashboard()).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
    );
    expect(targets.length).toBeGreaterThan(30);
    for (const { panel, expr } of targets) {
      const query = substituteVariables(expr, VARIABLES);
      const outcome = await eventually(`${panel}: ${query}`, () => finiteResult(query), 15_000).catch(messageOf);
      if (typeof outcome === "string") failures.push(outcome);
    }
    for (const rule of recordingRules()) {
      const outcome = await eventually(rule.record!, () => finiteResult(rule.expr), 15_000).catch(messageOf);
      if (typeof outcome === "string") failures.push(outcome);
    }
    expect(failures).toEqual([]);

    // The outage is visible as such, not only as data.
    const timeouts = await finiteResult(
      'prometheus_adapter_prometheus_client_request_duration_seconds_count{job="prom-adapter", outcome="timeout"}',
    );
    const timedOut = typeof timeouts === "string" ? timeouts : timeouts.map((sample) => sample.metric.path);
    // Queries, and discovery's own call: the label index in the default (auto → labels) mode.
    expect(timedOut).toEqual(expect.arrayContaining(["/api/v1/query", "/api/v1/labels"]));
  });

  test("the namespace and pod variables list the scraped replica", async () => {
    for (const variable of dashboard().templating.list.filter((candidate) => candidate.type === "query")) {
      const parsed = parseLabelValues(substituteVariables(variableQuery(variable), VARIABLES))!;
      const match = new URLSearchParams({ "match[]": parsed.selector });
      const url = `${scraper.url}/api/v1/label/${parsed.label}/values?${match}`;
      const values = await eventually(variable.name, async () => {
        const body = (await (await fetch(url)).json()) as { status: string; data: string[] };
        const found = body.status === "success" && body.data.length > 0;
        return found ? body.data : `${body.status}: ${JSON.stringify(body.data)}`;
      });
      expect(values).toEqual([variable.name === "namespace" ? NAMESPACE : POD]);
    }
  });

  test("every rule of rules/alerts.yaml evaluates without error against the scraped series", async () => {
    interface RuleState {
      name: string;
      health: string;
      lastError?: string;
      lastEvaluation: string;
    }
    const rules = await eventually("rule evaluations", async () => {
      type RulesAnswer = { data: { groups: { rules: RuleState[] }[] } };
      const body = (await (await fetch(`${scraper.url}/api/v1/rules`)).json()) as RulesAnswer;
      const all = body.data.groups.flatMap((group) => group.rules);
      const pending = all.filter((rule) => rule.health === "unknown" || rule.lastEvaluation.startsWith("0001-"));
      return all.length > 0 && pending.length === 0 ? all : `${pending.length} of ${all.length} rules not evaluated`;
    });
    expect(rules.length).toBe(recordingRules().length + 11);
    expect(rules.filter((rule) => rule.health !== "ok").map((rule) => `${rule.name}: ${rule.lastError}`)).toEqual([]);
  });
});
