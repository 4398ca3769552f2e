import { describe, expect, test } from "bun:test";
import { createSelfMetrics, removeBackendSeries } from "./self-metrics.ts";

/** The lines of the discovery and registry series in the exposition text (no HELP/TYPE, no buckets). */
async function discoveryLines(metrics: ReturnType<typeof createSelfMetrics>): Promise<string[]> {
  return (await metrics.text())
    .split("\n")
    .filter((line) => /^prom_adapter_(discovery_(errors|last|series|calls)|registered)/.test(line));
}

describe("self-metrics and named backends", () => {
  test("before any discovery, the unlabelled discovery series show their zeros as before backends existed", async () => {
    expect(await discoveryLines(createSelfMetrics())).toEqual([
      "prom_adapter_discovery_errors_total 0",
      "prom_adapter_discovery_last_success_timestamp_seconds 0",
      "prom_adapter_discovery_series 0",
    ]);
  });

  test("the default backend's series carry no backend label; a named backend's carry its name", async () => {
    const metrics = createSelfMetrics();
    metrics.discoveryCalls.inc({ mode: "labels" }, 3);
    metrics.discoveryCalls.inc({ mode: "labels", backend: "team-a" }, 4);
    metrics.discoveryErrors.inc({ backend: "team-a" });
    metrics.registeredMetrics.set({ api: "custom.metrics.k8s.io" }, 2);
    metrics.registeredMetrics.set({ api: "custom.metrics.k8s.io", backend: "team-a" }, 5);
    expect(await discoveryLines(metrics)).toEqual([
      'prom_adapter_discovery_calls_total{mode="labels"} 3',
      'prom_adapter_discovery_calls_total{mode="labels",backend="team-a"} 4',
      "prom_adapter_discovery_errors_total 0",
      'prom_adapter_discovery_errors_total{backend="team-a"} 1',
      "prom_adapter_discovery_last_success_timestamp_seconds 0",
      "prom_adapter_discovery_series 0",
      'prom_adapter_registered_metrics{api="custom.metrics.k8s.io"} 2',
      'prom_adapter_registered_metrics{api="custom.metrics.k8s.io",backend="team-a"} 5',
    ]);
  });

  test("removing a backend drops its series and keeps the default's and the other backends'", async () => {
    const metrics = createSelfMetrics({ processMetrics: false });
    metrics.discoveryCalls.inc({ mode: "labels" }, 3);
    metrics.discoveryCalls.inc({ mode: "labels", backend: "team-a" }, 4);
    metrics.discoveryErrors.inc({ backend: "team-b" });
    metrics.discoveryLastSuccess.set({ backend: "team-a" }, 1700000000);
    metrics.registeredMetrics.set({ api: "custom.metrics.k8s.io", backend: "team-a" }, 5);
    metrics.prometheusRequestDuration.observe(
      { path: "query", server: "http://a", outcome: "success", backend: "team-a" },
      0.1,
    );
    metrics.discoveryDuration.observe({ outcome: "success", mode: "labels", backend: "team-a" }, 0.2);
    await removeBackendSeries(metrics, "team-a");
    const text = await metrics.text();
    expect({ teamA: text.includes('backend="team-a"'), lines: await discoveryLines(metrics) }).toEqual({
      teamA: false,
      lines: [
        'prom_adapter_discovery_calls_total{mode="labels"} 3',
        "prom_adapter_discovery_errors_total 0",
        'prom_adapter_discovery_errors_total{backend="team-b"} 1',
        "prom_adapter_discovery_last_success_timestamp_seconds 0",
        "prom_adapter_discovery_series 0",
      ],
    });
  });
});
