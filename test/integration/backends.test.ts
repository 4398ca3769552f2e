/**
 * Several Prometheus backends behind one adapter (issue 15), end to end: three real Prometheus processes with
 * overlapping and distinct metric families, each behind a recording proxy; reads through the real
 * `kubectl get --raw`; routing by rule and by namespace for custom and external metrics; one backend killed and
 * restarted; backends removed and added by a reload; each backend's own credentials.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import { startFaultyProxy, type FaultyProxy } from "../support/faulty-proxy.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type OpenMetricsSeries,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { runExplain } from "../../src/commands/explain/explain.ts";
import { parseOptions } from "../../src/options.ts";
import { runMain } from "../support/process.ts";
import { recentSampleTimes, risingCounter, steadyGauge } from "../support/series.ts";
import { announceSkip, KUBECTL, kubectlSkipReason } from "../support/skip.ts";

setDefaultTimeout(120_000);
const kubectl = KUBECTL;
const skip = prometheusSkipReason() ?? kubectlSkipReason();
announceSkip("multi-backend integration tests", skip);

const NOW = Math.floor(Date.now() / 1000);
const gauge = (name: string, namespace: string, pod: string, value: number): OpenMetricsSeries => ({
  name,
  labels: { namespace, pod },
  samples: [[NOW - 20, value]],
});

const TIMES = recentSampleTimes();
/** One container of pod a-0 in team-a, using `cores` CPU and `mebibytes` memory (metrics.k8s.io). */
const container = (cores: number, mebibytes: number): OpenMetricsSeries[] => {
  const labels = { namespace: "team-a", pod: "a-0", container: "app" };
  return [
    risingCounter(labels, cores, TIMES, "container_cpu_usage_seconds_total"),
    steadyGauge("container_memory_working_set_bytes", labels, mebibytes * 1024 * 1024, TIMES),
  ];
};
// Shared Thanos stand-in (the default backend, --prometheus-url): every namespace, but stale copies of team-a's.
const SHARED = [
  gauge("queue_depth", "team-a", "a-0", 100),
  gauge("queue_depth", "team-c", "c-0", 3),
  gauge("latency_ms", "team-a", "a-0", 500),
  gauge("shared_only", "team-c", "c-0", 33),
  ...container(1, 512),
];
const TEAM_A = [
  gauge("queue_depth", "team-a", "a-0", 1),
  gauge("team_a_only", "team-a", "a-0", 11),
  ...container(0.25, 64),
];
const TEAM_B = [
  gauge("queue_depth", "team-b", "b-0", 2),
  gauge("latency_ms", "team-a", "a-0", 5),
  gauge("team_b_only", "team-b", "b-0", 22),
];

const TEAM_A_TOKEN = "team-a-secret-token";
const DEFAULT_TOKEN = "default-secret-token";

describe.skipIf(skip !== null)("several Prometheus backends behind one adapter", () => {
  const prometheus: Record<"shared" | "teamA" | "teamB", RunningPrometheus> = {} as never;
  const proxy: Record<"shared" | "teamA" | "teamB", FaultyProxy> = {} as never;
  let adapter: TestAdapter;
  let dir: string;
  let rulesFile: string;

  const rules = (backends: string, latencyBackend = "team-b") => `${backends}
rules:
- seriesQuery: '{__name__=~"queue_depth|team_a_only|team_b_only|shared_only",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{__name__="latency_ms",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
  prometheus: {backend: ${latencyBackend}}
externalRules:
- seriesQuery: '{__name__=~"queue_depth|team_b_only",namespace!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (namespace)
- seriesQuery: '{__name__="team_a_only"}'
  name: {as: team_a_total}
  resources: {namespaced: false}
  metricsQuery: sum(<<.Series>>)
  prometheus: {backend: team-a}
resourceRules:
  backend: team-a
  cpu:
    containerQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!=""}[5m])) by (<<.GroupBy>>)
    nodeQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,id="/"}[5m])) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}
    containerLabel: container
  memory:
    containerQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)
    nodeQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id="/"}) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}
    containerLabel: container
  window: 5m
`;
  const teamA = () => `  - name: team-a
    url: ${proxy.teamA.url}
    namespaces: [team-a]
    bearerTokenFile: ${join(dir, "team-a.token")}`;
  const teamB = () => `  - name: team-b
    url: ${proxy.teamB.url}
    namespaces: "team-b(-.*)?"
    headers: {X-Scope-OrgID: team-b}
    parameters: {dedup: "false"}`;

  async function kubectlRaw(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = Bun.spawn(
      [kubectl!, "get", "--raw", path, `--server=${adapter.baseUrl}`, "--insecure-skip-tls-verify", "--token=unused"],
      {
        stdout: "pipe",
        stderr: "pipe",
        stdin: "ignore",
        env: { ...process.env, KUBECONFIG: join(dir, "no-kubeconfig") },
      },
    );
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { code, stdout, stderr };
  }
  /** The values of a custom or external metrics list read with kubectl, by object name or by namespace label. */
  async function values(path: string): Promise<Record<string, string>> {
    const { code, stdout, stderr } = await kubectlRaw(path);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const items = (
      JSON.parse(stdout) as {
        items: { describedObject?: { name: string }; metricLabels?: Record<string, string>; value: string }[];
      }
    ).items;
    return Object.fromEntries(
      items.map((item) => [item.describedObject?.name ?? item.metricLabels?.namespace ?? "", item.value]),
    );
  }
  const custom = (namespace: string, metric: string) =>
    values(`/apis/custom.metrics.k8s.io/v1beta1/namespaces/${namespace}/pods/*/${metric}`);
  const external = (namespace: string, metric: string) =>
    values(`/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/${metric}`);
  const listed = async () => {
    const body = (await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta1")).json()) as {
      resources: { name: string }[];
    };
    return [...new Set(body.resources.map((resource) => resource.name.split("/")[1]))].sort();
  };

  beforeAll(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), "prom-adapter-backends-"));
    [prometheus.shared, prometheus.teamA, prometheus.teamB] = await Promise.all([
      startPrometheus({ openMetrics: openMetricsText(SHARED) }),
      startPrometheus({ openMetrics: openMetricsText(TEAM_A) }),
      startPrometheus({ openMetrics: openMetricsText(TEAM_B) }),
    ]);
    proxy.shared = startFaultyProxy(prometheus.shared.url);
    proxy.teamA = startFaultyProxy(prometheus.teamA.url);
    proxy.teamB = startFaultyProxy(prometheus.teamB.url);
    writeFileSync(join(dir, "team-a.token"), `${TEAM_A_TOKEN}\n`);
    writeFileSync(join(dir, "default.token"), `${DEFAULT_TOKEN}\n`);
    rulesFile = join(dir, "rules.yaml");
    writeFileSync(rulesFile, rules(`backends:\n${teamA()}\n${teamB()}`));
    adapter = await startTestAdapter({
      prometheusUrl: proxy.shared.url,
      // No query cache: a killed backend must be seen at once.
      extraArgs: ["--config", rulesFile, "--prometheus-token-file", join(dir, "default.token"), "--query-cache-ttl=0s"],
    });
    await adapter.adapter.relister.runOnce();
  });
  afterAll(async () => {
    await adapter?.close();
    for (const p of Object.values(proxy)) await p.stop();
    for (const p of Object.values(prometheus)) await p.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("/readyz?verbose lists each backend once every first discovery ran", async () => {
    const response = await adapter.get("/readyz?verbose");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(
      "[+]backend/default ok\n[+]backend/team-a ok\n[+]backend/team-b ok\nreadyz check passed\n",
    );
    expect(await (await adapter.get("/readyz")).text()).toBe("ok");
  });

  test("metrics of every backend are listed once, whichever backends registered them", async () => {
    expect(await listed()).toEqual(["latency_ms", "queue_depth", "shared_only", "team_a_only", "team_b_only"]);
  });

  test("custom metrics: a metric several backends hold goes to the backend serving the request's namespace", async () => {
    expect(await custom("team-a", "queue_depth")).toEqual({ "a-0": "1" });
    expect(await custom("team-b", "queue_depth")).toEqual({ "b-0": "2" });
    // No named backend serves team-c: the default (serving every namespace) answers.
    expect(await custom("team-c", "queue_depth")).toEqual({ "c-0": "3" });
    expect(await custom("team-a", "team_a_only")).toEqual({ "a-0": "11" });
    expect(await custom("team-c", "shared_only")).toEqual({ "c-0": "33" });
  });

  test("custom metrics: a rule naming a backend wins over the request's namespace", async () => {
    // latency_ms of team-a is 500 in the shared Prometheus and 5 in team-b's; the rule says team-b.
    expect(await custom("team-a", "latency_ms")).toEqual({ "a-0": "5" });
  });

  test("external metrics: routed by namespace, and by rule for a namespaced: false rule", async () => {
    expect(await external("team-b", "queue_depth")).toEqual({ "team-b": "2" });
    expect(await external("team-c", "queue_depth")).toEqual({ "team-c": "3" });
    expect(await external("team-a", "queue_depth")).toEqual({ "team-a": "1" });
    const { code, stdout } = await kubectlRaw("/apis/external.metrics.k8s.io/v1beta1/namespaces/team-c/team_a_total");
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { items: { value: string }[] }).items.map((item) => item.value)).toEqual(["11"]);
  });

  test("resource metrics: every query goes to the resourceRules backend", async () => {
    const { code, stdout, stderr } = await kubectlRaw("/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const pods = (
      JSON.parse(stdout) as {
        items: { metadata: { name: string }; containers: { name: string; usage: { cpu: string; memory: string } }[] }[];
      }
    ).items;
    // team-a's Prometheus: 0.25 cores and 64Mi; the shared one says 1 core and 512Mi. (rate() over the backfilled
    // samples extrapolates, so the CPU is read as a bound.)
    expect(pods.map((pod) => [pod.metadata.name, pod.containers.map((c) => [c.name, c.usage.memory])])).toEqual([
      ["a-0", [["app", "64Mi"]]],
    ]);
    const millicores = Number.parseInt(pods[0]?.containers[0]?.usage.cpu ?? "", 10);
    expect(millicores).toBeGreaterThan(100);
    expect(millicores).toBeLessThanOrEqual(250);
  });

  test("each backend receives its own credentials, headers and parameters, never another's", () => {
    const authorization = (p: FaultyProxy) => new Set(p.requests().map((r) => r.headers.get("authorization")));
    expect(authorization(proxy.shared)).toEqual(new Set([`Bearer ${DEFAULT_TOKEN}`]));
    expect(authorization(proxy.teamA)).toEqual(new Set([`Bearer ${TEAM_A_TOKEN}`]));
    expect(authorization(proxy.teamB)).toEqual(new Set([null]));
    const teamB = proxy.teamB.requests();
    expect(teamB.length).toBeGreaterThan(0);
    expect(new Set(teamB.map((r) => r.headers.get("x-scope-orgid")))).toEqual(new Set(["team-b"]));
    expect(teamB.every((r) => new URLSearchParams(r.url.split("?")[1] ?? r.body).get("dedup") === "false")).toBe(true);
    expect(proxy.shared.requests().some((r) => r.headers.has("x-scope-orgid"))).toBe(false);
  });

  test("self-metrics: named backends' series carry a backend label, the default backend's keep upstream's", async () => {
    const text = await (await adapter.get("/metrics")).text();
    expect(text).toMatch(/prometheus_adapter_prometheus_client_request_duration_seconds_count\{[^}]*backend="team-a"/);
    expect(text).toMatch(/^prom_adapter_registered_metrics\{api="external.metrics.k8s.io",backend="team-b"\} 2$/m);
    expect(text).toMatch(/^prom_adapter_discovery_calls_total\{mode="[a-z]+",backend="team-a"\} [1-9]/m);
    expect(text).toMatch(/^prom_adapter_discovery_errors_total 0$/m);
  });

  test("a killed backend: its metrics answer 500 while the others serve; values come back after a restart", async () => {
    await prometheus.teamA.kill();
    const failed = await kubectlRaw("/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/pods/*/team_a_only");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("unable to fetch metrics");
    expect(await custom("team-b", "queue_depth")).toEqual({ "b-0": "2" });
    expect(await custom("team-c", "shared_only")).toEqual({ "c-0": "33" });
    // A failed relist of team-a keeps its registry part: its metrics stay listed and the adapter stays ready.
    expect(await adapter.adapter.relister.runOnce()).toBe(false);
    expect(await listed()).toContain("team_a_only");
    expect((await adapter.get("/readyz")).status).toBe(200);
    const verbose = await (await adapter.get("/readyz?verbose")).text();
    expect(verbose).toContain("[-]backend/team-a failed: ");
    expect(verbose).toContain("[+]backend/team-b ok");

    prometheus.teamA = await startPrometheus({ openMetrics: openMetricsText(TEAM_A) });
    proxy.teamA.setUpstream(prometheus.teamA.url);
    expect(await custom("team-a", "team_a_only")).toEqual({ "a-0": "11" });
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
  });

  test("a reload removes a backend and adds it back; one naming an undeclared backend is rejected", async () => {
    writeFileSync(rulesFile, rules(`backends:\n${teamA()}`));
    expect((await adapter.adapter.reloader!.reload({ force: true })).ok).toBe(false);
    expect(adapter.logs.at(-1)).toContain(
      `rules.yaml:13:25: rules[1].prometheus.backend: unknown backend "team-b" (not "default" nor in \`backends\`)`,
    );
    expect(await listed()).toContain("team_b_only");

    writeFileSync(rulesFile, rules(`backends:\n${teamA()}`, "team-a"));
    expect((await adapter.adapter.reloader!.reload({ force: true })).ok).toBe(true);
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    expect(await listed()).not.toContain("team_b_only");
    // With team-b gone, the team-b namespace falls back to the default backend, which has no such series.
    expect(await custom("team-b", "queue_depth")).toEqual({});

    writeFileSync(rulesFile, rules(`backends:\n${teamA()}\n${teamB()}`));
    expect((await adapter.adapter.reloader!.reload({ force: true })).ok).toBe(true);
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    expect(await listed()).toContain("team_b_only");
    expect(await custom("team-b", "team_b_only")).toEqual({ "b-0": "22" });
    expect(await (await adapter.get("/readyz?verbose")).text()).toContain("[+]backend/team-b ok");
  });

  test("check: each backend's discovery, the backends of each metric, and the ambiguity warning with its code", async () => {
    // A second catch-all backend (the shared Prometheus again) makes namespace routing ambiguous against default.
    const thanosCopy = `  - name: thanos-copy\n    url: ${proxy.shared.url}`;
    const file = join(dir, "check.yaml");
    writeFileSync(file, rules(`backends:\n${teamA()}\n${teamB()}\n${thanosCopy}`));
    const common = ["--config", file, "--prometheus-url", proxy.shared.url];
    const json = await runMain(["check", ...common, "--output", "json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      findings: { code?: string; path: string; line: number; column: number }[];
      backends: {
        backends: { name: string; error: string | null }[];
        metrics: { metric: string; resource: string | null; backends: string[]; ambiguous: boolean }[];
        notes: string[];
      };
    };
    expect(report.findings.filter((finding) => finding.code === "backend-routing-ambiguous")).toMatchObject([
      { path: "backends[2]", line: 11, column: 5 },
    ]);
    expect(report.backends.backends.map((backend) => [backend.name, backend.error])).toEqual([
      ["team-a", null],
      ["team-b", null],
      ["thanos-copy", null],
    ]);
    const pods = (metric: string) =>
      report.backends.metrics.find((entry) => entry.metric === metric && entry.resource === "pods");
    expect(pods("queue_depth")).toMatchObject({
      backends: ["default", "team-a", "team-b", "thanos-copy"],
      ambiguous: true,
    });
    expect(pods("latency_ms")).toMatchObject({ backends: ["team-b"], ambiguous: false });
    expect(pods("team_a_only")).toMatchObject({ backends: ["team-a"], ambiguous: false });
    expect(report.backends.notes).toContain(
      "backend-routing-ambiguous: pods queue_depth is registered by default, team-a, team-b, thanos-copy, which " +
        "serve the same namespaces: requests there go to default (declared first)",
    );

    const text = await runMain(["check", ...common]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^latency_ms +pods +team-b +rule: team-b$/m);
    expect(text.stdout).toMatch(
      /^queue_depth +pods +default,team-a,team-b,thanos-copy +by namespace; ambiguous: default$/m,
    );
  });

  test("explain: the metric step names the backends that registered it, the query step where the query went", async () => {
    const options = parseOptions([
      "--standalone",
      "--config",
      rulesFile,
      "--prometheus-url",
      proxy.shared.url,
      "--prometheus-token-file",
      join(dir, "default.token"),
    ]);
    const explainQuery = async (path: string) => {
      const report = await runExplain({ options, path });
      expect(report.exitCode).toBe(0);
      return report.steps.find((step) => step.step === "query");
    };
    const path = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/pods/*/queue_depth";
    const metric = (await runExplain({ options, path })).steps.find((step) => step.step === "metric");
    expect(metric?.summary).toEndWith(" (backends default, team-a, team-b)");
    expect(metric?.data).toMatchObject({ backends: ["default", "team-a", "team-b"] });
    const teamA = await explainQuery(path);
    expect(teamA?.data).toMatchObject({ backend: "team-a" });
    expect(teamA?.summary).toEndWith(" (sent to backend team-a)");
    const teamC = await explainQuery("/apis/external.metrics.k8s.io/v1beta1/namespaces/team-c/queue_depth");
    expect(teamC?.data).toMatchObject({ backend: "default" });
  });

  test("explain: metrics.k8s.io requests are explained against the resourceRules backend", async () => {
    const options = parseOptions(["--standalone", "--config", rulesFile, "--prometheus-url", proxy.shared.url]);
    const report = await runExplain({ options, path: "/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods" });
    expect(report.exitCode).toBe(0);
    expect(report.steps.find((step) => step.step === "rules")?.summary).toContain("; backend team-a)");
    const response = report.steps.find((step) => step.step === "response")?.data as { body: { items: unknown[] } };
    // 64Mi is team-a's value; the shared Prometheus (the default backend) says 512Mi.
    expect(JSON.stringify(response.body.items)).toContain('"memory":"64Mi"');
  });
});
