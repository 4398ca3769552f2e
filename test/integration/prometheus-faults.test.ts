/**
 * Every Prometheus fault (5xx, HTML, truncated JSON, a huge body, no answer at all, a dead process) becomes a quick
 * 500 Status with a generic message; the process stays up, health stays 200, discovery keeps the last good registry,
 * and everything recovers by itself when Prometheus behaves again. A failing Kubernetes LIST is treated alike.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import { startFaultyProxy, type FaultyProxy, type ProxyMode } from "../support/faulty-proxy.ts";
import { startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("Prometheus fault tests", skip);

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
const PATH = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/queue_length";
const UNABLE =
  '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: unable to fetch metrics","reason":"InternalError","details":{"causes":[{"message":"unable to fetch metrics"}]},"code":500}\n';

describe.skipIf(skip !== null).each(["series", "labels"])(
  "Prometheus misbehaving (--discovery-mode=%s)",
  (discoveryMode) => {
    let prometheus: RunningPrometheus;
    let proxy: FaultyProxy;
    let adapter: TestAdapter;

    beforeAll(async () => {
      if (skip) return;
      prometheus = await startPrometheus({ openMetrics: SERIES });
      proxy = startFaultyProxy(prometheus.url);
      adapter = await startTestAdapter({
        prometheusUrl: proxy.url,
        extraArgs: [
          "--query-cache-ttl=0s",
          "--prometheus-timeout=1s",
          "--prometheus-series-timeout=1s",
          `--discovery-mode=${discoveryMode}`,
        ],
      });
      expect(await adapter.adapter.relister.runOnce()).toBe(true);
    });
    afterAll(async () => {
      await adapter?.close();
      await proxy?.stop();
      await prometheus?.stop();
    });

    test.each<ProxyMode>(["502", "html", "truncated", "huge", "hang"])(
      "%s: a generic 500, health and registry kept, then recovery",
      async (mode) => {
        proxy.setMode(mode);
        const response = await adapter.get(PATH);
        expect(response.status).toBe(500);
        expect(await response.text()).toBe(UNABLE);
        expect(await adapter.adapter.relister.runOnce()).toBe(false);
        expect((await adapter.get("/healthz")).status).toBe(200);
        expect(await (await adapter.get("/apis/custom.metrics.k8s.io/v1beta1")).text()).toContain(
          '"pods/queue_length"',
        );

        proxy.setMode("pass");
        const recovered = await adapter.get(PATH);
        expect(recovered.status).toBe(200);
        expect(((await recovered.json()) as { items: { value: string }[] }).items.map((i) => i.value)).toEqual(["5"]);
        expect(await adapter.adapter.relister.runOnce()).toBe(true);
      },
    );

    test("the causes are in the log, not in the answers", () => {
      const log = adapter.logs.join("\n");
      expect(log).toContain("bad_response: unknown response code 502");
      expect(log).toContain("timeout");
    });

    test("a stopped Prometheus (SIGSTOP) times out into a 500 and recovers after SIGCONT", async () => {
      prometheus.pause();
      try {
        const response = await adapter.get(PATH);
        expect(response.status).toBe(500);
      } finally {
        prometheus.resume();
      }
      expect((await adapter.get(PATH)).status).toBe(200);
    });
  },
);

describe.skipIf(skip !== null)("the Kubernetes API failing", () => {
  let cluster: KubeApiServer;
  let prometheus: RunningPrometheus;
  let adapter: TestAdapter;

  beforeAll(async () => {
    if (skip) return;
    cluster = await startKubeApiServer();
    cluster.setObjects({ group: "", resource: "pods" }, [{ name: "worker-0", namespace: "default" }]);
    prometheus = await startPrometheus({ openMetrics: SERIES });
    adapter = await startTestAdapter({
      prometheusUrl: prometheus.url,
      kubeconfig: cluster.kubeconfigFor({ token: cluster.adminToken }),
    });
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
  });
  afterAll(async () => {
    await adapter?.close();
    await prometheus?.stop();
    await cluster?.close();
  });

  test("a failed LIST is a 500 'unable to list matching resources', and the next request is served", async () => {
    const asAdmin = { authorization: `Bearer ${cluster.adminToken}` };
    cluster.failNext("/api/v1/namespaces/default/pods", 503);
    const failed = await adapter.get(PATH, asAdmin);
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { message: string }).message).toBe(
      "Internal error occurred: unable to list matching resources",
    );
    const served = await adapter.get(PATH, asAdmin);
    expect(served.status).toBe(200);
  });

  test("a failed discovery refresh keeps the REST mapper and the registry", async () => {
    cluster.failNext("/apis", 503, 1);
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    expect(adapter.logs.join("\n")).toContain("REST mapper refresh failed; keeping the previous one");
    expect((await adapter.get(PATH, { authorization: `Bearer ${cluster.adminToken}` })).status).toBe(200);
  });
});
