import { describe, expect, test } from "bun:test";
import { parseRulesText } from "../config/load.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import type { QueryResult } from "../prometheus/types.ts";
import { ApiError } from "../apimachinery/status.ts";
import { createResourceMetricsProvider, type ResourceRules } from "./resource-metrics-provider.ts";
import type { NodeRef, PodRef, ResourceObjectSource } from "./resource-object-source.ts";
import { createFakePrometheus } from "../../test/support/fake-prometheus.ts";

const RULES = `resourceRules:
  cpu:
    containerQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
    nodeQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>, id='/'}[5m])) by (<<.GroupBy>>)
    resources: {overrides: {instance: {resource: node}, namespace: {resource: namespace}, pod: {resource: pod}}}
    containerLabel: container
  memory:
    containerQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>,id='/'}) by (<<.GroupBy>>)
    resources: {overrides: {instance: {resource: node}, namespace: {resource: namespace}, pod: {resource: pod}}}
    containerLabel: container
  window: 5m
`;
// Memory from differently named labels, to check that CPU and memory samples are matched by meaning.
const MIXED_LABEL_RULES = RULES.replace(
  /memory:\n([\s\S]*?)resources: .*\n {4}containerLabel: container/,
  "memory:\n$1resources: {overrides: {kube_node: {resource: node}, kube_namespace: {resource: namespace}, kube_pod: {resource: pod}}}\n    containerLabel: kube_container",
);
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const rulesFrom = (text: string): ResourceRules =>
  compileRules(parseRulesText(text, "rules.yaml"), () => mapper).resource!;
const RESOURCE_RULES = rulesFrom(RULES);

const NOW = Date.UTC(2024, 4, 1, 12, 0, 5, 500);
const T = Date.UTC(2024, 4, 1, 12, 0, 0) / 1000;
type Sample = [labels: Record<string, string>, value: string, time?: number];
const vector = (...samples: Sample[]): QueryResult => ({
  resultType: "vector",
  result: samples.map(([metric, value, time = T]) => ({ metric, value, timestampSeconds: time })),
});

/** An in-memory object source, as the Kubernetes one would answer (any order). */
function staticObjects(pods: PodRef[], nodes: NodeRef[] = []) {
  const listed: { namespace: string | undefined; labelSelector: string }[] = [];
  const source: ResourceObjectSource = {
    async listPods(namespace, labelSelector) {
      listed.push({ namespace, labelSelector });
      return pods.filter((pod) => namespace === undefined || pod.namespace === namespace);
    },
    async getPod(namespace, name) {
      return pods.find((pod) => pod.namespace === namespace && pod.name === name) ?? null;
    },
    async listNodes(labelSelector) {
      listed.push({ namespace: undefined, labelSelector });
      return nodes;
    },
    async getNode(name) {
      return nodes.find((node) => node.name === name) ?? null;
    },
  };
  return { source, listed };
}

const pod = (namespace: string, name: string, labels: Record<string, string> = {}): PodRef => ({
  namespace,
  name,
  labels,
});

function setup({
  pods = [],
  nodes = [],
  answers = {},
  rules = RESOURCE_RULES,
}: {
  pods?: PodRef[];
  nodes?: NodeRef[];
  answers?: Record<string, QueryResult | Error>;
  rules?: ResourceRules;
}) {
  const prometheus = createFakePrometheus({ queries: answers });
  const objects = staticObjects(pods, nodes);
  const logger = createMemoryLogger(1);
  const provider = createResourceMetricsProvider({
    rules: () => rules,
    objects: objects.source,
    prometheus,
    now: () => NOW,
    logger,
  });
  return { provider, calls: prometheus.queryCalls, listed: objects.listed, logs: logger.lines };
}

const cpuQuery = (namespace: string, pods: string) =>
  `sum(rate(container_cpu_usage_seconds_total{namespace="${namespace}",pod${pods.includes("|") ? "=~" : "="}"${pods}"}[5m])) by (pod,container)`;
const memoryQuery = (namespace: string, pods: string) =>
  `sum(container_memory_working_set_bytes{namespace="${namespace}",pod${pods.includes("|") ? "=~" : "="}"${pods}"}) by (pod,container)`;
const nodeCpuQuery = (nodes: string) =>
  `sum(rate(container_cpu_usage_seconds_total{instance${nodes.includes("|") ? "=~" : "="}"${nodes}", id='/'}[5m])) by (instance)`;
const nodeMemoryQuery = (nodes: string) =>
  `sum(container_memory_working_set_bytes{instance${nodes.includes("|") ? "=~" : "="}"${nodes}",id='/'}) by (instance)`;

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { code: error.code, reason: error.reason, message: error.message, details: error.details };
  }
  throw new Error("expected a rejection");
}

describe("pod metrics", () => {
  test("one CPU and one memory query per namespace, at one shared time, for exactly the listed pods", async () => {
    const { provider, calls } = setup({ pods: [pod("b", "web-1"), pod("a", "db-0"), pod("b", "web-0")] });
    await provider.listPods(undefined, { labelSelector: "", fieldSelector: "" });
    expect(calls.map((c) => c.query).sort()).toEqual(
      [
        cpuQuery("a", "db-0"),
        cpuQuery("b", "web-0|web-1"),
        memoryQuery("a", "db-0"),
        memoryQuery("b", "web-0|web-1"),
      ].sort(),
    );
    expect(new Set(calls.map((c) => c.timeSeconds))).toEqual(new Set([NOW / 1000]));
  });

  test("containers are summed per pod: every container, sorted, CPU in DecimalSI and memory in BinarySI", async () => {
    const { provider } = setup({
      pods: [pod("default", "web-0", { tier: "front", app: "web" })],
      answers: {
        [cpuQuery("default", "web-0")]: vector(
          [{ pod: "web-0", container: "sidecar" }, "0.0125"],
          [{ pod: "web-0", container: "nginx" }, "0.25", T - 10],
        ),
        [memoryQuery("default", "web-0")]: vector(
          [{ pod: "web-0", container: "nginx" }, "104857600"],
          [{ pod: "web-0", container: "sidecar" }, "3174400"],
        ),
      },
    });
    expect(await provider.listPods("default", { labelSelector: "", fieldSelector: "" })).toEqual([
      {
        namespace: "default",
        name: "web-0",
        labels: { app: "web", tier: "front" },
        creationTimestampMs: NOW,
        timestampMs: (T - 10) * 1000,
        window: "5m0s",
        containers: [
          { name: "nginx", usage: { cpu: "250m", memory: "100Mi" } },
          { name: "sidecar", usage: { cpu: "12m", memory: "3100Ki" } },
        ],
      },
    ]);
  });

  test.each([
    ["NaN", "NaN", "0"],
    ["negative", "-3", "0"],
    ["+Inf", "+Inf", "0"],
    ["-Inf", "-Inf", "0"],
  ])("a %s usage counts as zero", async (_, raw, expected) => {
    const { provider } = setup({
      pods: [pod("default", "p")],
      answers: {
        [cpuQuery("default", "p")]: vector([{ pod: "p", container: "c" }, raw]),
        [memoryQuery("default", "p")]: vector([{ pod: "p", container: "c" }, raw]),
      },
    });
    const [value] = await provider.listPods("default", { labelSelector: "", fieldSelector: "" });
    expect(value?.containers).toEqual([{ name: "c", usage: { cpu: expected, memory: expected } }]);
  });

  test("a container seen in one result only gets 0 for the other", async () => {
    const { provider } = setup({
      pods: [pod("default", "p")],
      answers: {
        [cpuQuery("default", "p")]: vector([{ pod: "p", container: "a" }, "1"], [{ pod: "p", container: "b" }, "2"]),
        [memoryQuery("default", "p")]: vector([{ pod: "p", container: "a" }, "1024"]),
      },
    });
    const [value] = await provider.listPods("default", { labelSelector: "", fieldSelector: "" });
    expect(value?.containers).toEqual([
      { name: "a", usage: { cpu: "1", memory: "1Ki" } },
      { name: "b", usage: { cpu: "2", memory: "0" } },
    ]);
  });

  test("a pod without memory (or CPU) data is left out, with a log line", async () => {
    const { provider, logs } = setup({
      pods: [pod("default", "ok"), pod("default", "no-memory"), pod("default", "no-cpu")],
      answers: {
        [cpuQuery("default", "no-cpu|no-memory|ok")]: vector(
          [{ pod: "ok", container: "c" }, "1"],
          [{ pod: "no-memory", container: "c" }, "1"],
        ),
        [memoryQuery("default", "no-cpu|no-memory|ok")]: vector(
          [{ pod: "ok", container: "c" }, "1"],
          [{ pod: "no-cpu", container: "c" }, "1"],
        ),
      },
    });
    const values = await provider.listPods("default", { labelSelector: "", fieldSelector: "" });
    expect(values.map((v) => v.name)).toEqual(["ok"]);
    expect(logs.filter((line) => line.includes("no resource metrics for pod"))).toEqual([
      expect.stringContaining("pod=default/no-cpu missing=CPU"),
      expect.stringContaining("pod=default/no-memory missing=memory"),
    ]);
  });

  test("a namespace whose query fails loses only its own pods", async () => {
    const { provider, logs } = setup({
      pods: [pod("broken", "x"), pod("fine", "y"), pod("odd", "z")],
      answers: {
        [memoryQuery("broken", "x")]: new Error("connection refused"),
        [cpuQuery("odd", "z")]: { resultType: "scalar", result: { value: "1", timestampSeconds: T } },
        [cpuQuery("fine", "y")]: vector([{ pod: "y", container: "c" }, "1"]),
        [memoryQuery("fine", "y")]: vector([{ pod: "y", container: "c" }, "1"]),
      },
    });
    const values = await provider.listPods(undefined, { labelSelector: "", fieldSelector: "" });
    expect(values.map((v) => `${v.namespace}/${v.name}`)).toEqual(["fine/y"]);
    expect(logs.filter((line) => line.includes("unable to fetch metrics for pods in namespace"))).toEqual([
      expect.stringContaining('namespace=broken error="connection refused"'),
      expect.stringContaining("namespace=odd"),
    ]);
  });

  test("items are sorted by namespace, then name", async () => {
    const both = (ns: string, names: string) => ({
      [cpuQuery(ns, names)]: vector(...names.split("|").map((n): Sample => [{ pod: n, container: "c" }, "1"])),
      [memoryQuery(ns, names)]: vector(...names.split("|").map((n): Sample => [{ pod: n, container: "c" }, "1"])),
    });
    const { provider } = setup({
      pods: [pod("b", "z"), pod("a", "y"), pod("b", "a"), pod("a", "b")],
      answers: { ...both("a", "b|y"), ...both("b", "a|z") },
    });
    const values = await provider.listPods(undefined, { labelSelector: "", fieldSelector: "" });
    expect(values.map((v) => `${v.namespace}/${v.name}`)).toEqual(["a/b", "a/y", "b/a", "b/z"]);
  });

  test("CPU and memory rules with different label names are matched by pod and container", async () => {
    const rules = rulesFrom(MIXED_LABEL_RULES);
    expect(rules.memory.podLabel).toBe("kube_pod");
    const { provider } = setup({
      rules,
      pods: [pod("default", "p")],
      answers: {
        [cpuQuery("default", "p")]: vector([{ pod: "p", container: "c" }, "1"]),
        'sum(container_memory_working_set_bytes{kube_namespace="default",kube_pod="p"}) by (kube_pod,kube_container)':
          vector([{ kube_pod: "p", kube_container: "c" }, "2048"]),
      },
    });
    const [value] = await provider.listPods("default", { labelSelector: "", fieldSelector: "" });
    expect(value?.containers).toEqual([{ name: "c", usage: { cpu: "1", memory: "2Ki" } }]);
  });

  test("no pods means no queries and no items", async () => {
    const { provider, calls } = setup({});
    expect(await provider.listPods("default", { labelSelector: "", fieldSelector: "" })).toEqual([]);
    expect(calls).toEqual([]);
  });
});

describe("pod selectors", () => {
  const pods = [pod("a", "web-0"), pod("a", "web-1"), pod("b", "web-0")];

  test.each([
    ["metadata.name", "metadata.name=web-0", ["a/web-0", "b/web-0"]],
    ["metadata.namespace", "metadata.namespace=b", ["b/web-0"]],
    ["!= and ==", "metadata.name!=web-0,metadata.namespace==a", ["a/web-1"]],
    ["no selector", "", ["a/web-0", "a/web-1", "b/web-0"]],
  ])("fieldSelector on %s filters the listed pods", async (_, fieldSelector, expected) => {
    const { provider, calls } = setup({ pods });
    await provider.listPods(undefined, { labelSelector: "", fieldSelector });
    const queried = calls
      .filter((c) => c.query.startsWith("sum(rate"))
      .flatMap((c) => {
        const match = /namespace="([^"]+)",pod=~?"([^"]+)"/.exec(c.query);
        return match ? match[2]!.split("|").map((name) => `${match[1]}/${name}`) : [];
      });
    expect(queried.sort()).toEqual(expected);
  });

  test("the label selector text is handed to the object source", async () => {
    const { provider, listed } = setup({ pods });
    await provider.listPods("a", { labelSelector: "app in (web),tier!=db", fieldSelector: "" });
    expect(listed).toEqual([{ namespace: "a", labelSelector: "app in (web),tier!=db" }]);
  });

  test.each([
    [
      "a malformed labelSelector",
      { labelSelector: "a b", fieldSelector: "" },
      "unable to parse labelSelector: unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
    ],
    [
      "a malformed fieldSelector",
      { labelSelector: "", fieldSelector: "metadata.name" },
      "unable to parse fieldSelector: invalid selector: 'metadata.name'; can't understand 'metadata.name'",
    ],
    [
      "an unsupported field",
      { labelSelector: "", fieldSelector: "spec.nodeName=n1" },
      'unable to parse fieldSelector: "spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
  ])("%s is a 400 before anything is listed", async (_, selectors, message) => {
    const { provider, listed } = setup({ pods });
    expect(await rejection(provider.listPods("a", selectors))).toEqual({
      code: 400,
      reason: "BadRequest",
      message,
      details: undefined,
    });
    expect(listed).toEqual([]);
  });
});

describe("a single pod", () => {
  const answers = {
    [cpuQuery("default", "web-0")]: vector([{ pod: "web-0", container: "c" }, "0.5"]),
    [memoryQuery("default", "web-0")]: vector([{ pod: "web-0", container: "c" }, "1048576"]),
  };

  test("is answered with its usage", async () => {
    const { provider } = setup({ pods: [pod("default", "web-0")], answers });
    expect(await provider.getPod("default", "web-0")).toMatchObject({
      namespace: "default",
      name: "web-0",
      containers: [{ name: "c", usage: { cpu: "500m", memory: "1Mi" } }],
    });
  });

  test("that does not exist is a 404 about pods", async () => {
    const { provider, calls } = setup({ pods: [] });
    expect(await rejection(provider.getPod("default", "ghost"))).toEqual({
      code: 404,
      reason: "NotFound",
      message: 'pods "ghost" not found',
      details: { name: "ghost", kind: "pods" },
    });
    expect(calls).toEqual([]);
  });

  test("without data is a 404 about podmetrics", async () => {
    const { provider } = setup({ pods: [pod("default", "idle")] });
    expect(await rejection(provider.getPod("default", "idle"))).toEqual({
      code: 404,
      reason: "NotFound",
      message: 'podmetrics.metrics.k8s.io "default/idle" not found',
      details: { name: "default/idle", group: "metrics.k8s.io", kind: "podmetrics" },
    });
  });
});

describe("node metrics", () => {
  const nodes: NodeRef[] = [
    { name: "n2", labels: {} },
    { name: "n1", labels: { role: "db", "kubernetes.io/os": "linux" } },
    { name: "n3", labels: {} },
  ];

  test("one CPU and one memory query for all nodes; first sample per node; timestamp the earlier of the two", async () => {
    const { provider, calls } = setup({
      nodes,
      answers: {
        [nodeCpuQuery("n1|n2|n3")]: vector(
          [{ instance: "n1" }, "1100", T - 20],
          [{ instance: "n1" }, "5"],
          [{ instance: "n2" }, "0.25"],
          [{ instance: "n3" }, "1"],
        ),
        [nodeMemoryQuery("n1|n2|n3")]: vector([{ instance: "n1" }, "2097152", T - 5], [{ instance: "n2" }, "NaN"]),
      },
    });
    const values = await provider.listNodes({ labelSelector: "", fieldSelector: "" });
    expect(calls.map((c) => c.query)).toEqual([nodeCpuQuery("n1|n2|n3"), nodeMemoryQuery("n1|n2|n3")]);
    expect(new Set(calls.map((c) => c.timeSeconds))).toEqual(new Set([NOW / 1000]));
    expect(values).toEqual([
      {
        name: "n1",
        labels: { "kubernetes.io/os": "linux", role: "db" },
        creationTimestampMs: NOW,
        timestampMs: (T - 20) * 1000,
        window: "5m0s",
        usage: { cpu: "1100", memory: "2Mi" },
      },
      {
        name: "n2",
        labels: {},
        creationTimestampMs: NOW,
        timestampMs: T * 1000,
        window: "5m0s",
        usage: { cpu: "250m", memory: "0" },
      },
    ]);
  });

  test("a node missing memory is left out with a log line", async () => {
    const { provider, logs } = setup({
      nodes: [{ name: "n3", labels: {} }],
      answers: { [nodeCpuQuery("n3")]: vector([{ instance: "n3" }, "1"]) },
    });
    expect(await provider.listNodes({ labelSelector: "", fieldSelector: "" })).toEqual([]);
    expect(
      logs.some((line) => line.includes("no resource metrics for node") && line.includes("node=n3 missing=memory")),
    ).toBe(true);
  });

  test("a failing query leaves the list empty, with a log line", async () => {
    const { provider, logs } = setup({ nodes, answers: { [nodeMemoryQuery("n1|n2|n3")]: new Error("timeout") } });
    expect(await provider.listNodes({ labelSelector: "", fieldSelector: "" })).toEqual([]);
    expect(logs.some((line) => line.includes("unable to fetch node metrics") && line.includes("timeout"))).toBe(true);
  });

  test("fieldSelector filters nodes by name; metadata.namespace of a node is empty", async () => {
    const { provider, calls } = setup({ nodes });
    await provider.listNodes({ labelSelector: "", fieldSelector: "metadata.name!=n2" });
    await provider.listNodes({ labelSelector: "", fieldSelector: "metadata.namespace=default" });
    expect(calls.map((c) => c.query)).toEqual([nodeCpuQuery("n1|n3"), nodeMemoryQuery("n1|n3")]);
  });

  test("an unknown node is a 404 about nodes, a node without data one about nodemetrics", async () => {
    const { provider } = setup({ nodes });
    expect(await rejection(provider.getNode("ghost"))).toEqual({
      code: 404,
      reason: "NotFound",
      message: 'nodes "ghost" not found',
      details: { name: "ghost", kind: "nodes" },
    });
    expect(await rejection(provider.getNode("n2"))).toEqual({
      code: 404,
      reason: "NotFound",
      message: 'nodemetrics.metrics.k8s.io "n2" not found',
      details: { name: "n2", group: "metrics.k8s.io", kind: "nodemetrics" },
    });
  });
});
