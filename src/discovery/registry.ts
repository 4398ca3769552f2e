/**
 * Immutable snapshots of what discovery found (rules/README.md, Discovery): custom metrics keyed by
 * (group-resource, namespaced, metric) and external metrics keyed by name. Built in one pass from the series each
 * rule's `seriesQuery` returned, then swapped in whole.
 */
import type { CompiledDiscoveryRule } from "../naming/compile-rules.ts";
import type { GroupResource, ResourceInfo } from "../apimachinery/rest-mapper.ts";
import { compareStrings } from "../util/compare.ts";

/** A discovered series reduced to what naming needs: its name and the names (not values) of its labels. */
export interface SeriesShape {
  readonly name: string;
  readonly labelNames: readonly string[];
}

/** Where a metric registered by several backends came from (set only when named backends exist). */
interface RegisteredByBackends<Entry> {
  /** The backends that registered it, in declaration order; undefined: only the default backend. */
  readonly backends?: readonly string[];
  /** Each backend's own entry (its rule and series name), by backend; set with `backends`. */
  readonly byBackend?: ReadonlyMap<string, Entry>;
}

/** One registered custom metric: the series to query, the rule that renders it, the resource it describes. */
export interface CustomMetricEntry extends RegisteredByBackends<CustomMetricEntry> {
  readonly metric: string;
  readonly resource: ResourceInfo;
  /** false for cluster-scoped resources and for metrics about namespaces themselves. */
  readonly namespaced: boolean;
  readonly seriesName: string;
  readonly rule: CompiledDiscoveryRule;
}

export interface ExternalMetricEntry extends RegisteredByBackends<ExternalMetricEntry> {
  readonly metric: string;
  readonly seriesName: string;
  readonly rule: CompiledDiscoveryRule;
  /** false when the rule says `resources.namespaced: false`. */
  readonly namespaced: boolean;
}

export interface MetricRegistry {
  /** Looks up a custom metric for a normalised resource and the request's scope. */
  customMetric(resource: GroupResource, namespaced: boolean, metric: string): CustomMetricEntry | undefined;
  /** Every custom metric, sorted by metric, then group, then resource. */
  customMetrics(): readonly CustomMetricEntry[];
  externalMetric(metric: string): ExternalMetricEntry | undefined;
  /** Every external metric, sorted by name. */
  externalMetrics(): readonly ExternalMetricEntry[];
}

/** What one rule received from its `seriesQuery`. */
export interface RuleSeries {
  readonly rule: CompiledDiscoveryRule;
  readonly series: Iterable<SeriesShape>;
}

export interface RegistryBuildReport {
  readonly registry: MetricRegistry;
  /** Series whose metric name expanded to "" (the `$1_suffix` trap), by rule id; for logs. */
  readonly emptyNames: ReadonlyMap<string, number>;
}

/**
 * Why a rule made no metric of a series: `filtered`, removed by `seriesFilters` or `name.matches`; `no-resource`,
 * none of its labels maps to a resource (custom rules only); `empty-name`, `name.as` expanded to "" (the
 * `$1_per_second` trap).
 */
export type SkipReason = "filtered" | "no-resource" | "empty-name";

/** A series a rule received and made no metric of. */
export interface SkippedSeries {
  readonly rule: CompiledDiscoveryRule;
  readonly shape: SeriesShape;
  readonly reason: SkipReason;
  /** The metric name it would have had (`no-resource` only). */
  readonly metric?: string;
}

/**
 * Fills the registries. Later entries overwrite earlier ones: rule order, then Prometheus response order.
 * `onSkip` (default none) hears every series a rule makes no metric of, and why: `check` and `explain` report
 * these, so there is one decision chain.
 */
export function buildMetricRegistry(
  custom: readonly RuleSeries[],
  external: readonly RuleSeries[],
  onSkip?: (skipped: SkippedSeries) => void,
): RegistryBuildReport {
  const customByKey = new Map<string, CustomMetricEntry>();
  const externalByName = new Map<string, ExternalMetricEntry>();
  const emptyNames = new Map<string, number>();

  /** False (and reported) when the rule's seriesFilters or name.matches drop the series. */
  const kept = (rule: CompiledDiscoveryRule, shape: SeriesShape): boolean => {
    if (rule.namer.keepsSeries(shape.name)) return true;
    onSkip?.({ rule, shape, reason: "filtered" });
    return false;
  };
  /** The metric name, or null (counted and reported) when `name.as` expands to "". */
  const metricOf = (rule: CompiledDiscoveryRule, shape: SeriesShape): string | null => {
    const metric = rule.namer.metricNameForSeries(shape.name);
    if (metric !== "") return metric;
    emptyNames.set(rule.id, (emptyNames.get(rule.id) ?? 0) + 1);
    onSkip?.({ rule, shape, reason: "empty-name" });
    return null;
  };

  for (const { rule, series } of custom) {
    for (const shape of series) {
      if (!kept(rule, shape)) continue;
      const resources = rule.resources.resourcesForLabels(shape.labelNames);
      if (resources.length === 0) {
        onSkip?.({ rule, shape, reason: "no-resource", metric: rule.namer.metricNameForSeries(shape.name) });
        continue;
      }
      const metric = metricOf(rule, shape);
      if (metric === null) continue;
      for (const resource of resources) {
        const entry: CustomMetricEntry = {
          metric,
          resource,
          namespaced: resource.namespaced,
          seriesName: shape.name,
          rule,
        };
        customByKey.set(customKey(resource, resource.namespaced, metric), entry);
      }
    }
  }
  for (const { rule, series } of external) {
    for (const shape of series) {
      if (!kept(rule, shape)) continue;
      const metric = metricOf(rule, shape);
      if (metric === null) continue;
      externalByName.set(metric, { metric, seriesName: shape.name, rule, namespaced: rule.namespaced });
    }
  }

  const sortedCustom = [...customByKey.values()].sort(
    (a, b) =>
      compareStrings(a.metric, b.metric) ||
      compareStrings(a.resource.group, b.resource.group) ||
      compareStrings(a.resource.resource, b.resource.resource),
  );
  const sortedExternal = [...externalByName.values()].sort((a, b) => compareStrings(a.metric, b.metric));
  return {
    emptyNames,
    registry: {
      customMetric: (resource, namespaced, metric) => customByKey.get(customKey(resource, namespaced, metric)),
      customMetrics: () => sortedCustom,
      externalMetric: (metric) => externalByName.get(metric),
      externalMetrics: () => sortedExternal,
    },
  };
}

/** A registry with nothing in it: what is served before the first discovery. */
export const EMPTY_REGISTRY: MetricRegistry = buildMetricRegistry([], []).registry;

/** One backend's part of the registry. */
export interface BackendRegistry {
  readonly backend: string;
  readonly registry: MetricRegistry;
}

/**
 * The registries of several backends as one, `parts` in declaration order: a metric registered by several backends
 * shows the entry (rule, series name) of the first, lists every backend in `backends`, and keeps each backend's own
 * entry in `byBackend`: a query goes to one backend with that backend's rule and series name.
 */
export function mergeRegistries(parts: readonly BackendRegistry[]): MetricRegistry {
  const customByKey = new Map<string, CustomMetricEntry>();
  const externalByName = new Map<string, ExternalMetricEntry>();
  for (const { backend, registry } of parts) {
    for (const entry of registry.customMetrics()) {
      const key = customKey(entry.resource, entry.namespaced, entry.metric);
      const known = customByKey.get(key);
      const byBackend = new Map(known?.byBackend).set(backend, entry);
      customByKey.set(key, { ...(known ?? entry), backends: [...(known?.backends ?? []), backend], byBackend });
    }
    for (const entry of registry.externalMetrics()) {
      const known = externalByName.get(entry.metric);
      const byBackend = new Map(known?.byBackend).set(backend, entry);
      const backends = [...(known?.backends ?? []), backend];
      externalByName.set(entry.metric, { ...(known ?? entry), backends, byBackend });
    }
  }
  const sortedCustom = [...customByKey.values()].sort(
    (a, b) =>
      compareStrings(a.metric, b.metric) ||
      compareStrings(a.resource.group, b.resource.group) ||
      compareStrings(a.resource.resource, b.resource.resource),
  );
  const sortedExternal = [...externalByName.values()].sort((a, b) => compareStrings(a.metric, b.metric));
  return {
    customMetric: (resource, namespaced, metric) => customByKey.get(customKey(resource, namespaced, metric)),
    customMetrics: () => sortedCustom,
    externalMetric: (metric) => externalByName.get(metric),
    externalMetrics: () => sortedExternal,
  };
}

function customKey(resource: GroupResource, namespaced: boolean, metric: string): string {
  return `${resource.group}\u0000${resource.resource}\u0000${namespaced}\u0000${metric}`;
}
