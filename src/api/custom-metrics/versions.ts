/**
 * The two wire shapes of a MetricValueList (docs/api.md, Custom metrics). Items carry no kind/apiVersion;
 * `describedObject` keys are kind, namespace, name, apiVersion; `selector` is always present (null when empty); window
 * fields are omitted.
 */
import type { CustomMetricValue } from "../../providers/custom-metrics-provider.ts";
import { formatKubernetesTime } from "../../util/clock.ts";
import type {
  MetricValueListV1beta1,
  MetricValueListV1beta2,
  MetricValueV1beta1,
  MetricValueV1beta2,
} from "../schemas.ts";

export type CustomMetricsVersion = "v1beta1" | "v1beta2";

export function isCustomMetricsVersion(version: string): version is CustomMetricsVersion {
  return version === "v1beta1" || version === "v1beta2";
}

function itemV1beta1(value: CustomMetricValue): typeof MetricValueV1beta1.static {
  return {
    describedObject: value.describedObject,
    metricName: value.metric,
    timestamp: formatKubernetesTime(value.timestampMs),
    value: value.value,
    selector: value.selector,
  };
}

function itemV1beta2(value: CustomMetricValue): typeof MetricValueV1beta2.static {
  return {
    describedObject: value.describedObject,
    metric: { name: value.metric, selector: value.selector },
    timestamp: formatKubernetesTime(value.timestampMs),
    value: value.value,
  };
}

/** The MetricValueList for a version. */
export function metricValueList(
  version: CustomMetricsVersion,
  values: readonly CustomMetricValue[],
): typeof MetricValueListV1beta1.static | typeof MetricValueListV1beta2.static {
  // NB: key order is the wire order (kind, apiVersion, metadata, items).
  return version === "v1beta1"
    ? {
        kind: "MetricValueList",
        apiVersion: "custom.metrics.k8s.io/v1beta1",
        metadata: {},
        items: values.map(itemV1beta1),
      }
    : {
        kind: "MetricValueList",
        apiVersion: "custom.metrics.k8s.io/v1beta2",
        metadata: {},
        items: values.map(itemV1beta2),
      };
}
