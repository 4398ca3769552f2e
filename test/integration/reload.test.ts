/**
 * Rules reload without restart, seen from the API: a valid new file is served after the reload's relist, an invalid
 * one is rejected with the old rules kept and the reload metric at 0; SIGHUP on the real process reloads.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import { spawnAdapter } from "../support/process.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("reload integration tests", skip);

const NOW = Math.floor(Date.now() / 1000);
const gauge = (name: string) => ({
  name,
  labels: { namespace: "default", pod: "worker-0" },
  samples: [[NOW - 20, 3]] as [number, number][],
});
const rulesFor = (names: string[]) => `rules:
- seriesQuery: '{__name__=~"^(${names.join("|")})$",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;

describe.skipIf(skip !== null)("rules reload", () => {
  let prometheus: RunningPrometheus;
  let adapter: TestAdapter;
  let dir: string;
  let file: string;
  const listed = async () =>
    (
      (await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta1")).json()) as { resources: { name: string }[] }
    ).resources.map((r) => r.name);

  beforeAll(async () => {
    if (skip) return;
    prometheus = await startPrometheus({ openMetrics: openMetricsText([gauge("alpha_depth"), gauge("beta_depth")]) });
    dir = mkdtempSync(join(tmpdir(), "reload-it-"));
    file = join(dir, "rules.yaml");
    writeFileSync(file, rulesFor(["alpha_depth"]));
    adapter = await startTestAdapter({ prometheusUrl: prometheus.url, extraArgs: ["--config", file] });
    await adapter.adapter.relister.runOnce();
  });
  afterAll(async () => {
    await adapter?.close();
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a valid change is served after the reload, an invalid one keeps the old rules and sets the metric to 0", async () => {
    expect(await listed()).toEqual(["namespaces/alpha_depth", "pods/alpha_depth"]);

    writeFileSync(file, rulesFor(["alpha_depth", "beta_depth"]));
    expect(await adapter.adapter.reloader!.reload()).toEqual({ ok: true, changed: true });
    await adapter.adapter.relister.runOnce();
    expect(await listed()).toEqual(
      ["namespaces/alpha_depth", "pods/alpha_depth", "namespaces/beta_depth", "pods/beta_depth"].sort(),
    );

    writeFileSync(file, "rules:\n- seriesQuery: up\n  metricsQuery: '<<.Nope>>'\n");
    expect(await adapter.adapter.reloader!.reload()).toEqual({ ok: false, changed: true });
    expect(adapter.logs.join("\n")).toContain(`${file}:3:20: rules[0].metricsQuery: unknown field .Nope`);
    const metrics = await (await adapter.get("/metrics")).text();
    expect(metrics).toContain("prom_adapter_config_last_reload_successful 0");
    const values = (await (
      await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/beta_depth")
    ).json()) as { items: { value: string }[] };
    expect(values.items.map((i) => i.value)).toEqual(["3"]);
  });
});

describe.skipIf(skip !== null)("SIGHUP on the running process", () => {
  test("reloads the rules file and logs it", async () => {
    const prometheus = await startPrometheus({ openMetrics: openMetricsText([gauge("alpha_depth")]) });
    const dir = mkdtempSync(join(tmpdir(), "reload-hup-"));
    const file = join(dir, "rules.yaml");
    writeFileSync(file, rulesFor(["alpha_depth"]));
    const process = await spawnAdapter([
      "--standalone",
      `--prometheus-url=${prometheus.url}`,
      "--secure-port=0",
      `--cert-dir=${join(dir, "certs")}`,
      `--config=${file}`,
    ]);
    try {
      process.signal("SIGHUP");
      await process.waitForLog("rules reloaded");
      expect(process.stderr()).toContain("rules reloaded");
    } finally {
      expect(await process.stop()).toBe(0);
      await prometheus.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
