import {
  formatGroupResource,
  parseGroupResource,
  UnknownResourceError,
  type ResourceInfo,
} from "../../../apimachinery/rest-mapper.ts";
import type { CustomMetricEntry } from "../../../discovery/registry.ts";
import { type AnalysisContext, backendsOf, fromBackends } from "./shared.ts";
import { metricSuggestions } from "../suggestions.ts";
import type { ExplainStep } from "../types.ts";
import { closestNames } from "../../suggestions.ts";

/** The resource step; null when the REST mapper does not know what was written. */
export function resolveResource(ctx: AnalysisContext, steps: ExplainStep[]): ResourceInfo | null {
  const writtenResource = ctx.request.resource as string;
  let resource: ResourceInfo;
  try {
    resource = ctx.access.mapper().resolve(parseGroupResource(writtenResource));
  } catch (error) {
    if (!(error instanceof UnknownResourceError)) throw error;
    const known = ctx.access.mapper().all();
    const byName = new Map<string, string>();
    for (const info of known)
      for (const alias of [info.resource, info.singular, ...(info.shortNames ?? [])])
        byName.set(alias, formatGroupResource(info));
    const suggestions = [
      ...new Set(closestNames(writtenResource, byName.keys()).map((alias) => byName.get(alias) as string)),
    ];
    steps.push({
      step: "resource",
      status: "failed",
      reason: "resource-unknown",
      summary: `"${writtenResource}" is unknown to the REST mapper: ${error.message}${suggestions.length > 0 ? `; did you mean ${suggestions[0]}?` : ""}`,
      hints:
        ctx.access.mapperKind === "builtin"
          ? [
              "standalone mode resolves resources from a built-in table of common resources; run with --kubeconfig to use the cluster's (CRDs included)",
            ]
          : [
              "`kubectl api-resources` lists what the cluster serves; write the resource as `<plural>.<group>` when several groups serve the name",
            ],
      data: { written: writtenResource, resolved: null, suggestions },
    });
    return null;
  }
  steps.push({
    step: "resource",
    status: "ok",
    summary: `${writtenResource} -> ${formatGroupResource(resource)} (${resource.group === "" ? "" : `${resource.group}/`}${resource.version} ${resource.kind}, ${resource.namespaced ? "namespaced" : "cluster-scoped"})`,
    hints: [],
    data: {
      written: writtenResource,
      resolved: {
        group: resource.group,
        version: resource.version,
        kind: resource.kind,
        resource: resource.resource,
        namespaced: resource.namespaced,
      },
      suggestions: [],
    },
  });
  return resource;
}

/** The metric step; null when discovery registered no such metric for the resource and scope. */
export function findMetric(
  ctx: AnalysisContext,
  resource: ResourceInfo,
  namespaced: boolean,
  steps: ExplainStep[],
): CustomMetricEntry | null {
  const { request } = ctx;
  const entry = ctx.discovery.registry.customMetric(resource, namespaced, request.metric);
  if (!entry) {
    const { suggestions, hints } = metricSuggestions(ctx, { resource, namespaced });
    steps.push({
      step: "metric",
      status: "failed",
      reason: "metric-not-registered",
      summary: `${request.metric} is not registered for ${formatGroupResource(resource)} (${namespaced ? "namespaced request" : "cluster-scoped request"})${suggestions.length > 0 ? `: did you mean ${suggestions[0]}?` : ""}`,
      hints,
      data: { rule: null, series: null, namespaced, suggestions },
    });
    return null;
  }
  const collision = ctx.discovery.collisions.find(
    (c) => c.resource === formatGroupResource(resource) && c.metric === request.metric,
  );
  steps.push({
    step: "metric",
    status: "ok",
    summary: `registered by ${entry.rule.id} from series ${entry.seriesName}${fromBackends(entry)}`,
    hints: collision
      ? [
          `${collision.rules.join(", ")} all produce ${formatGroupResource(resource)}/${request.metric}; later rules win, so ${collision.winner} is served`,
        ]
      : [],
    data: { rule: entry.rule.id, series: entry.seriesName, namespaced, suggestions: [], ...backendsOf(entry) },
  });
  return entry;
}
