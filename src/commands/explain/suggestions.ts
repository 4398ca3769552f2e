/**
 * "Did you mean" for a metric the registry does not have: the same name for another resource or scope, similar
 * names, the other API, series that would have made it but lack a resource label, rules whose seriesQuery matched
 * nothing, and the `$1_per_second` trap.
 */
import { formatGroupResource, type GroupResource } from "../../apimachinery/rest-mapper.ts";
import type { CustomMetricEntry } from "../../discovery/registry.ts";
import type { AnalysisContext } from "./steps/shared.ts";
import { closestNames, suffixVariants } from "../suggestions.ts";

export interface MetricSuggestions {
  /** Short forms, best first: `pods/http_requests`, or an external metric's name. */
  readonly suggestions: string[];
  /** Sentences: where each suggestion is served, and what discovery saw. */
  readonly hints: string[];
}

/** Suggestions for a custom metric not registered for `resource` in this scope. */
export function metricSuggestions(
  ctx: AnalysisContext,
  { resource, namespaced }: { resource: GroupResource; namespaced: boolean },
): MetricSuggestions {
  const { request, discovery } = ctx;
  const metric = request.metric;
  const suggestions: string[] = [];
  const hints: string[] = [];
  const all = discovery.registry.customMetrics();

  // The same name for other resources, those in the request's scope first.
  const sameName = all.filter((candidate) => candidate.metric === metric);
  for (const entry of [
    ...sameName.filter((e) => e.namespaced === namespaced),
    ...sameName.filter((e) => e.namespaced !== namespaced),
  ]) {
    const key = `${formatGroupResource(entry.resource)}/${metric}`;
    suggestions.push(key);
    hints.push(
      `${key} is registered (${entry.namespaced ? "namespaced" : "cluster-scoped"}): ${customPath(ctx, entry)}`,
    );
  }
  const sameResource = all.filter(
    (entry) => formatGroupResource(entry.resource) === formatGroupResource(resource) && entry.namespaced === namespaced,
  );
  const names = sameResource.map((entry) => entry.metric);
  for (const similar of [...suffixVariants(metric, names), ...closestNames(metric, names)]) {
    const key = `${formatGroupResource(resource)}/${similar}`;
    if (suggestions.includes(key)) continue;
    suggestions.push(key);
    const entry = sameResource.find((candidate) => candidate.metric === similar) as CustomMetricEntry;
    hints.push(`${key} is registered: ${customPath(ctx, entry)}`);
  }
  const external = discovery.registry.externalMetric(metric);
  if (external) {
    suggestions.push(metric);
    hints.push(
      `${metric} is an external metric: /apis/external.metrics.k8s.io/v1beta1/namespaces/${request.namespace ?? "<namespace>"}/${metric}`,
    );
  }
  hints.push(...discoveryHints(ctx, "custom"));
  return { suggestions, hints };
}

/** Suggestions for an external metric that is not registered. */
export function externalMetricSuggestions(ctx: AnalysisContext): MetricSuggestions {
  const { request, discovery } = ctx;
  const metric = request.metric;
  const suggestions: string[] = [];
  const hints: string[] = [];
  const names = discovery.registry.externalMetrics().map((entry) => entry.metric);
  for (const similar of [...new Set([...suffixVariants(metric, names), ...closestNames(metric, names)])]) {
    suggestions.push(similar);
    hints.push(
      `external metric ${similar} is registered: /apis/external.metrics.k8s.io/v1beta1/namespaces/${request.namespace}/${similar}`,
    );
  }
  for (const entry of discovery.registry.customMetrics().filter((candidate) => candidate.metric === metric)) {
    const key = `${formatGroupResource(entry.resource)}/${metric}`;
    suggestions.push(key);
    hints.push(`${metric} is a custom metric of ${formatGroupResource(entry.resource)}: ${customPath(ctx, entry)}`);
  }
  hints.push(...discoveryHints(ctx, "external"));
  return { suggestions, hints };
}

/** What discovery saw that explains a missing metric: series without resource labels, empty names, no series at all. */
function discoveryHints(ctx: AnalysisContext, kind: "custom" | "external"): string[] {
  const hints: string[] = [];
  const since = new Date(ctx.discovery.sinceMs).toISOString();
  for (const rule of ctx.discovery.rules.filter((candidate) => candidate.kind === kind)) {
    if (rule.error !== null) {
      hints.push(`${rule.id}: Prometheus refused seriesQuery ${rule.seriesQuery}: ${rule.error}`);
      continue;
    }
    if (rule.seriesMatched === 0) {
      hints.push(
        `${rule.id}: no series matched seriesQuery ${rule.seriesQuery} since ${since}: is --metrics-max-age (${ctx.maxAge}) ≥ the scrape interval, and are the targets scraped?`,
      );
      continue;
    }
    for (const skipped of rule.skipped) {
      if (skipped.reason === "no-resource" && skipped.metric === ctx.request.metric) {
        hints.push(
          `${rule.id}: series ${skipped.series} would be ${skipped.metric}, but none of its labels (${skipped.labelNames.join(", ") || "none"}) maps to a resource: map one in resources (overrides or template)`,
        );
      }
    }
    const empty = rule.skipped.filter((skipped) => skipped.reason === "empty-name");
    if (empty.length > 0) {
      hints.push(
        `${rule.id}: ${empty.length} series shape(s) got an empty metric name, e.g. ${empty[0]?.series}: name.as has the $1_per_second trap (write \${1}_per_second)`,
      );
    }
  }
  return hints;
}

/** The request path for a registered custom metric, keeping the request's version, namespace and object name. */
function customPath(ctx: AnalysisContext, entry: CustomMetricEntry): string {
  const prefix = `/apis/custom.metrics.k8s.io/${ctx.request.version === "v1beta1" ? "v1beta1" : "v1beta2"}`;
  const namespace = ctx.request.namespace ?? "<namespace>";
  if (entry.resource.group === "" && entry.resource.resource === "namespaces") {
    const named =
      ctx.request.namespace ?? (ctx.request.resource === "namespaces" ? ctx.request.name : undefined) ?? "<namespace>";
    return `${prefix}/namespaces/${named}/metrics/${entry.metric}`;
  }
  const scope = entry.namespaced ? `/namespaces/${namespace}` : "";
  return `${prefix}${scope}/${formatGroupResource(entry.resource)}/${ctx.request.name ?? "*"}/${entry.metric}`;
}
