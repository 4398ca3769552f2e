/**
 * Discovery documents (docs/api.md, Discovery): `/apis`, `/apis/<group>`, `/apis/<group>/<version>`. Answered from
 * memory, never waiting on Prometheus: the aggregator's availability probe hits `/apis/<group>/<version>`.
 */
import { formatGroupResource } from "../apimachinery/rest-mapper.ts";
import type { MetricRegistry } from "../discovery/registry.ts";
import { compareStrings } from "../util/compare.ts";
import type { ApiGroup, ApiGroupEntry, ApiGroupList, ApiResourceList as ApiResourceListSchema } from "./schemas.ts";

/** An API group this server installs, versions in the order they are listed (preferred first). */
export interface ServedGroup {
  readonly name: string;
  readonly versions: readonly string[];
}

export const CUSTOM_METRICS_GROUP: ServedGroup = { name: "custom.metrics.k8s.io", versions: ["v1beta2", "v1beta1"] };
export const EXTERNAL_METRICS_GROUP: ServedGroup = { name: "external.metrics.k8s.io", versions: ["v1beta1"] };
export const RESOURCE_METRICS_GROUP: ServedGroup = { name: "metrics.k8s.io", versions: ["v1beta1"] };

function groupObject(group: ServedGroup): typeof ApiGroupEntry.static {
  const versions = group.versions.map((version) => ({ groupVersion: `${group.name}/${version}`, version }));
  // NB: every served group has at least one version; the first is the preferred one.
  return { name: group.name, versions, preferredVersion: versions[0]! };
}

/** `GET /apis`. */
export function apiGroupList(groups: readonly ServedGroup[]): typeof ApiGroupList.static {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(groupObject) };
}

/** `GET /apis/<group>`. */
export function apiGroup(group: ServedGroup): typeof ApiGroup.static {
  return { kind: "APIGroup", apiVersion: "v1", ...groupObject(group) };
}

/** One entry of an APIResourceList, keys in wire order. */
export interface ApiResource {
  readonly name: string;
  readonly singularName: "";
  readonly namespaced: boolean;
  readonly kind: string;
  readonly verbs: string[];
}

/** Listed while the custom registry is empty: an empty list breaks client-go discovery for every client. */
export const CUSTOM_METRICS_PLACEHOLDER = "custommetrics";
export const EXTERNAL_METRICS_PLACEHOLDER = "externalmetrics";

/** `GET /apis/custom.metrics.k8s.io/<version>`: one entry per (resource, metric), sorted by name; never empty. */
export function customMetricsResourceList(version: string, registry: MetricRegistry): ApiResourceListBody {
  const byName = new Map<string, ApiResource>();
  for (const entry of registry.customMetrics()) {
    const name = `${formatGroupResource(entry.resource)}/${entry.metric}`;
    byName.set(name, { name, singularName: "", namespaced: entry.namespaced, kind: "MetricValueList", verbs: ["get"] });
  }
  const resources = [...byName.values()].sort((a, b) => compareStrings(a.name, b.name));
  if (resources.length === 0) {
    resources.push({
      name: CUSTOM_METRICS_PLACEHOLDER,
      singularName: "",
      namespaced: true,
      kind: "MetricValueList",
      verbs: ["get"],
    });
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${CUSTOM_METRICS_GROUP.name}/${version}`,
    resources,
  };
}

type ApiResourceListBody = typeof ApiResourceListSchema.static;
type ApiResourceBody = ApiResourceListBody["resources"][number];

/**
 * `GET /apis/external.metrics.k8s.io/v1beta1`: one entry per external metric, sorted by name; `namespaced` is false
 * for metrics of `namespaced: false` rules (upstream always says true, its issues #530 and #690); never empty
 * (placeholder `externalmetrics`).
 */
export function externalMetricsResourceList(registry: MetricRegistry): ApiResourceListBody {
  const resources: ApiResourceBody[] = registry.externalMetrics().map((entry) => ({
    name: entry.metric,
    singularName: "",
    namespaced: entry.namespaced,
    kind: "ExternalMetricValueList",
    verbs: ["get"],
  }));
  resources.sort((a, b) => compareStrings(a.name, b.name));
  if (resources.length === 0) {
    resources.push({
      name: EXTERNAL_METRICS_PLACEHOLDER,
      singularName: "",
      namespaced: true,
      kind: "ExternalMetricValueList",
      verbs: ["get"],
    });
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${EXTERNAL_METRICS_GROUP.name}/v1beta1`,
    resources,
  };
}

/** `GET /apis/metrics.k8s.io/v1beta1`: exactly nodes and pods (docs/api.md, Discovery). */
export function resourceMetricsResourceList(): ApiResourceListBody {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${RESOURCE_METRICS_GROUP.name}/v1beta1`,
    resources: [
      { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
      { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
    ],
  };
}
