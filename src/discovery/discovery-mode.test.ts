import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseRulesText } from "../config/load.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import { createPrometheusClient } from "../prometheus/client.ts";
import { createHttpTransport } from "../prometheus/http-transport.ts";
import { createManualClock } from "../util/clock.ts";
import { startFaultyProxy, type FaultyProxy } from "../../test/support/faulty-proxy.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../../test/support/prometheus.ts";
import { probeLabelIndex } from "./discovery-mode.ts";
import { createRelister } from "./relister.ts";

const RULES = `rules:
- seriesQuery: '{__name__=~"^http_.*",namespace!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
externalRules:
- seriesQuery: 'queue_depth'
  resources: {namespaced: false}
  metricsQuery: sum(<<.Series>>)
`;
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compiled = compileRules(parseRulesText(RULES, "rules.yaml"), () => mapper);
const now = Math.floor(Date.now() / 1000);
const clientFor = (url: string) => createPrometheusClient(createHttpTransport({ baseUrl: url }));
const listed = (relister: ReturnType<typeof createRelister>) => [
  ...relister
    .current()
    .registry.customMetrics()
    .map((entry) => `${entry.resource.resource}/${entry.metric}<-${entry.seriesName}`),
  ...relister
    .current()
    .registry.externalMetrics()
    .map((entry) => `external/${entry.metric}`),
];

describe.skipIf(prometheusSkipReason() !== null)("discovery modes against a real Prometheus", () => {
  let prometheus: RunningPrometheus;
  let empty: RunningPrometheus;
  let proxy: FaultyProxy;
  beforeAll(async () => {
    const openMetrics = openMetricsText([
      { name: "http_requests_total", labels: { namespace: "a", pod: "p1" }, samples: [[now - 30, 1]], type: "counter" },
      {
        name: "http_requests_total",
        labels: { namespace: "a", service: "s" },
        samples: [[now - 30, 1]],
        type: "counter",
      },
      { name: "http_errors_total", labels: { namespace: "b" }, samples: [[now - 30, 1]], type: "counter" },
      { name: "queue_depth", labels: { queue: "q" }, samples: [[now - 30, 4]] },
    ]);
    [prometheus, empty] = await Promise.all([startPrometheus({ openMetrics, lookbackDelta: "1h" }), startPrometheus()]);
    proxy = startFaultyProxy(prometheus.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([prometheus?.stop(), empty?.stop()]);
  });

  const relisterFor = (url: string, mode: "series" | "labels" | "auto", logger = createMemoryLogger()) =>
    createRelister({
      source: clientFor(url),
      mode,
      rules: () => compiled,
      maxAge: 3_600_000,
      clock: createManualClock(now * 1000),
      logger,
      freshInterval: 0,
    });

  test("labels and series mode register the same metrics: one series call per seriesQuery against a few index calls", async () => {
    const costs: Record<string, { calls: number; bytes: number }> = {};
    const registries: Record<string, string[]> = {};
    for (const mode of ["series", "labels"] as const) {
      const relister = createRelister({
        source: clientFor(prometheus.url),
        mode,
        rules: () => compiled,
        maxAge: 3_600_000,
        clock: createManualClock(now * 1000),
        logger: createMemoryLogger(),
        freshInterval: 0,
        onRun: ({ cost }) => (costs[mode] = cost),
      });
      expect(await relister.runOnce()).toBe(true);
      expect(relister.mode()).toBe(mode);
      registries[mode] = listed(relister);
    }
    expect(registries.labels).toEqual(registries.series as string[]);
    expect(registries.labels).toEqual([
      "namespaces/http_errors<-http_errors_total",
      "namespaces/http_requests<-http_requests_total",
      "pods/http_requests<-http_requests_total",
      "services/http_requests<-http_requests_total",
      "external/queue_depth",
    ]);
    // series: one call per seriesQuery; labels: every label name once, then per query one call per resource label
    // (namespace, pod, service) and, for the external rule's query, its names.
    expect(costs.series?.calls).toBe(2);
    expect(costs.labels?.calls).toBe(1 + 3 + 1);
    expect(costs.labels?.bytes).toBeGreaterThan(0);
  });

  test("auto probes once, uses the label index, and logs the relist cost at --v=2", async () => {
    const logger = createMemoryLogger(2);
    const relister = relisterFor(proxy.url, "auto", logger);
    const before = proxy.requests().length;
    expect(await relister.runOnce()).toBe(true);
    expect(await relister.runOnce()).toBe(true);
    expect(relister.mode()).toBe("labels");
    const paths = proxy
      .requests()
      .slice(before)
      .map((request) => request.url);
    expect(paths.filter((url) => url.includes("prom_adapter_discovery_probe")).length).toBe(2);
    expect(paths.some((url) => url.startsWith("/api/v1/series"))).toBe(false);
    const relists = logger.lines.filter((line) => line.includes("discovery finished"));
    expect(relists.length).toBe(2);
    expect(relists[0]).toMatch(/mode="?labels"?.*calls="?\d+"?.*bytes="?\d+"?/);
  });

  test("auto falls back to series listing, saying why, when the backend answers 400 to match[] on the label endpoints", async () => {
    proxy.setMode("reject-label-match");
    try {
      const logger = createMemoryLogger();
      const relister = relisterFor(proxy.url, "auto", logger);
      expect(await relister.runOnce()).toBe(true);
      expect(relister.mode()).toBe("series");
      expect(logger.lines.join("\n")).toContain("falling back to series listing");
      expect(logger.lines.join("\n")).toContain("match[] is not supported on this endpoint");
      expect(listed(relister)).toContain("pods/http_requests<-http_requests_total");
    } finally {
      proxy.setMode("pass");
    }
  });

  test("auto falls back to series listing when the backend ignores match[] on the label endpoints", async () => {
    proxy.setMode("ignore-label-match");
    try {
      const outcome = await probeLabelIndex(clientFor(proxy.url), now - 3600);
      expect(outcome.mode).toBe("series");
      expect(outcome.reason).toContain("ignores match[]");
    } finally {
      proxy.setMode("pass");
    }
  });

  test("auto cannot tell on an empty backend: it lists series for now and probes again on the next run", async () => {
    expect((await probeLabelIndex(clientFor(empty.url), now - 3600)).mode).toBeNull();
    const relister = relisterFor(empty.url, "auto");
    expect(await relister.runOnce()).toBe(true);
    expect(relister.mode()).toBeNull();
  });

  test("known difference: the label index answers per block, so a metric whose series stopped before the window still counts", async () => {
    // NB: Prometheus (2.42) filters /api/v1/series by chunk time but the label endpoints only by block time range; a
    // series last sampled before --metrics-max-age stays in label discovery while its block (e.g. the head, ~2-3 h)
    // overlaps the window. Series mode drops it.
    // The samples sit in the middle of the last whole 2 h block before now, so both land in one backfilled block
    // whatever the time of day (a window starting in a younger block than the stopped sample would hide it).
    const TWO_HOURS = 7200;
    const base = Math.floor(now / TWO_HOURS) * TWO_HOURS - TWO_HOURS / 2;
    const start = base - 60;
    const stale = await startPrometheus({
      openMetrics: openMetricsText([
        { name: "stopped_metric", labels: { pod: "a" }, samples: [[base - 600, 1]] },
        { name: "live_metric", labels: { namespace: "n" }, samples: [[base - 30, 1]] },
      ]),
    });
    try {
      const client = clientFor(stale.url);
      expect((await client.series(['{__name__=~".+"}'], start)).map((series) => series.__name__)).toEqual([
        "live_metric",
      ]);
      expect(await client.labelValues("__name__", start, ['{__name__=~".+"}'])).toEqual([
        "live_metric",
        "stopped_metric",
      ]);
    } finally {
      await stale.stop();
    }
  });

  test("a probe that cannot reach Prometheus fails the run, which keeps the previous registry", async () => {
    const relister = relisterFor("http://127.0.0.1:9", "auto");
    expect(await relister.runOnce()).toBe(false);
    expect(relister.mode()).toBeNull();
  });
});
