/**
 * `--standalone` with a rules file naming a CRD in `resources.overrides` (an Argo Rollouts rollout), as users bring
 * their cluster's config to a laptop: with a kubeconfig to the kube-apiserver stand-in, only API discovery is read
 * (objects come from Prometheus labels, no TokenReview or SubjectAccessReview) and the CRD's metrics are served;
 * without one, the adapter still starts, warns, and skips the metrics only the CRD would give.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSubcommand } from "../../src/commands/cli.ts";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import { customResourceDefinition } from "../support/kube-apiserver/default-resources.ts";
import { startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { recentSampleTimes, steadyGauge } from "../support/series.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
if (skip) console.warn(`skipping standalone CRD integration tests: ${skip}`);

const RULES = `rules:
- seriesQuery: '{__name__="rollout_queue_depth",namespace!="",rollout!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      rollout: {group: argoproj.io, resource: rollouts}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;
const METRIC_PATH =
  "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/rollouts.argoproj.io/web/rollout_queue_depth";
/** No $KUBECONFIG and a HOME without ~/.kube/config. */
const NO_KUBECONFIG_ENV = { HOME: join(import.meta.dir, "does-not-exist") };

describe.skipIf(skip !== null)("standalone with a CRD override", () => {
  let cluster: KubeApiServer;
  let prometheus: RunningPrometheus;
  const adapters: TestAdapter[] = [];

  beforeAll(async () => {
    if (skip) return;
    cluster = await startKubeApiServer();
    const rollouts = {
      group: "argoproj.io",
      version: "v1alpha1",
      kind: "Rollout",
      plural: "rollouts",
      namespaced: true,
    };
    cluster.addResource(customResourceDefinition(rollouts));
    prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        steadyGauge("rollout_queue_depth", { namespace: "default", rollout: "web" }, 7, recentSampleTimes()),
      ]),
    });
  });

  afterAll(async () => {
    for (const adapter of adapters) await adapter.close();
    await prometheus?.stop();
    await cluster?.close();
  });

  test("with --kubeconfig, the cluster's discovery knows the CRD; its metric is served from Prometheus labels", async () => {
    cluster.clearRequests();
    const kubeconfig = cluster.kubeconfigFor({ token: cluster.adminToken });
    const adapter = await startTestAdapter({
      prometheusUrl: prometheus.url,
      rules: RULES,
      extraArgs: ["--kubeconfig", kubeconfig],
      env: NO_KUBECONFIG_ENV,
    });
    adapters.push(adapter);
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    expect(adapter.logs.join("\n")).not.toContain("unknown resource");

    const discovery = await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta2")).text();
    expect(discovery).toContain('"name":"rollouts.argoproj.io/rollout_queue_depth"');
    const response = await adapter.get(METRIC_PATH);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { describedObject: unknown; value: string }[] };
    expect(body.items.map(({ describedObject, value }) => ({ describedObject, value }))).toEqual([
      {
        describedObject: { kind: "Rollout", namespace: "default", name: "web", apiVersion: "argoproj.io/v1alpha1" },
        value: "7",
      },
    ]);
    // Discovery only: no object lists, no reviews.
    const paths = cluster.requests().map((request) => request.path);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(path).toMatch(/^\/(api|apis)(\/[^/]+){0,2}$/);
    expect(cluster.reviews()).toEqual({ tokenReviews: [], subjectAccessReviews: [] });
  });

  test("the default kubeconfig ($KUBECONFIG) is used the same way when --kubeconfig is not given", async () => {
    const kubeconfig = cluster.kubeconfigFor({ token: cluster.adminToken });
    const env = { ...NO_KUBECONFIG_ENV, KUBECONFIG: kubeconfig };
    const adapter = await startTestAdapter({ prometheusUrl: prometheus.url, rules: RULES, env });
    adapters.push(adapter);
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    expect((await adapter.get(METRIC_PATH)).status).toBe(200);
  });

  test("without a kubeconfig, it starts, warns with the rule and field, and skips the CRD's metric", async () => {
    const adapter = await startTestAdapter({ prometheusUrl: prometheus.url, rules: RULES, env: NO_KUBECONFIG_ENV });
    adapters.push(adapter);
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    const warning = adapter.logs.find((line) => line.includes("unknown resource rollouts.argoproj.io"));
    expect(warning).toContain("rules[0].resources.overrides.rollout");
    expect(warning).toContain("rules.yaml:6:16");
    const discovery = await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta2")).text();
    expect(discovery).not.toContain("rollouts");
    expect((await adapter.get(METRIC_PATH)).status).toBe(404);
  });

  test("check and explain resolve the CRD the same way: through the kubeconfig, else a warning with the reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "standalone-crd-"));
    const rulesFile = join(dir, "rules.yaml");
    writeFileSync(rulesFile, RULES);
    const run = async (argv: string[], env: Record<string, string | undefined>) => {
      let stdout = "";
      const code = await runSubcommand(argv, { stdout: (text) => void (stdout += text), stderr: () => {}, env });
      return { code, stdout };
    };
    try {
      const kubeconfig = cluster.kubeconfigFor({ token: cluster.adminToken });
      const withCluster = await run(["check", "--standalone", "--config", rulesFile], {
        ...NO_KUBECONFIG_ENV,
        KUBECONFIG: kubeconfig,
      });
      expect(withCluster.stdout).toBe(
        `${rulesFile}: valid (1 rules, 0 externalRules); REST mapper: API discovery of ${cluster.url}\n`,
      );
      expect(withCluster.code).toBe(0);

      const builtin = await run(["check", "--standalone", "--config", rulesFile], NO_KUBECONFIG_ENV);
      expect(builtin.stdout).toContain(`${rulesFile}: valid (1 rules, 0 externalRules; 1 warning(s))`);
      expect(builtin.stdout).toContain(
        `${rulesFile}:6:16: warning: rules[0].resources.overrides.rollout: unknown resource`,
      );
      expect(builtin.code).toBe(0);

      const explainArgs = [
        "explain",
        "--standalone",
        "--config",
        rulesFile,
        "--prometheus-url",
        prometheus.url,
        METRIC_PATH,
      ];
      const explained = await run(explainArgs, NO_KUBECONFIG_ENV);
      expect(explained.stdout).toContain("rules[0].resources.overrides.rollout: unknown resource rollouts.argoproj.io");
      expect(explained.stdout).toContain('label "rollout" is not associated with it');
      const explainedWithCluster = await run(explainArgs, { ...NO_KUBECONFIG_ENV, KUBECONFIG: kubeconfig });
      expect(explainedWithCluster.stdout).not.toContain("unknown resource");
      expect(explainedWithCluster.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a --kubeconfig that does not answer stops the start with the reason", async () => {
    const kubeconfig = cluster.kubeconfigFor({ token: cluster.adminToken });
    cluster.failNext("/api", 500, 10);
    await expect(
      startTestAdapter({
        prometheusUrl: prometheus.url,
        rules: RULES,
        extraArgs: ["--kubeconfig", kubeconfig],
        env: NO_KUBECONFIG_ENV,
      }),
    ).rejects.toThrow(/cannot read API discovery from https:\/\/127\.0\.0\.1:\d+/);
  });
});
