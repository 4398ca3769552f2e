import { describe, expect, test } from "bun:test";
import type { TSchema } from "elysia";
import { TypeCompiler } from "elysia/type-system";
import { metricValueList } from "./custom-metrics/versions.ts";
import {
  apiGroup,
  apiGroupList,
  CUSTOM_METRICS_GROUP,
  customMetricsResourceList,
  EXTERNAL_METRICS_GROUP,
  externalMetricsResourceList,
  RESOURCE_METRICS_GROUP,
  resourceMetricsResourceList,
} from "./discovery.ts";
import { externalMetricValueList } from "./external-metrics/value-list.ts";
import { nodeMetrics, nodeMetricsList, podMetrics, podMetricsList } from "./resource-metrics/documents.ts";
import * as schemas from "./schemas.ts";
import { statusBody } from "./status.ts";
import { versionInfo } from "./version.ts";
import { EMPTY_REGISTRY } from "../discovery/registry.ts";
import { InternalError, NotFoundError, UnknownServerError } from "../apimachinery/status.ts";
import type { NodeMetricsValue, PodMetricsValue } from "../providers/resource-metrics-provider.ts";

const T = Date.UTC(2024, 4, 1, 12, 0, 0);

function errorsOf(schema: TSchema, value: unknown): string[] {
  return [...TypeCompiler.Compile(schema).Errors(value)].map((error) => `${error.path}: ${error.message}`);
}

const pod: PodMetricsValue = {
  namespace: "default",
  name: "web-0",
  labels: { app: "web" },
  creationTimestampMs: T + 5000,
  timestampMs: T,
  window: "5m0s",
  containers: [{ name: "nginx", usage: { cpu: "12m", memory: "3100Ki" } }],
};
const node: NodeMetricsValue = {
  name: "n1",
  labels: {},
  creationTimestampMs: T + 5000,
  timestampMs: T,
  window: "5m0s",
  usage: { cpu: "1100", memory: "2Mi" },
};
const customValue = {
  describedObject: { kind: "Pod", namespace: "default", name: "web-0", apiVersion: "/v1" },
  metric: "http_requests",
  timestampMs: T,
  value: "650m",
  selector: { matchExpressions: [{ key: "method", operator: "In" as const, values: ["GET"] }] },
};

describe("every document the server builds satisfies its schema", () => {
  test.each<[string, TSchema, unknown]>([
    [
      "APIGroupList",
      schemas.ApiGroupList,
      apiGroupList([CUSTOM_METRICS_GROUP, EXTERNAL_METRICS_GROUP, RESOURCE_METRICS_GROUP]),
    ],
    ["APIGroup", schemas.ApiGroup, apiGroup(EXTERNAL_METRICS_GROUP)],
    [
      "custom APIResourceList (placeholder)",
      schemas.ApiResourceList,
      customMetricsResourceList("v1beta2", EMPTY_REGISTRY),
    ],
    ["external APIResourceList (placeholder)", schemas.ApiResourceList, externalMetricsResourceList(EMPTY_REGISTRY)],
    ["metrics APIResourceList", schemas.ApiResourceList, resourceMetricsResourceList()],
    [
      "MetricValueList v1beta1",
      schemas.MetricValueListV1beta1,
      metricValueList("v1beta1", [customValue, { ...customValue, selector: null }]),
    ],
    [
      "MetricValueList v1beta2",
      schemas.MetricValueListV1beta2,
      metricValueList("v1beta2", [customValue, { ...customValue, selector: null }]),
    ],
    [
      "ExternalMetricValueList",
      schemas.ExternalMetricValueList,
      externalMetricValueList([
        { metric: "queue_depth", labels: { queue: "orders" }, timestampMs: T, value: "42" },
        { metric: "queue_depth", labels: null, timestampMs: T, value: "0" },
      ]),
    ],
    ["PodMetrics", schemas.PodMetrics, podMetrics(pod)],
    ["PodMetricsList", schemas.PodMetricsList, podMetricsList([pod, { ...pod, labels: {} }])],
    ["NodeMetrics", schemas.NodeMetrics, nodeMetrics(node)],
    ["NodeMetricsList", schemas.NodeMetricsList, nodeMetricsList([node])],
    [
      "a 404 Status",
      schemas.Status,
      statusBody(
        new NotFoundError('podmetrics.metrics.k8s.io "a/b" not found', {
          name: "a/b",
          group: "metrics.k8s.io",
          kind: "podmetrics",
        }),
      ),
    ],
    ["a 500 Status with causes", schemas.Status, statusBody(new InternalError("unable to fetch metrics"))],
    [
      "a 500 Status without reason",
      schemas.Status,
      statusBody(new UnknownServerError("encountered an unexpected query result type")),
    ],
    ["version", schemas.VersionInfo, versionInfo()],
  ])("%s", (_, schema, document) => {
    expect(errorsOf(schema, document)).toEqual([]);
  });
});

describe("the schemas reject what clients would choke on", () => {
  test.each<[string, TSchema, unknown]>([
    ["an empty APIResourceList", schemas.ApiResourceList, { ...resourceMetricsResourceList(), resources: [] }],
    [
      "an ExternalMetricValue without metricLabels",
      schemas.ExternalMetricValueList,
      { ...externalMetricValueList([]), items: [{ metricName: "m", timestamp: "2024-05-01T12:00:00Z", value: "1" }] },
    ],
    [
      "a PodMetrics with null labels",
      schemas.PodMetrics,
      { ...podMetrics(pod), metadata: { ...podMetrics(pod).metadata, labels: null } },
    ],
    ["a numeric quantity", schemas.NodeMetrics, { ...nodeMetrics(node), usage: { cpu: 1.1, memory: "2Mi" } }],
    [
      "a list with metadata fields",
      schemas.PodMetricsList,
      { ...podMetricsList([]), metadata: { resourceVersion: "1" } },
    ],
  ])("%s", (_, schema, document) => {
    expect(errorsOf(schema, document)).not.toEqual([]);
  });
});
