import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryLogger } from "../../observability/logger.ts";
import type { VectorSample } from "../../prometheus/types.ts";
import { InternalError } from "../../apimachinery/status.ts";
import type { ResourceObjectSource } from "../../providers/resource-object-source.ts";
import type { QuerySource } from "../../prometheus/query-cache.ts";
import { builtinAccess, type KubernetesAccess } from "../environment.ts";
import { describeResourceRequest, explainResourceRequest } from "./resource.ts";
import { parseExplainPath } from "./request.ts";
import { createFakePrometheus, prometheusFailure } from "../../../test/support/fake-prometheus.ts";
import type { ExplainStep, ResourceRequest, StepName } from "./types.ts";

const NOW_MS = 1_700_000_000_000;
const MAPPING = "{overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}";
const RULES = `resourceRules:
  cpu:
    containerQuery: sum(cpu{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(node_cpu{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: ${MAPPING}
    containerLabel: container
  memory:
    containerQuery: sum(mem{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(node_mem{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: ${MAPPING}
    containerLabel: container
  window: 1m
`;

const dir = mkdtempSync(join(tmpdir(), "explain-resource-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const rulesFile = file("rules.yaml", RULES);

const sample = (metric: Record<string, string>, value: string): VectorSample => ({
  metric,
  value,
  timestampSeconds: NOW_MS / 1000 - 10,
});

/** A Prometheus that answers the listed PromQL texts (anything else: an empty vector) and fails the `failing` ones. */
const fakePrometheus = (answers: Record<string, VectorSample[]>, failing: Record<string, Error> = {}) =>
  createFakePrometheus({ queries: { ...answers, ...failing } });

const SHOP_PODS = {
  'sum(cpu{namespace="shop",pod=~".+"}) by (pod,container)': [
    sample({ pod: "web-0", container: "app" }, "0.25"),
    sample({ pod: "web-1", container: "app" }, "0.5"),
  ],
  'sum(cpu{namespace="shop",pod=~"web-0|web-1"}) by (pod,container)': [
    sample({ pod: "web-0", container: "app" }, "0.25"),
    sample({ pod: "web-1", container: "app" }, "0.5"),
  ],
  'sum(mem{namespace="shop",pod=~"web-0|web-1"}) by (pod,container)': [
    sample({ pod: "web-0", container: "app" }, "1048576"),
  ],
};

function clusterAccess(objects: Partial<ResourceObjectSource>): KubernetesAccess {
  const none = async () => {
    throw new Error("not expected");
  };
  return {
    ...builtinAccess(),
    mapperKind: "cluster",
    server: "https://127.0.0.1:6443",
    resourceObjects: { listPods: none, getPod: none, listNodes: none, getNode: none, ...objects },
  };
}

async function explainPath(
  path: string,
  prometheus: QuerySource,
  { access = builtinAccess(), configFile = rulesFile }: { access?: KubernetesAccess; configFile?: string } = {},
) {
  const target = parseExplainPath(path);
  const request = target.resource as ResourceRequest;
  const { steps, unreachable } = await explainResourceRequest({
    request,
    pathAndQuery: target.pathAndQuery,
    configFile,
    access,
    prometheus,
    serverLog: createMemoryLogger(10),
    now: () => NOW_MS,
  });
  return { steps, unreachable };
}

const stepOf = <N extends StepName>(steps: readonly ExplainStep[], name: N, index = 0) =>
  steps.filter((step) => step.step === name)[index] as Extract<ExplainStep, { step: N }>;
const statuses = (steps: readonly ExplainStep[]) =>
  steps.map((step) => `${step.step}:${step.status}${step.reason ? `:${step.reason}` : ""}`);

describe("explainResourceRequest", () => {
  test("a standalone pod list with one pod lacking memory: that pod is left out, and the matching step names the missing sample", async () => {
    const { steps, unreachable } = await explainPath(
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
      fakePrometheus(SHOP_PODS),
    );
    expect(unreachable).toBeNull();
    expect(statuses(steps)).toEqual([
      "request:ok",
      "rules:ok",
      "objects:ok",
      "query:ok",
      "result:ok",
      "query:ok",
      "result:ok",
      "matching:warning:object-missing-usage",
      "response:ok",
    ]);
    expect(stepOf(steps, "rules").summary).toBe(
      `${rulesFile}: resourceRules present (pods ← pod, nodes ← node, namespaces ← namespace, containerLabel container; window 1m)`,
    );
    expect(stepOf(steps, "objects").data).toEqual({
      source: "prometheus",
      names: ["shop/web-0", "shop/web-1"],
      labelSelector: "",
      error: null,
    });
    expect(stepOf(steps, "query", 1).summary).toBe(
      'memory, namespace shop: sum(mem{namespace="shop",pod=~"web-0|web-1"}) by (pod,container)',
    );
    expect(stepOf(steps, "result", 1).summary).toBe("memory, namespace shop: 1 sample(s), pod=web-0");
    expect(stepOf(steps, "matching").data.objects).toEqual([
      { name: "shop/web-0", value: "app: cpu 250m, memory 1Mi", note: "CPU from 1 sample(s), memory from 1 sample(s)" },
      {
        name: "shop/web-1",
        value: null,
        note: "no memory sample with label pod=web-1 (the samples have pod=web-0): the CPU query has one under the same label, so this pod's memory series are missing (not scraped, or named differently)",
      },
    ]);
  });

  test("memory samples without the node label: the query aggregated it away", async () => {
    const prometheus = fakePrometheus({
      'sum(node_cpu{node=~".+"}) by (node)': [sample({ node: "n1" }, "2")],
      'sum(node_cpu{node="n1"}) by (node)': [sample({ node: "n1" }, "2")],
      'sum(node_mem{node="n1"}) by (node)': [sample({}, "100")],
    });
    const { steps } = await explainPath("/apis/metrics.k8s.io/v1beta1/nodes", prometheus);
    expect(stepOf(steps, "matching")).toMatchObject({ status: "failed", reason: "object-missing-usage" });
    expect(stepOf(steps, "matching").data.objects[0]?.note).toBe(
      "no memory sample has a node label: the query aggregates it away (group by <<.GroupBy>>) or the rule maps nodes to another label",
    );
    expect(stepOf(steps, "response").data).toMatchObject({ status: 200, body: { items: [] } });
  });

  test("nodes named by another label in Prometheus: the probe finds their values and the matching step says the label is probably another one", async () => {
    const access = clusterAccess({ listNodes: async () => [{ name: "n1", labels: {} }] });
    const prometheus = fakePrometheus({
      'sum(node_cpu{node=~".+"}) by (node)': [sample({ node: "10.0.0.1:9100" }, "2")],
      'sum(node_mem{node=~".+"}) by (node)': [sample({ node: "10.0.0.1:9100" }, "100")],
    });
    const { steps } = await explainPath("/apis/metrics.k8s.io/v1beta1/nodes", prometheus, { access });
    expect(stepOf(steps, "result").summary).toBe(
      "CPU of the nodes: no samples for the requested nodes; for any node it returns 1 sample(s), node=10.0.0.1:9100",
    );
    expect(stepOf(steps, "matching").data.objects[0]?.note).toStartWith(
      "no CPU sample with label node=n1 (for any object the query returns node=10.0.0.1:9100): the node label in Prometheus is probably another one (e.g. node= or instance=<address>), or the rule maps another label; no memory sample",
    );
  });

  test("every query empty: the result steps fail as query-empty and probe for any object", async () => {
    const access = clusterAccess({ getNode: async (name) => ({ name, labels: {} }) });
    const { steps } = await explainPath("/apis/metrics.k8s.io/v1beta1/nodes/n1", fakePrometheus({}), { access });
    expect(stepOf(steps, "objects").summary).toBe("1 node n1 (LISTed from the Kubernetes API): n1");
    expect(stepOf(steps, "result")).toMatchObject({
      status: "failed",
      reason: "query-empty",
      summary:
        'CPU of the nodes: no samples, not even for node=~".+": the series are missing (not scraped, or their labels differ from what the rule maps)',
    });
    expect(stepOf(steps, "result").data.probes).toEqual([
      {
        question: "does the query return anything for any node?",
        promql: 'sum(node_cpu{node=~".+"}) by (node)',
        samples: 0,
      },
    ]);
    expect(stepOf(steps, "response").data).toMatchObject({ status: 404 });
  });

  test("a failing memory query: the query step names Prometheus' error; an unreachable Prometheus is reported", async () => {
    const memory = 'sum(mem{namespace="shop",pod=~"web-0|web-1"}) by (pod,container)';
    const down = prometheusFailure("network");
    const { steps, unreachable } = await explainPath(
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
      fakePrometheus(SHOP_PODS, { [memory]: down }),
    );
    expect(stepOf(steps, "query", 1)).toMatchObject({
      status: "failed",
      reason: "query-failed",
      summary:
        "memory, namespace shop: Prometheus failed the query (the server leaves out every pod of namespace shop): network: connection refused",
    });
    expect(unreachable).toBe("Prometheus: network: connection refused");
    expect(stepOf(steps, "matching").data.objects.map((object) => object.note)).toEqual([
      "the memory query failed",
      "the memory query failed",
    ]);
  });

  test.each([
    [
      "all namespaces in standalone mode",
      "/apis/metrics.k8s.io/v1beta1/pods",
      "the server answers 400: all-namespaces pod metrics are not supported in standalone mode",
    ],
    [
      "a labelSelector in standalone mode",
      "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%3Db",
      "the server answers 400: labelSelector is not supported in standalone mode",
    ],
    [
      "an unparsable labelSelector",
      "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=%3D%3D",
      "the server answers 400 before looking for objects: unable to parse labelSelector: ",
    ],
  ])("%s is lost at the objects step as the server's 400", async (_name, path, summary) => {
    const { steps } = await explainPath(path, fakePrometheus({}));
    expect(stepOf(steps, "objects")).toMatchObject({ status: "failed", reason: "bad-request" });
    expect(stepOf(steps, "objects").summary).toStartWith(summary);
    expect(stepOf(steps, "response").data?.status).toBe(400);
  });

  test("cluster mode: a pod that is not Running is no object", async () => {
    const access = clusterAccess({ getPod: async () => null });
    const { steps } = await explainPath("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-9", fakePrometheus({}), {
      access,
    });
    expect(stepOf(steps, "objects")).toMatchObject({
      status: "failed",
      reason: "no-objects",
      summary: "no Running pod shop/web-9",
    });
    expect(stepOf(steps, "response").data).toMatchObject({ status: 404, body: { message: 'pods "web-9" not found' } });
  });

  test("cluster mode: a failed LIST names the RBAC fix", async () => {
    const access = clusterAccess({
      listNodes: async () => {
        throw new InternalError("unable to list matching resources");
      },
    });
    const { steps, unreachable } = await explainPath("/apis/metrics.k8s.io/v1beta1/nodes", fakePrometheus({}), {
      access,
    });
    expect(stepOf(steps, "objects")).toMatchObject({
      status: "failed",
      reason: "objects-list-failed",
      summary: "listing nodes failed: Internal error occurred: unable to list matching resources",
    });
    expect(stepOf(steps, "objects").hints[0]).toContain("ClusterRole prom-adapter-resource-reader");
    expect(unreachable).toBeNull();
  });

  test("a fieldSelector matching none of the objects filters everything out", async () => {
    const { steps } = await explainPath(
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods?fieldSelector=metadata.name%3Dnone",
      fakePrometheus(SHOP_PODS),
    );
    expect(stepOf(steps, "objects")).toMatchObject({
      status: "failed",
      reason: "selector-filtered-everything",
      summary: "2 pods found, none matching fieldSelector metadata.name=none: the selector filters everything out",
    });
  });

  test("a file without resourceRules: the rules step fails and the server answers 404", async () => {
    const configFile = file(
      "custom-only.yaml",
      "rules:\n- seriesQuery: x\n  resources: {template: <<.Resource>>}\n  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)\n",
    );
    const { steps } = await explainPath("/apis/metrics.k8s.io/v1beta1/nodes", fakePrometheus({}), { configFile });
    expect(statuses(steps)).toEqual([
      "request:ok",
      "rules:failed:resource-rules-missing",
      "response:failed:error-response",
    ]);
    expect(stepOf(steps, "response").data?.status).toBe(404);
  });

  test("an invalid file stops at the rules step", async () => {
    const { steps } = await explainPath("/apis/metrics.k8s.io/v1beta1/nodes", fakePrometheus({}), {
      configFile: file("bad.yaml", "resourceRules: {cpu: {}}\n"),
    });
    expect(statuses(steps)).toEqual(["request:ok", "rules:failed:rules-invalid"]);
  });
});

describe("describeResourceRequest", () => {
  test.each([
    ["/apis/metrics.k8s.io/v1beta1/nodes", "NodeMetrics of every node (kubectl top nodes)"],
    ["/apis/metrics.k8s.io/v1beta1/nodes/n1", "NodeMetrics of node n1 (kubectl top node n1)"],
    ["/apis/metrics.k8s.io/v1beta1/pods", "PodMetrics of the pods in every namespace (kubectl top pods -A)"],
    [
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods?labelSelector=app%3Dweb",
      "PodMetrics of the pods in namespace shop (kubectl top pods -n shop), labelSelector app=web",
    ],
    [
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-0",
      "PodMetrics of pod web-0 in namespace shop (kubectl top pod web-0 -n shop)",
    ],
  ])("describes %s with the kubectl command that sends it", (path, description) => {
    expect(describeResourceRequest(parseExplainPath(path).resource as ResourceRequest)).toBe(description);
  });
});
