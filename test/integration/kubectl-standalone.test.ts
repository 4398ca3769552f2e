/**
 * The local-run recipe of the README, end to end: `bun run src/main.ts --standalone` against a real Prometheus,
 * queried with the real kubectl (`kubectl get --raw --server=... --insecure-skip-tls-verify`).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { runMain, spawnAdapter, type AdapterProcess } from "../support/process.ts";
import { recentSampleTimes, risingCounter } from "../support/series.ts";
import { announceSkip, KUBECTL, kubectlSkipReason } from "../support/skip.ts";

setDefaultTimeout(60_000);
const kubectl = KUBECTL;
const skip = prometheusSkipReason() ?? kubectlSkipReason();
announceSkip("kubectl end-to-end tests", skip);

describe.skipIf(skip !== null)("kubectl against a standalone prom-adapter process", () => {
  let prometheus: RunningPrometheus;
  let adapter: AdapterProcess;
  let dir: string;

  beforeAll(async () => {
    if (skip) return;
    prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        risingCounter({ namespace: "default", pod: "podinfo-7cd8684594-vcrcj" }, 0.65, recentSampleTimes()),
      ]),
    });
    dir = mkdtempSync(join(tmpdir(), "prom-adapter-e2e-"));
    adapter = await spawnAdapter([
      "--standalone",
      `--prometheus-url=${prometheus.url}`,
      "--secure-port",
      "0",
      "--cert-dir",
      join(dir, "certs"),
      "--v=2",
      "--logtostderr",
    ]);
  });
  afterAll(async () => {
    if (adapter) expect(await adapter.stop()).toBe(0);
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function kubectlRaw(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
    // NB: this kubectl build asks for credentials when it has none; standalone mode ignores the token.
    const child = Bun.spawn(
      [
        kubectl!,
        "get",
        "--raw",
        path,
        `--server=https://127.0.0.1:${adapter.port}`,
        "--insecure-skip-tls-verify",
        "--token=unused",
      ],
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

  async function untilReady(): Promise<void> {
    // Discovery runs right after the listener starts; readyz reports when it has succeeded.
    for (let attempt = 0; attempt < 100; attempt++) {
      const { stdout } = await kubectlRaw("/readyz");
      if (stdout.trim() === "ok") return;
      await Bun.sleep(50);
    }
    throw new Error(`never ready:\n${adapter.stderr()}`);
  }

  test("kubectl reads discovery and the podinfo http_requests value", async () => {
    await untilReady();
    const discovery = await kubectlRaw("/apis/custom.metrics.k8s.io/v1beta1");
    expect(discovery.code).toBe(0);
    expect(JSON.parse(discovery.stdout).resources).toContainEqual({
      name: "pods/http_requests",
      singularName: "",
      namespaced: true,
      kind: "MetricValueList",
      verbs: ["get"],
    });

    const values = await kubectlRaw("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/http_requests");
    expect(values.code).toBe(0);
    const body = JSON.parse(values.stdout);
    expect(body.kind).toBe("MetricValueList");
    expect(body.items).toHaveLength(1);
    expect(body.items[0].describedObject).toEqual({
      kind: "Pod",
      namespace: "default",
      name: "podinfo-7cd8684594-vcrcj",
      apiVersion: "/v1",
    });
    expect(body.items[0].metricName).toBe("http_requests");
    expect(body.items[0].value).toMatch(/^\d+m?$/);
  });

  test("kubectl shows the Status message of a missing metric", async () => {
    const result = await kubectlRaw("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/nope");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("the server could not find the metric nope for pods");
  });
});

describe("the command line", () => {
  test("a bad rules file exits 1 with file:line:col, rule and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prom-adapter-cli-"));
    const file = join(dir, "rules.yaml");
    writeFileSync(file, "rules:\n- seriesQuery: up\n  name:\n    matchs: x\n  metricsQuery: 'sum(<<.Serie>>)'\n");
    const { code, stderr } = await runMain(["--standalone", "--config", file]);
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}:4:5: rules[0].name: unknown field "matchs"`);
  });

  test("a rule with a bad regex and template field reports both", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prom-adapter-cli-"));
    const file = join(dir, "rules.yaml");
    writeFileSync(file, "rules:\n- seriesQuery: up\n  name: {matches: '(foo'}\n  metricsQuery: 'sum(<<.Serie>>)'\n");
    const { code, stderr } = await runMain(["--standalone", "--config", file]);
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}:3:19: rules[0].name.matches: invalid RE2 "(foo": missing closing )`);
    // The column points at `.Serie` inside the quoted template.
    expect(stderr).toContain(
      `${file}:4:24: rules[0].metricsQuery: unknown field .Serie (fields: Series LabelMatchers LabelValuesByName GroupBy GroupBySlice)`,
    );
  });

  test("an unknown flag exits 2 and names it", async () => {
    const { code, stderr } = await runMain(["--standalone", "--no-such-flag=1"]);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown flag: --no-such-flag");
  });

  test("--version prints the package version", async () => {
    const { code, stdout } = await runMain(["--version"]);
    expect(code).toBe(0);
    expect(stdout).toBe(
      `prom-adapter ${(await Bun.file(join(import.meta.dir, "..", "..", "package.json")).json()).version}\n`,
    );
  });

  test("--help lists every flag of the CLI contract", async () => {
    const { code, stdout } = await runMain(["--help"]);
    expect(code).toBe(0);
    for (const flag of [
      "--prometheus-url",
      "--config",
      "--metrics-relist-interval",
      "--metrics-max-age",
      "--secure-port",
      "--bind-address",
      "--cert-dir",
      "--tls-cert-file",
      "--standalone",
      "--kubeconfig",
      "--prometheus-header",
      "--prometheus-verb",
      "--v=",
      "--logtostderr",
      "--version",
    ]) {
      expect(stdout).toContain(flag);
    }
  });
});
