/**
 * One contract, run against both custom.metrics.k8s.io versions (in the style of Hono's shared `runTest({...})`):
 * the same table of requests goes through the composed app (src/app/compose.ts) with the real custom provider, query
 * cache and registry over the fake Prometheus, in standalone mode. Only the MetricValue item shape differs between
 * v1beta1 (`metricName` and `selector` at the top level) and v1beta2 (`metric: {name, selector}`); status codes,
 * Status bodies, headers, item order, values and the PromQL sent are asserted identically for both.
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../app/compose.ts";
import type { LabelSelector } from "../../apimachinery/labels/conversions.ts";
import { createMemoryLogger } from "../../observability/logger.ts";
import { createQueryCache } from "../../prometheus/query-cache.ts";
import type { VectorSample } from "../../prometheus/types.ts";
import { createCustomMetricsProvider, type DescribedObject } from "../../providers/custom-metrics-provider.ts";
import { formatKubernetesTime } from "../../util/clock.ts";
import { discoverRules, type DiscoveredRules } from "../../../test/support/discovered-rules.ts";
import {
  createFakePrometheus,
  prometheusFailure,
  type FakePrometheus,
  type FakeQueryAnswer,
} from "../../../test/support/fake-prometheus.ts";
import type { CustomMetricsVersion } from "./versions.ts";

const T = 1_714_564_800; // 2024-05-01T12:00:00Z, the samples' evaluation time
const NOW = T * 1000 + 5_900; // the answer time; timestamps are whole seconds: 2024-05-01T12:00:05Z

const HTTP_SERIES = '{__name__="http_requests_total",namespace!="",pod!=""}';
const NODE_SERIES = '{__name__="node_gigawatts",node!=""}';
const RULES = `rules:
- seriesQuery: '${HTTP_SERIES}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
- seriesQuery: '${NODE_SERIES}'
  resources: {overrides: {node: {resource: node}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;
const SERIES = {
  [HTTP_SERIES]: [{ __name__: "http_requests_total", namespace: "default", pod: "web-0" }],
  [NODE_SERIES]: [{ __name__: "node_gigawatts", node: "n1" }],
};
const discovered = await discoverRules(RULES, createFakePrometheus({ series: SERIES }), T - 600);
const nothingDiscovered = await discoverRules(RULES, createFakePrometheus(), T - 600);

const sample = (metric: Record<string, string>, value: string): VectorSample => ({
  metric,
  value,
  timestampSeconds: T,
});
const podQuery = (matchers: string) => `sum(rate(http_requests_total{${matchers}}[2m])) by (pod)`;
const ALL_PODS = podQuery('namespace="default",pod=~".+"');
const WEB_0 = podQuery('namespace="default",pod="web-0"');
const GET_REQUESTS = podQuery('method="GET",namespace="default",pod=~".+"');
const SPECIAL = podQuery('namespace="special",pod=~".+"');
const BROKEN = podQuery('namespace="default",pod="broken"');
const GHOST = podQuery('namespace="default",pod="ghost"');
const NODE_N1 = 'sum(node_gigawatts{node="n1"}) by (node)';
const NAMESPACE_DEFAULT = 'sum(rate(http_requests_total{namespace="default"}[2m])) by (namespace)';
const EVERY_NAMESPACE = 'sum(rate(http_requests_total{namespace=~".+"}[2m])) by (namespace)';
/** What the fake Prometheus answers; any other query is rejected, so an unexpected query shows as a 500. */
const ANSWERS: Record<string, FakeQueryAnswer> = {
  [ALL_PODS]: [sample({ pod: "web-1" }, "0.5"), sample({ pod: "web-0" }, "0.65")],
  [WEB_0]: [sample({ pod: "web-0" }, "0.65")],
  [GET_REQUESTS]: [sample({ pod: "web-0" }, "0.25")],
  [SPECIAL]: [sample({ pod: "nan" }, "NaN"), sample({ pod: "inf" }, "+Inf"), sample({ pod: "big" }, "1e9")],
  [BROKEN]: prometheusFailure("network", { detail: "dial tcp 10.0.0.7:9090: connect: connection refused" }),
  [GHOST]: [],
  [NODE_N1]: [sample({ node: "n1" }, "1.21")],
  [NAMESPACE_DEFAULT]: [sample({ namespace: "default" }, "7")],
  [EVERY_NAMESPACE]: [sample({ namespace: "other" }, "2"), sample({ namespace: "default" }, "7")],
};

/** A MetricValue before it takes a version's shape. */
interface Item {
  readonly describedObject: DescribedObject;
  readonly metric: string;
  readonly value: string;
  readonly selector?: LabelSelector | null;
}

/** The only thing that differs between the versions. */
interface VersionShape {
  readonly version: CustomMetricsVersion;
  /** The item as the version writes it, keys in wire order (docs/api.md, Custom metrics). */
  readonly item: (item: Item, timestamp: string) => unknown;
}

interface ContractCase {
  readonly name: string;
  /** Below `/apis/custom.metrics.k8s.io/<version>`, with the query string. */
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Serve the registry of a discovery that found no series. Default false. */
  readonly nothingDiscovered?: boolean;
  readonly status: number;
  /** The exact body, as a value (compared as JSON text, so key order counts) or a function of the version. */
  readonly body: unknown | ((version: VersionShape) => unknown);
  /** The body is indented by two spaces (`?pretty`). Default compact. */
  readonly pretty?: boolean;
  /** The PromQL sent, in order. Default none. */
  readonly sent?: readonly string[];
}

const TIMESTAMP = formatKubernetesTime(NOW);
const pod = (name: string, value: string, selector: LabelSelector | null = null, namespace = "default"): Item => ({
  describedObject: { kind: "Pod", namespace, name, apiVersion: "/v1" },
  metric: "http_requests",
  value,
  selector,
});
const namespace = (name: string, value: string): Item => ({
  describedObject: { kind: "Namespace", name, apiVersion: "/v1" },
  metric: "http_requests",
  value,
});
const list =
  (...items: Item[]) =>
  (shape: VersionShape) => ({
    kind: "MetricValueList",
    apiVersion: `custom.metrics.k8s.io/${shape.version}`,
    metadata: {},
    items: items.map((item) => shape.item(item, TIMESTAMP)),
  });
/** A Status body, keys in Kubernetes' order. */
function status(code: number, reason: string, message: string, details?: unknown) {
  const optional = details === undefined ? {} : { details };
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...optional, code };
}
const notFound = (message: string) => status(404, "NotFound", message);
const badRequest = (message: string) => status(400, "BadRequest", message);
const PATH_NOT_FOUND = status(404, "NotFound", "the server could not find the requested resource", {});
const METHOD_NOT_ALLOWED = status(
  405,
  "MethodNotAllowed",
  "the server does not allow this method on the requested resource",
);
const UNABLE_TO_FETCH = status(500, "InternalError", "Internal error occurred: unable to fetch metrics", {
  causes: [{ message: "unable to fetch metrics" }],
});
const resource = (name: string, namespaced: boolean) => ({
  name,
  singularName: "",
  namespaced,
  kind: "MetricValueList",
  verbs: ["get"],
});
const resourceList =
  (...resources: unknown[]) =>
  (shape: VersionShape) => ({
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `custom.metrics.k8s.io/${shape.version}`,
    resources,
  });

const CASES: ContractCase[] = [
  {
    name: "the discovery list names every registered metric, sorted, with its scope",
    path: "",
    status: 200,
    body: resourceList(
      resource("namespaces/http_requests", false),
      resource("nodes/node_gigawatts", false),
      resource("pods/http_requests", true),
    ),
  },
  {
    name: "the discovery list before anything is discovered holds the placeholder, never nothing",
    path: "",
    nothingDiscovered: true,
    status: 200,
    body: resourceList(resource("custommetrics", true)),
  },
  {
    name: "the placeholder itself is not a metric",
    path: "/namespaces/default/pods/*/custommetrics",
    nothingDiscovered: true,
    status: 404,
    body: notFound("the server could not find the metric custommetrics for pods"),
  },
  {
    name: "a single pod answers one item",
    path: "/namespaces/default/pods/web-0/http_requests",
    status: 200,
    body: list(pod("web-0", "650m")),
    sent: [WEB_0],
  },
  {
    name: "* answers every pod with a sample, sorted by name",
    path: "/namespaces/default/pods/*/http_requests",
    status: 200,
    body: list(pod("web-0", "650m"), pod("web-1", "500m")),
    sent: [ALL_PODS],
  },
  {
    name: "a percent-encoded * is a *",
    path: "/namespaces/default/pods/%2A/http_requests",
    status: 200,
    body: list(pod("web-0", "650m"), pod("web-1", "500m")),
    sent: [ALL_PODS],
  },
  {
    name: "NaN is answered as 0, +Inf is dropped, large values keep their Quantity form",
    path: "/namespaces/special/pods/*/http_requests",
    status: 200,
    body: list(pod("big", "1G", null, "special"), pod("nan", "0", null, "special")),
    sent: [SPECIAL],
  },
  {
    name: "a root-scoped object is described without a namespace",
    path: "/nodes/n1/node_gigawatts",
    status: 200,
    body: list({
      describedObject: { kind: "Node", name: "n1", apiVersion: "/v1" },
      metric: "node_gigawatts",
      value: "1210m",
    }),
    sent: [NODE_N1],
  },
  {
    name: "the metric of a namespace itself (namespaces/{ns}/metrics/{m}) describes the Namespace",
    path: "/namespaces/default/metrics/http_requests",
    status: 200,
    body: list(namespace("default", "7")),
    sent: [NAMESPACE_DEFAULT],
  },
  {
    name: "the metric of every namespace (namespaces/*/metrics/{m}) describes each Namespace, sorted",
    path: "/namespaces/*/metrics/http_requests",
    status: 200,
    body: list(namespace("default", "7"), namespace("other", "2")),
    sent: [EVERY_NAMESPACE],
  },
  {
    name: "pretty indents the list by two spaces",
    path: "/namespaces/default/pods/web-0/http_requests?pretty=true",
    status: 200,
    pretty: true,
    body: list(pod("web-0", "650m")),
    sent: [WEB_0],
  },
  {
    name: "pretty indents a Status too",
    path: "/namespaces/default/pods/ghost/http_requests?pretty=1",
    status: 404,
    pretty: true,
    body: notFound("the server could not find the metric http_requests for pods ghost"),
    sent: [GHOST],
  },
  {
    name: "metricLabelSelector narrows the query and is echoed as a LabelSelector",
    path: "/namespaces/default/pods/*/http_requests?metricLabelSelector=method%3DGET",
    status: 200,
    body: list(pod("web-0", "250m", { matchLabels: { method: "GET" } })),
    sent: [GET_REQUESTS],
  },
  {
    name: "a fieldSelector naming the object in the path is accepted",
    path: "/namespaces/default/pods/web-0/http_requests?fieldSelector=metadata.name%3Dweb-0",
    status: 200,
    body: list(pod("web-0", "650m")),
    sent: [WEB_0],
  },
  {
    name: "a client asking for protobuf gets JSON",
    path: "/namespaces/default/pods/web-0/http_requests",
    headers: { accept: "application/vnd.kubernetes.protobuf, */*" },
    status: 200,
    body: list(pod("web-0", "650m")),
    sent: [WEB_0],
  },
  {
    name: "labelSelector is refused in standalone mode",
    path: "/namespaces/default/pods/*/http_requests?labelSelector=app%3Dweb",
    status: 400,
    body: badRequest("labelSelector is not supported in standalone mode"),
  },
  {
    name: "an unknown metric is a 404 naming the resource as written",
    path: "/namespaces/default/pod/*/nope",
    status: 404,
    body: notFound("the server could not find the metric nope for pod"),
  },
  {
    name: "an unknown resource is a 404 naming it",
    path: "/namespaces/default/gizmos/*/http_requests",
    status: 404,
    body: notFound("the server could not find the metric http_requests for gizmos"),
  },
  {
    name: "a metric asked in the wrong scope is a 404",
    path: "/pods/*/http_requests",
    status: 404,
    body: notFound("the server could not find the metric http_requests for pods"),
  },
  {
    name: "a named object without a sample is a 404 naming the object",
    path: "/namespaces/default/pods/ghost/http_requests",
    status: 404,
    body: notFound("the server could not find the metric http_requests for pods ghost"),
    sent: [GHOST],
  },
  {
    name: "a path with too many segments is an unknown path",
    path: "/namespaces/default/pods/web-0/http_requests/extra",
    status: 404,
    body: PATH_NOT_FOUND,
  },
  {
    name: "a path too short after the namespace is a 400",
    path: "/namespaces/default/http_requests",
    status: 400,
    body: badRequest("invalid request path"),
  },
  {
    name: "a fieldSelector naming another object is a 400",
    path: "/namespaces/default/pods/web-0/http_requests?fieldSelector=metadata.name%3Dweb-1",
    status: 400,
    body: badRequest("fieldSelector metadata.name doesn't match requested name"),
  },
  {
    name: "a malformed metricLabelSelector is a 400 naming the parameter",
    path: "/namespaces/default/pods/*/http_requests?metricLabelSelector=a%20b",
    status: 400,
    body: badRequest(
      "unable to parse metricLabelSelector: unable to parse requirement: " +
        "found 'b', expected: in, notin, =, ==, !=, gt, lt",
    ),
  },
  {
    name: "a greater-than metricLabelSelector is a 400",
    path: "/namespaces/default/pods/*/http_requests?metricLabelSelector=code%3E400",
    status: 400,
    body: badRequest("operator not supported by prometheus"),
  },
  {
    name: "a Prometheus failure is a 500 that does not show the cause",
    path: "/namespaces/default/pods/broken/http_requests",
    status: 500,
    body: UNABLE_TO_FETCH,
    sent: [BROKEN],
  },
  ...["POST", "PUT", "PATCH", "DELETE"].map((method) => ({
    name: `${method} is a 405`,
    method,
    path: "/namespaces/default/pods/*/http_requests",
    status: 405,
    body: METHOD_NOT_ALLOWED,
  })),
  {
    name: "a non-GET discovery request is a 405",
    method: "POST",
    path: "",
    status: 405,
    body: METHOD_NOT_ALLOWED,
  },
  ...["true", "1"].map((watch) => ({
    name: `watch=${watch} is refused with a 405`,
    path: `/namespaces/default/pods/*/http_requests?watch=${watch}`,
    status: 405,
    body: status(405, "MethodNotAllowed", "watch is not supported"),
  })),
];

/** The app as the server composes it, in standalone mode, with the custom provider over `prometheus`; its log. */
function composeApp({ registry, mapper }: DiscoveredRules, prometheus: FakePrometheus) {
  const logger = createMemoryLogger(10);
  const queries = createQueryCache({ source: prometheus, now: () => NOW });
  const provider = createCustomMetricsProvider({
    registry: () => registry,
    mapper: () => mapper,
    queries,
    now: () => NOW,
    logger,
  });
  const app = createApp({
    logger,
    readiness: () => null,
    selfMetrics: { text: async () => "", contentType: "text/plain" },
    customMetrics: () => ({ provider, registry: () => registry }),
  });
  return { app, logs: logger.lines };
}

/** Runs the contract against one version. */
function runContract(shape: VersionShape) {
  describe(`custom.metrics.k8s.io/${shape.version}`, () => {
    test.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
      const prometheus = createFakePrometheus({ queries: ANSWERS, unknownQuery: "reject" });
      const { app } = composeApp(c.nothingDiscovered ? nothingDiscovered : discovered, prometheus);
      const url = `https://127.0.0.1:6443/apis/custom.metrics.k8s.io/${shape.version}${c.path}`;
      const response = await app.handle(new Request(url, { method: c.method ?? "GET", headers: c.headers }));
      const expected = typeof c.body === "function" ? (c.body as (shape: VersionShape) => unknown)(shape) : c.body;
      const contentType = response.headers.get("content-type");
      expect({ status: response.status, contentType, body: await response.text() }).toEqual({
        status: c.status,
        contentType: "application/json",
        body: `${JSON.stringify(expected, null, c.pretty ? 2 : undefined)}\n`,
      });
      expect(prometheus.queries()).toEqual([...(c.sent ?? [])]);
    });
  });
}

runContract({
  version: "v1beta1",
  item: ({ describedObject, metric, value, selector = null }, timestamp) => ({
    describedObject,
    metricName: metric,
    timestamp,
    value,
    selector,
  }),
});
runContract({
  version: "v1beta2",
  item: ({ describedObject, metric, value, selector = null }, timestamp) => ({
    describedObject,
    metric: { name: metric, selector },
    timestamp,
    value,
  }),
});

describe("custom.metrics.k8s.io errors", () => {
  test("the cause of a 500 goes to the log, never to the client", async () => {
    const { app, logs } = composeApp(discovered, createFakePrometheus({ queries: ANSWERS }));
    const path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/broken/http_requests";
    const response = await app.handle(new Request(`https://127.0.0.1:6443${path}`));
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("10.0.0.7");
    const logged = logs.filter((line) => line.includes("unable to fetch metrics"));
    expect(logged).toEqual([expect.stringContaining("dial tcp 10.0.0.7:9090: connect: connection refused")]);
  });
});

describe("custom.metrics.k8s.io versions", () => {
  test("any other version is an unknown path", async () => {
    const prometheus = createFakePrometheus();
    const { app } = composeApp(discovered, prometheus);
    for (const version of ["v1", "v1beta3", "v2"]) {
      for (const rest of ["", "/namespaces/default/pods/*/http_requests"]) {
        const path = `/apis/custom.metrics.k8s.io/${version}${rest}`;
        const response = await app.handle(new Request(`https://127.0.0.1:6443${path}`));
        const notFoundText = `${JSON.stringify(PATH_NOT_FOUND)}\n`;
        expect([path, response.status, await response.text()]).toEqual([path, 404, notFoundText]);
      }
    }
    expect(prometheus.calls).toEqual([]);
  });
});
