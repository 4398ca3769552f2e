/**
 * The metrics.k8s.io/v1beta1 wire shapes (docs/api.md, Resource metrics): single GETs carry kind/apiVersion, list items
 * do not; `metadata.labels` is omitted when empty; `usage` keys are `cpu`, `memory` (Go prints map keys sorted).
 *
 * NB: label maps are printed in insertion order, which the provider sorts. JavaScript always puts integer-like keys
 * (a label named `123`) first in numeric order, where Go would sort them as text; such label keys are legal but rare.
 */
import type { NodeMetricsValue, PodMetricsValue } from "../../providers/resource-metrics-provider.ts";
import { formatKubernetesTime } from "../../util/clock.ts";
import type {
  NodeMetrics,
  NodeMetricsItem,
  NodeMetricsList,
  PodMetrics,
  PodMetricsItem,
  PodMetricsList,
} from "../schemas.ts";

const API_VERSION = "metrics.k8s.io/v1beta1";

function labelsField(labels: Readonly<Record<string, string>>): { labels?: Record<string, string> } {
  return Object.keys(labels).length === 0 ? {} : { labels: { ...labels } };
}

/** A PodMetrics as a list item (no kind/apiVersion). */
export function podMetricsItem(value: PodMetricsValue): typeof PodMetricsItem.static {
  return {
    metadata: {
      name: value.name,
      namespace: value.namespace,
      creationTimestamp: formatKubernetesTime(value.creationTimestampMs),
      ...labelsField(value.labels),
    },
    timestamp: formatKubernetesTime(value.timestampMs),
    window: value.window,
    containers: value.containers.map((container) => ({
      name: container.name,
      usage: { cpu: container.usage.cpu, memory: container.usage.memory },
    })),
  };
}

/** The body of R5. */
export function podMetrics(value: PodMetricsValue): typeof PodMetrics.static {
  return { kind: "PodMetrics", apiVersion: API_VERSION, ...podMetricsItem(value) };
}

/** The body of R3 and R4. */
export function podMetricsList(values: readonly PodMetricsValue[]): typeof PodMetricsList.static {
  return { kind: "PodMetricsList", apiVersion: API_VERSION, metadata: {}, items: values.map(podMetricsItem) };
}

/** A NodeMetrics as a list item (no kind/apiVersion). */
export function nodeMetricsItem(value: NodeMetricsValue): typeof NodeMetricsItem.static {
  return {
    metadata: {
      name: value.name,
      creationTimestamp: formatKubernetesTime(value.creationTimestampMs),
      ...labelsField(value.labels),
    },
    timestamp: formatKubernetesTime(value.timestampMs),
    window: value.window,
    usage: { cpu: value.usage.cpu, memory: value.usage.memory },
  };
}

/** The body of R2. */
export function nodeMetrics(value: NodeMetricsValue): typeof NodeMetrics.static {
  return { kind: "NodeMetrics", apiVersion: API_VERSION, ...nodeMetricsItem(value) };
}

/** The body of R1. */
export function nodeMetricsList(values: readonly NodeMetricsValue[]): typeof NodeMetricsList.static {
  return { kind: "NodeMetricsList", apiVersion: API_VERSION, metadata: {}, items: values.map(nodeMetricsItem) };
}
