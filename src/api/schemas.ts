/**
 * The JSON shapes this server answers with (docs/api.md), defined once with Elysia's `t` (TypeBox).
 * Handlers build their bodies as `typeof X.static`, so the compiler holds them to these shapes; OpenAPI documents
 * are generated from the same objects. Property order here is the wire order. Optional properties are omitted from
 * the JSON when absent (never `null`); properties typed with `t.Null()` are always present.
 */
import { t } from "elysia";

/** RFC 3339 in UTC with whole seconds (`metav1.Time`), e.g. `2024-05-01T12:00:00Z`. */
export const KubernetesTime = t.String({
  format: "date-time",
  description: "RFC 3339 UTC time, whole seconds",
  examples: ["2024-05-01T12:00:00Z"],
});

/** A Kubernetes Quantity in canonical form (as k8s.io/apimachinery prints it), e.g. `650m`, `2`, `3Ki`. */
export const Quantity = t.String({
  pattern: "^[+-]?[0-9.]+([eEinumkKMGTP]*[-+]?[0-9]*)$",
  description: "Kubernetes resource.Quantity in canonical form",
  examples: ["650m", "2", "3Ki"],
});

/** Go `time.Duration` text, e.g. `5m0s`. */
export const GoDuration = t.String({ description: "Go time.Duration text", examples: ["5m0s", "30s"] });

/** `metadata` of a list: always `{}`. */
export const ListMeta = t.Object({}, { additionalProperties: false });

/** Label map (`metadata.labels`, `metricLabels`); keys sorted on the wire. */
export const StringMap = t.Record(t.String(), t.String());

// ---------------------------------------------------------------------------------------------------------------
// Discovery (docs/api.md, Discovery).

export const GroupVersionForDiscovery = t.Object({ groupVersion: t.String(), version: t.String() });

/** One entry of `GET /apis`; with `kind`/`apiVersion` it is `GET /apis/<group>`. */
export const ApiGroupEntry = t.Object({
  name: t.String(),
  versions: t.Array(GroupVersionForDiscovery),
  preferredVersion: GroupVersionForDiscovery,
});

export const ApiGroup = t.Object({
  kind: t.Literal("APIGroup"),
  apiVersion: t.Literal("v1"),
  name: t.String(),
  versions: t.Array(GroupVersionForDiscovery),
  preferredVersion: GroupVersionForDiscovery,
});

export const ApiGroupList = t.Object({
  kind: t.Literal("APIGroupList"),
  apiVersion: t.Literal("v1"),
  groups: t.Array(ApiGroupEntry),
});

export const ApiResource = t.Object({
  name: t.String(),
  singularName: t.Literal(""),
  namespaced: t.Boolean(),
  kind: t.String(),
  verbs: t.Array(t.String()),
});

/** `GET /apis/<group>/<version>`; never an empty `resources`. */
export const ApiResourceList = t.Object({
  kind: t.Literal("APIResourceList"),
  apiVersion: t.Literal("v1"),
  groupVersion: t.String(),
  resources: t.Array(ApiResource, { minItems: 1 }),
});

// ---------------------------------------------------------------------------------------------------------------
// custom.metrics.k8s.io (docs/api.md, Custom metrics).

export const LabelSelectorRequirement = t.Object({
  key: t.String(),
  operator: t.Union([t.Literal("In"), t.Literal("NotIn"), t.Literal("Exists"), t.Literal("DoesNotExist")]),
  values: t.Optional(t.Array(t.String())),
});

/** metav1.LabelSelector; empty maps and arrays are omitted. */
export const LabelSelector = t.Object({
  matchLabels: t.Optional(StringMap),
  matchExpressions: t.Optional(t.Array(LabelSelectorRequirement)),
});

/** `describedObject`: `namespace` omitted for cluster-scoped objects and namespaces themselves. */
export const DescribedObject = t.Object({
  kind: t.String(),
  namespace: t.Optional(t.String()),
  name: t.String(),
  apiVersion: t.String(),
});

export const MetricValueV1beta1 = t.Object({
  describedObject: DescribedObject,
  metricName: t.String(),
  timestamp: KubernetesTime,
  value: Quantity,
  selector: t.Union([LabelSelector, t.Null()]),
});

export const MetricValueListV1beta1 = t.Object({
  kind: t.Literal("MetricValueList"),
  apiVersion: t.Literal("custom.metrics.k8s.io/v1beta1"),
  metadata: ListMeta,
  items: t.Array(MetricValueV1beta1),
});

export const MetricIdentifier = t.Object({ name: t.String(), selector: t.Union([LabelSelector, t.Null()]) });

export const MetricValueV1beta2 = t.Object({
  describedObject: DescribedObject,
  metric: MetricIdentifier,
  timestamp: KubernetesTime,
  value: Quantity,
});

export const MetricValueListV1beta2 = t.Object({
  kind: t.Literal("MetricValueList"),
  apiVersion: t.Literal("custom.metrics.k8s.io/v1beta2"),
  metadata: ListMeta,
  items: t.Array(MetricValueV1beta2),
});

// ---------------------------------------------------------------------------------------------------------------
// external.metrics.k8s.io (docs/api.md, External metrics).

export const ExternalMetricValue = t.Object({
  metricName: t.String(),
  /** All sample labels; null for a scalar result. */
  metricLabels: t.Union([StringMap, t.Null()]),
  timestamp: KubernetesTime,
  value: Quantity,
});

export const ExternalMetricValueList = t.Object({
  kind: t.Literal("ExternalMetricValueList"),
  apiVersion: t.Literal("external.metrics.k8s.io/v1beta1"),
  metadata: ListMeta,
  items: t.Array(ExternalMetricValue),
});

// ---------------------------------------------------------------------------------------------------------------
// metrics.k8s.io (docs/api.md, Resource metrics).

/** `cpu` (DecimalSI) and `memory` (BinarySI), in that (sorted) order. */
export const ResourceUsage = t.Object({ cpu: Quantity, memory: Quantity });

export const ContainerMetrics = t.Object({ name: t.String(), usage: ResourceUsage });

/** Pod metadata: `labels` omitted when the pod has none. */
export const PodMetricsMeta = t.Object({
  name: t.String(),
  namespace: t.String(),
  creationTimestamp: KubernetesTime,
  labels: t.Optional(StringMap),
});

export const NodeMetricsMeta = t.Object({
  name: t.String(),
  creationTimestamp: KubernetesTime,
  labels: t.Optional(StringMap),
});

const podMetricsFields = {
  metadata: PodMetricsMeta,
  timestamp: KubernetesTime,
  window: GoDuration,
  containers: t.Array(ContainerMetrics),
};
const nodeMetricsFields = {
  metadata: NodeMetricsMeta,
  timestamp: KubernetesTime,
  window: GoDuration,
  usage: ResourceUsage,
};

/** A PodMetrics inside a list: no kind/apiVersion. */
export const PodMetricsItem = t.Object(podMetricsFields);

/** A single `GET .../pods/{name}`. */
export const PodMetrics = t.Object({
  kind: t.Literal("PodMetrics"),
  apiVersion: t.Literal("metrics.k8s.io/v1beta1"),
  ...podMetricsFields,
});

export const PodMetricsList = t.Object({
  kind: t.Literal("PodMetricsList"),
  apiVersion: t.Literal("metrics.k8s.io/v1beta1"),
  metadata: ListMeta,
  items: t.Array(PodMetricsItem),
});

export const NodeMetricsItem = t.Object(nodeMetricsFields);

export const NodeMetrics = t.Object({
  kind: t.Literal("NodeMetrics"),
  apiVersion: t.Literal("metrics.k8s.io/v1beta1"),
  ...nodeMetricsFields,
});

export const NodeMetricsList = t.Object({
  kind: t.Literal("NodeMetricsList"),
  apiVersion: t.Literal("metrics.k8s.io/v1beta1"),
  metadata: ListMeta,
  items: t.Array(NodeMetricsItem),
});

// ---------------------------------------------------------------------------------------------------------------
// Errors and /version (docs/api.md: Errors, Operational endpoints).

export const StatusDetails = t.Object({
  name: t.Optional(t.String()),
  group: t.Optional(t.String()),
  kind: t.Optional(t.String()),
  causes: t.Optional(t.Array(t.Object({ message: t.String() }))),
});

/** Every error answer; `reason` and `details` omitted when empty. */
export const Status = t.Object({
  kind: t.Literal("Status"),
  apiVersion: t.Literal("v1"),
  metadata: ListMeta,
  status: t.Literal("Failure"),
  message: t.String(),
  reason: t.Optional(t.String()),
  details: t.Optional(StatusDetails),
  code: t.Integer(),
});

/** `GET /version` (k8s.io/apimachinery version.Info subset). */
export const VersionInfo = t.Object({
  major: t.String(),
  minor: t.String(),
  gitVersion: t.String(),
  gitCommit: t.String(),
  buildDate: t.String(),
  compiler: t.String(),
  platform: t.String(),
});
