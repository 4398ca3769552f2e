/**
 * metrics.k8s.io against a real Prometheus (backfilled with promtool), with the default resource rules: pods with
 * several containers, a pod missing memory, NaN and negative usage, nodes; the standalone object source and a
 * Kubernetes-like one (objects with labels, all namespaces); the error Statuses. Every usage served is compared with
 * the same PromQL sent straight to Prometheus.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DEFAULT_RULES_TEXT } from "../../src/config/defaults.ts";
import { parseLabelSelector } from "../../src/apimachinery/labels/selector.ts";
import { selectorMatches } from "../../src/apimachinery/labels/conversions.ts";
import { createMemoryLogger } from "../../src/observability/logger.ts";
import type { PrometheusClient } from "../../src/prometheus/client.ts";
import { parseSampleValue } from "../../src/prometheus/sample-value.ts";
import { quantityFromResourceUsage } from "../../src/apimachinery/quantity.ts";
import type { ResourceRules } from "../../src/providers/resource-metrics-provider.ts";
import type { NodeRef, PodRef, ResourceObjectSource } from "../../src/providers/resource-object-source.ts";
import { compileRulesText, createMetricsApp, prometheusClient, type MetricsApp } from "../support/metrics-app.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type OpenMetricsSeries,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("resource metrics integration tests", skip);

const NOW = Math.floor(Date.now() / 1000);
// NB: samples every 15 s from now-240 s to now-30 s; rate()[5m] then extrapolates by a fixed half interval, so the
// adapter's query and the direct one agree at any evaluation time in the next minute (see custom-metrics.test.ts).
const TIMES = Array.from({ length: 15 }, (_, i) => NOW - 240 + i * 15);
const cpu = (labels: Record<string, string>, perScrape: number): OpenMetricsSeries => ({
  name: "container_cpu_usage_seconds_total",
  type: "counter",
  labels,
  samples: TIMES.map((t, i) => [t, Number.isNaN(perScrape) ? Number.NaN : 1000 + perScrape * i] as const),
});
const memory = (labels: Record<string, string>, bytes: number): OpenMetricsSeries => ({
  name: "container_memory_working_set_bytes",
  labels,
  samples: TIMES.map((t) => [t, bytes] as const),
});
const MI = 1024 * 1024;

const SERIES: OpenMetricsSeries[] = [
  cpu({ namespace: "default", pod: "web-0", container: "nginx" }, 6),
  cpu({ namespace: "default", pod: "web-0", container: "sidecar" }, 2),
  memory({ namespace: "default", pod: "web-0", container: "nginx" }, 100 * MI),
  memory({ namespace: "default", pod: "web-0", container: "sidecar" }, 20 * MI),
  cpu({ namespace: "default", pod: "web-1", container: "nginx" }, 3),
  cpu({ namespace: "default", pod: "weird-0", container: "app" }, Number.NaN),
  memory({ namespace: "default", pod: "weird-0", container: "app" }, -5),
  cpu({ namespace: "other", pod: "db-0", container: "postgres" }, 20),
  memory({ namespace: "other", pod: "db-0", container: "postgres" }, 1024 * MI),
  cpu({ instance: "n1", id: "/" }, 40),
  memory({ instance: "n1", id: "/" }, 4096 * MI),
  cpu({ instance: "n2", id: "/" }, 10),
  memory({ instance: "n2", id: "/" }, 3584 * MI),
  cpu({ instance: "n3", id: "/" }, 4),
];

const GROUP = "/apis/metrics.k8s.io";
let prometheus: RunningPrometheus;
let client: PrometheusClient;
let rules: ResourceRules;
let app: MetricsApp;
const logger = createMemoryLogger(1);

beforeAll(async () => {
  if (skip) return;
  prometheus = await startPrometheus({ openMetrics: openMetricsText(SERIES) });
  client = prometheusClient(prometheus.url);
  rules = compileRulesText(DEFAULT_RULES_TEXT).resource!;
  app = createMetricsApp({ logger, resource: { rules, client } });
});

afterAll(async () => {
  await prometheus?.stop();
});

const get = (path: string, appUnderTest: MetricsApp = app) => appUnderTest.handle(new Request(`http://adapter${path}`));
const withoutTimes = (text: string) =>
  text.replaceAll(/"(timestamp|creationTimestamp)":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/g, '"$1":"T"');
const status = (code: number, message: string, reason: string, details?: string) =>
  `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":${JSON.stringify(message)},"reason":"${reason}"${details ? `,"details":${details}` : ""},"code":${code}}\n`;
const notFoundPath = status(404, "the server could not find the requested resource", "NotFound", "{}");

/** Usage by the given labels (joined with "/") of a direct query, as the resource API formats it. */
async function direct(
  query: string,
  labels: string[],
  format: "DecimalSI" | "BinarySI",
): Promise<Record<string, string>> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return Object.fromEntries(
    body.data.result.map((s) => [
      labels.map((l) => s.metric[l]).join("/"),
      quantityFromResourceUsage(parseSampleValue(s.value[1]), format),
    ]),
  );
}
const podCpu = (ns: string, pods: string) =>
  direct(
    `sum(rate(container_cpu_usage_seconds_total{namespace="${ns}",pod=~"${pods}"}[5m])) by (pod,container)`,
    ["pod", "container"],
    "DecimalSI",
  );
const podMemory = (ns: string, pods: string) =>
  direct(
    `sum(container_memory_working_set_bytes{namespace="${ns}",pod=~"${pods}"}) by (pod,container)`,
    ["pod", "container"],
    "BinarySI",
  );
const container = (name: string, cpuUsage: string | undefined, memoryUsage: string | undefined) =>
  `{"name":"${name}","usage":{"cpu":"${cpuUsage}","memory":"${memoryUsage}"}}`;

/** Objects as the Kubernetes source would give them: Running pods with labels, filtered by the label selector. */
function kubernetesLikeObjects(pods: PodRef[], nodes: NodeRef[]): ResourceObjectSource {
  const matching = <T extends { labels: Readonly<Record<string, string>> }>(objects: T[], selector: string) =>
    objects.filter((o) => selectorMatches(parseLabelSelector(selector), o.labels));
  return {
    listPods: async (namespace, selector) =>
      matching(pods, selector).filter((p) => namespace === undefined || p.namespace === namespace),
    getPod: async (namespace, name) => pods.find((p) => p.namespace === namespace && p.name === name) ?? null,
    listNodes: async (selector) => matching(nodes, selector),
    getNode: async (name) => nodes.find((n) => n.name === name) ?? null,
  };
}

describe.skipIf(skip !== null)("metrics.k8s.io against a real Prometheus", () => {
  test("the group document and the resource list", async () => {
    expect(await (await get(GROUP)).text()).toBe(
      '{"kind":"APIGroup","apiVersion":"v1","name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}],' +
        '"preferredVersion":{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}}\n',
    );
    expect(await (await get(`${GROUP}/v1beta1`)).text()).toBe(
      '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"metrics.k8s.io/v1beta1","resources":[' +
        '{"name":"nodes","singularName":"","namespaced":false,"kind":"NodeMetrics","verbs":["get","list"]},' +
        '{"name":"pods","singularName":"","namespaced":true,"kind":"PodMetrics","verbs":["get","list"]}]}\n',
    );
  });

  test("pods of a namespace: every container, usage as the direct PromQL gives it, NaN and negative as 0, pods missing memory left out", async () => {
    const response = await get(`${GROUP}/v1beta1/namespaces/default/pods`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const text = await response.text();
    const cpuUsage = await podCpu("default", "weird-0|web-0|web-1");
    const memoryUsage = await podMemory("default", "weird-0|web-0|web-1");
    // NB: 0.1 core comes out of rate() as 0.0999…, which truncates to 99m (upstream truncates int64(v*1000)).
    expect(cpuUsage).toEqual({
      "web-0/nginx": "300m",
      "web-0/sidecar": "99m",
      "web-1/nginx": "150m",
      "weird-0/app": "0",
    });
    expect(memoryUsage).toEqual({ "web-0/nginx": "100Mi", "web-0/sidecar": "20Mi", "weird-0/app": "0" });
    expect(withoutTimes(text)).toBe(
      '{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[' +
        `{"metadata":{"name":"web-0","namespace":"default","creationTimestamp":"T"},"timestamp":"T","window":"5m0s","containers":[` +
        `${container("nginx", cpuUsage["web-0/nginx"], memoryUsage["web-0/nginx"])},${container("sidecar", cpuUsage["web-0/sidecar"], memoryUsage["web-0/sidecar"])}]},` +
        `{"metadata":{"name":"weird-0","namespace":"default","creationTimestamp":"T"},"timestamp":"T","window":"5m0s","containers":[${container("app", "0", "0")}]}]}\n`,
    );
    const body = JSON.parse(text) as { items: { metadata: { creationTimestamp: string }; timestamp: string }[] };
    for (const item of body.items) {
      expect(Math.abs(Date.parse(item.timestamp) - Date.now())).toBeLessThan(60_000);
      expect(Math.abs(Date.parse(item.metadata.creationTimestamp) - Date.now())).toBeLessThan(60_000);
    }
    expect(
      logger.lines.some(
        (line) => line.includes("no resource metrics for pod") && line.includes("pod=default/web-1 missing=memory"),
      ),
    ).toBe(true);
  });

  test("a single pod carries kind and apiVersion", async () => {
    const text = await (await get(`${GROUP}/v1beta1/namespaces/other/pods/db-0`)).text();
    expect(withoutTimes(text)).toBe(
      '{"kind":"PodMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"db-0","namespace":"other","creationTimestamp":"T"},"timestamp":"T","window":"5m0s",' +
        `"containers":[${container("postgres", "1", "1Gi")}]}\n`,
    );
  });

  test("fieldSelector filters the pods", async () => {
    const body = (await (
      await get(`${GROUP}/v1beta1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-0`)
    ).json()) as { items: { metadata: { name: string } }[] };
    expect(body.items.map((i) => i.metadata.name)).toEqual(["web-0"]);
  });

  test("nodes: one item per node with both CPU and memory, sorted by name", async () => {
    const cpuUsage = await direct(
      `sum(rate(container_cpu_usage_seconds_total{instance=~"n1|n2|n3", id='/'}[5m])) by (instance)`,
      ["instance"],
      "DecimalSI",
    );
    const memoryUsage = await direct(
      `sum(container_memory_working_set_bytes{instance=~"n1|n2|n3",id='/'}) by (instance)`,
      ["instance"],
      "BinarySI",
    );
    expect(cpuUsage).toEqual({ n1: "2", n2: "500m", n3: "199m" });
    const text = await (await get(`${GROUP}/v1beta1/nodes`)).text();
    const node = (name: string) =>
      `{"metadata":{"name":"${name}","creationTimestamp":"T"},"timestamp":"T","window":"5m0s","usage":{"cpu":"${cpuUsage[name]}","memory":"${memoryUsage[name]}"}}`;
    expect(withoutTimes(text)).toBe(
      `{"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[${node("n1")},${node("n2")}]}\n`,
    );
    expect(text).toContain('"memory":"3584Mi"');
    const single = await (await get(`${GROUP}/v1beta1/nodes/n2`)).text();
    expect(withoutTimes(single)).toBe(
      `{"kind":"NodeMetrics","apiVersion":"metrics.k8s.io/v1beta1",${node("n2").slice(1)}\n`,
    );
  });

  test.each([
    [
      "a pod without memory data",
      `${GROUP}/v1beta1/namespaces/default/pods/web-1`,
      404,
      status(
        404,
        'podmetrics.metrics.k8s.io "default/web-1" not found',
        "NotFound",
        '{"name":"default/web-1","group":"metrics.k8s.io","kind":"podmetrics"}',
      ),
    ],
    [
      "a pod nobody knows",
      `${GROUP}/v1beta1/namespaces/default/pods/ghost`,
      404,
      status(
        404,
        'podmetrics.metrics.k8s.io "default/ghost" not found',
        "NotFound",
        '{"name":"default/ghost","group":"metrics.k8s.io","kind":"podmetrics"}',
      ),
    ],
    [
      "a node without memory data",
      `${GROUP}/v1beta1/nodes/n3`,
      404,
      status(
        404,
        'nodemetrics.metrics.k8s.io "n3" not found',
        "NotFound",
        '{"name":"n3","group":"metrics.k8s.io","kind":"nodemetrics"}',
      ),
    ],
    [
      "pods of all namespaces in standalone mode",
      `${GROUP}/v1beta1/pods`,
      400,
      status(400, "all-namespaces pod metrics are not supported in standalone mode", "BadRequest"),
    ],
    [
      "a labelSelector in standalone mode",
      `${GROUP}/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb`,
      400,
      status(400, "labelSelector is not supported in standalone mode", "BadRequest"),
    ],
    [
      "an unsupported fieldSelector",
      `${GROUP}/v1beta1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dn1`,
      400,
      status(
        400,
        'unable to parse fieldSelector: "spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"',
        "BadRequest",
      ),
    ],
    ["a namespace without pods", `${GROUP}/v1beta1/namespaces/default`, 404, notFoundPath],
    ["a path too long", `${GROUP}/v1beta1/namespaces/default/pods/web-0/extra`, 404, notFoundPath],
    ["another resource", `${GROUP}/v1beta1/namespaces/default/services`, 404, notFoundPath],
    ["an unknown version", `${GROUP}/v1/nodes`, 404, notFoundPath],
  ])("%s answers the exact Status", async (_, path, code, body) => {
    const response = await get(path);
    expect(response.status).toBe(code);
    expect(await response.text()).toBe(body);
  });

  describe("with Kubernetes-like objects", () => {
    const pods: PodRef[] = [
      { namespace: "other", name: "db-0", labels: { app: "db" } },
      { namespace: "default", name: "web-0", labels: { tier: "front", app: "web" } },
      { namespace: "default", name: "web-1", labels: { app: "web" } },
      { namespace: "default", name: "idle", labels: {} },
    ];
    const nodes: NodeRef[] = [
      { name: "n2", labels: {} },
      { name: "n1", labels: { "node-role.kubernetes.io/db": "", "kubernetes.io/hostname": "n1" } },
    ];
    const kubeApp = () =>
      createMetricsApp({ logger, resource: { rules, client, objects: kubernetesLikeObjects(pods, nodes) } });

    test("pods of all namespaces, sorted by namespace then name, with their labels", async () => {
      const body = (await (await get(`${GROUP}/v1beta1/pods`, kubeApp())).json()) as {
        items: { metadata: Record<string, unknown> }[];
      };
      expect(body.items.map((i) => i.metadata)).toEqual([
        {
          name: "web-0",
          namespace: "default",
          creationTimestamp: expect.any(String),
          labels: { app: "web", tier: "front" },
        },
        { name: "db-0", namespace: "other", creationTimestamp: expect.any(String), labels: { app: "db" } },
      ]);
      const text = await (await get(`${GROUP}/v1beta1/namespaces/default/pods/web-0`, kubeApp())).text();
      expect(text).toContain('"metadata":{"name":"web-0","namespace":"default","creationTimestamp":');
      expect(text).toContain('Z","labels":{"app":"web","tier":"front"}},"timestamp"');
    });

    test("the label selector picks the pods", async () => {
      const body = (await (
        await get(`${GROUP}/v1beta1/pods?labelSelector=${encodeURIComponent("tier in (front)")}`, kubeApp())
      ).json()) as { items: { metadata: { name: string } }[] };
      expect(body.items.map((i) => i.metadata.name)).toEqual(["web-0"]);
    });

    test("nodes carry their labels, keys sorted", async () => {
      const text = await (await get(`${GROUP}/v1beta1/nodes/n1`, kubeApp())).text();
      expect(text).toContain('"labels":{"kubernetes.io/hostname":"n1","node-role.kubernetes.io/db":""}');
    });

    test("unknown objects are 404s about pods and nodes", async () => {
      const pod = await get(`${GROUP}/v1beta1/namespaces/default/pods/ghost`, kubeApp());
      expect(await pod.text()).toBe(
        status(404, 'pods "ghost" not found', "NotFound", '{"name":"ghost","kind":"pods"}'),
      );
      const node = await get(`${GROUP}/v1beta1/nodes/ghost`, kubeApp());
      expect(await node.text()).toBe(
        status(404, 'nodes "ghost" not found', "NotFound", '{"name":"ghost","kind":"nodes"}'),
      );
    });

    test("a namespace whose queries fail loses only its pods", async () => {
      const failing: PrometheusClient = {
        ...client,
        query: (query, time, signal) =>
          query.includes('namespace="other"')
            ? Promise.reject(new Error("injected failure"))
            : client.query(query, time, signal),
      };
      const partial = createMetricsApp({
        logger,
        resource: { rules, client: failing, objects: kubernetesLikeObjects(pods, nodes) },
      });
      const response = await get(`${GROUP}/v1beta1/pods`, partial);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { items: { metadata: { namespace: string; name: string } }[] };
      expect(body.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(["default/web-0"]);
      expect(
        logger.lines.some(
          (line) => line.includes("unable to fetch metrics for pods in namespace") && line.includes("namespace=other"),
        ),
      ).toBe(true);
    });
  });
});
