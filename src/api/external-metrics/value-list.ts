/**
 * The ExternalMetricValueList wire shape (docs/api.md, External metrics): items keyed metricName, metricLabels (always
 * present, null for a scalar), timestamp (the sample's time), value; `window` omitted.
 */
import type { ExternalMetricValue } from "../../providers/external-metrics-provider.ts";
import { formatKubernetesTime } from "../../util/clock.ts";
import type { ExternalMetricValueList } from "../schemas.ts";

/** The body of an E1 answer. */
export function externalMetricValueList(values: readonly ExternalMetricValue[]): typeof ExternalMetricValueList.static {
  return {
    kind: "ExternalMetricValueList",
    apiVersion: "external.metrics.k8s.io/v1beta1",
    metadata: {},
    items: values.map((value) => ({
      metricName: value.metric,
      metricLabels: value.labels,
      timestamp: formatKubernetesTime(value.timestampMs),
      value: value.value,
    })),
  };
}
