/**
 * Prometheus failures seen from the API: a dead Prometheus gives a generic 500 Status and the process keeps serving;
 * a failed relist keeps the previous registry; readiness waits for the first successful discovery.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import {
  freePort,
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("fault integration tests", skip);

const NOW = Math.floor(Date.now() / 1000);
const SERIES = openMetricsText([
  {
    name: "queue_length",
    labels: { namespace: "default", pod: "worker-0" },
    samples: [
      [NOW - 30, 4],
      [NOW - 15, 5],
    ],
  },
]);
const METRIC_PATH = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/queue_length";
const UNABLE_TO_FETCH =
  '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: unable to fetch metrics","reason":"InternalError","details":{"causes":[{"message":"unable to fetch metrics"}]},"code":500}\n';

describe.skipIf(skip !== null).each(["series", "labels"])(
  "when Prometheus fails (--discovery-mode=%s)",
  (discoveryMode) => {
    let prometheus: RunningPrometheus;
    let adapter: TestAdapter;

    beforeAll(async () => {
      if (skip) return;
      prometheus = await startPrometheus({ openMetrics: SERIES });
      // A zero cache TTL makes every request reach Prometheus, so the outage is visible at once.
      adapter = await startTestAdapter({
        prometheusUrl: prometheus.url,
        extraArgs: ["--query-cache-ttl", "0s", `--discovery-mode=${discoveryMode}`],
      });
      expect(await adapter.adapter.relister.runOnce()).toBe(true);
    });
    afterAll(async () => {
      await adapter?.close();
      await prometheus?.kill();
    });

    test("queries answer 500 unable to fetch metrics, the registry is kept, and health stays 200", async () => {
      const before = await adapter.get(METRIC_PATH);
      expect(before.status).toBe(200);
      expect(((await before.json()) as { items: { value: string }[] }).items.map((i) => i.value)).toEqual(["5"]);

      await prometheus.kill();

      const during = await adapter.get(METRIC_PATH);
      expect(during.status).toBe(500);
      expect(await during.text()).toBe(UNABLE_TO_FETCH);
      expect(adapter.logs.some((line) => line.includes("unable to fetch metrics") && line.includes("cause="))).toBe(
        true,
      );

      expect(await adapter.adapter.relister.runOnce()).toBe(false);
      const discovery = await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta1")).text();
      expect(discovery).toContain('"name":"pods/queue_length"');
      expect(adapter.logs.some((line) => line.includes("discovery failed; keeping the previous metric registry"))).toBe(
        true,
      );

      for (const path of ["/healthz", "/readyz"]) expect((await adapter.get(path)).status).toBe(200);
    });
  },
);

describe("before the first successful discovery", () => {
  let adapter: TestAdapter;
  beforeAll(async () => {
    adapter = await startTestAdapter({ prometheusUrl: `http://127.0.0.1:${await freePort()}` });
  });
  afterAll(async () => adapter?.close());

  test("readyz is 500 with a reason, healthz is 200, and discovery lists the placeholder", async () => {
    expect(await adapter.adapter.relister.runOnce()).toBe(false);
    const ready = await adapter.get("/readyz");
    expect([ready.status, await ready.text()]).toEqual([
      500,
      "not ready: waiting for the first successful metric discovery",
    ]);
    expect((await adapter.get("/healthz")).status).toBe(200);
    expect(await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta2")).text()).toBe(
      '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"custom.metrics.k8s.io/v1beta2","resources":[{"name":"custommetrics","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]}]}\n',
    );
    const placeholder = await adapter.get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/custommetrics/x/y");
    expect(placeholder.status).toBe(404);
  });

  test("/metrics says not ready, never succeeded, and counts the failed run (what PromAdapterNotReady reads)", async () => {
    expect(await adapter.adapter.relister.runOnce()).toBe(false);
    const text = await (await adapter.get("/metrics")).text();
    expect(text).toContain("\nprom_adapter_ready 0\n");
    expect(text).toContain("\nprom_adapter_discovery_last_success_timestamp_seconds 0\n");
    expect(text).toMatch(/\nprom_adapter_discovery_errors_total [1-9]\d*\n/);
  });
});
