/**
 * One discovery run for `check` and `explain`, with the server's own modules: `listSeriesShapes` per seriesQuery and
 * `buildMetricRegistry` over every rule, exactly as a full relist does. On top, per rule: how many series matched,
 * which metrics it produced (with resource and scope), which series it skipped and why, and which of its metrics
 * another rule overrides (later rules win, as in the registry).
 */
import type { CompiledDiscoveryRule, CompiledRules } from "../../naming/compile-rules.ts";
import { formatGroupResource } from "../../apimachinery/rest-mapper.ts";
import { listSeriesShapes, type SeriesSource } from "../../discovery/series-lister.ts";
import { probeLabelIndex, type DiscoveryMode, type ResolvedDiscoveryMode } from "../../discovery/discovery-mode.ts";
import type { LabelIndexSource } from "../../discovery/label-index-lister.ts";
import {
  buildMetricRegistry,
  type MetricRegistry,
  type RuleSeries,
  type SeriesShape,
  type SkippedSeries as SkippedShape,
  type SkipReason,
} from "../../discovery/registry.ts";
import { PrometheusError } from "../../prometheus/errors.ts";
import type { Milliseconds } from "../../util/duration.ts";

/** A metric one rule produces. */
export interface ProducedMetric {
  readonly metric: string;
  /** Custom rules: the resource, e.g. `pods` or `deployments.apps`; null for external rules. */
  readonly resource: string | null;
  /** Custom: the resource is namespaced; external: the rule reads the URL namespace. */
  readonly namespaced: boolean;
  /** The series the registry keeps for it (the last one seen). */
  readonly series: string;
  /** The rule whose entry the server serves for this key, when it is not this rule (a collision). */
  readonly overriddenBy: string | null;
}

/** A series a rule received but made no metric of, and why (the registry's own {@link SkipReason}). */
export interface SkippedSeries {
  readonly series: string;
  readonly reason: SkipReason;
  readonly labelNames: readonly string[];
  /** The metric name it would have had (`no-resource` only). */
  readonly metric?: string;
}

export interface RuleDiscovery {
  /** `rules[0]`, `externalRules[1]`. */
  readonly id: string;
  readonly kind: "custom" | "external";
  readonly seriesQuery: string;
  /** Series Prometheus returned for the seriesQuery (rules sharing a query see the same ones). */
  readonly seriesMatched: number;
  /** Why Prometheus refused the seriesQuery (e.g. `bad_data: ...`); null when it answered. The server's relist fails then. */
  readonly error: string | null;
  /** Distinct (name, label names) shapes among them. */
  readonly shapes: number;
  /** Sorted by metric, then resource. */
  readonly metrics: readonly ProducedMetric[];
  readonly skipped: readonly SkippedSeries[];
}

/** Two or more rules producing the same key; the registry keeps the last rule's entry. */
export interface Collision {
  readonly metric: string;
  /** Custom: `pods`, `deployments.apps`; null for external metrics. */
  readonly resource: string | null;
  readonly namespaced: boolean;
  /** In rule order. */
  readonly rules: readonly string[];
  readonly winner: string;
}

export interface DiscoveryReport {
  /** Series were listed from this time on (ms since the epoch): now minus `--metrics-max-age`. */
  readonly sinceMs: number;
  readonly maxAgeMs: Milliseconds;
  /**
   * The discovery mode the server would use with the same `--discovery-mode` (for `auto`, what the probe found; a
   * probe that cannot tell yet means series for now), and why. The per-rule details below always come from listing
   * series, so every series can be explained; both modes register the same metrics.
   */
  readonly mode: { readonly requested: DiscoveryMode; readonly used: ResolvedDiscoveryMode; readonly reason: string };
  /** The registry the server would serve after this run. */
  readonly registry: MetricRegistry;
  readonly seriesSeen: number;
  readonly rules: readonly RuleDiscovery[];
  readonly collisions: readonly Collision[];
}

interface QueryListing {
  readonly shapes: readonly SeriesShape[];
  readonly count: number;
  readonly error: string | null;
}

/** The mode `requested` resolves to against `source` (probing for `auto`). */
async function resolveMode(
  source: SeriesSource & Partial<LabelIndexSource>,
  requested: DiscoveryMode,
  startSeconds: number,
): Promise<DiscoveryReport["mode"]> {
  if (requested !== "auto") return { requested, used: requested, reason: "--discovery-mode" };
  if (source.labelNames === undefined || source.labelValues === undefined) {
    return { requested, used: "series", reason: "the Prometheus source has no label-index calls" };
  }
  const probe = await probeLabelIndex(source as LabelIndexSource, startSeconds);
  return { requested, used: probe.mode ?? "series", reason: probe.reason };
}

/**
 * True for failures that mean Prometheus could not be asked at all (no connection, timeout, an answer that is not
 * the Prometheus API), as opposed to Prometheus refusing a query.
 */
export function isUnreachable(error: unknown): boolean {
  return (
    error instanceof PrometheusError &&
    (error.kind === "network" || error.kind === "timeout" || error.kind === "bad_response")
  );
}

/**
 * Lists series once and builds the registry. A seriesQuery Prometheus refuses is recorded on its rules (and listed
 * as empty); rejects with the Prometheus client's error when Prometheus is unreachable ({@link isUnreachable}).
 */
export async function discoverOnce(
  source: SeriesSource & Partial<LabelIndexSource>,
  compiled: CompiledRules,
  maxAgeMs: Milliseconds,
  nowMs: number,
  requested: DiscoveryMode = "series",
): Promise<DiscoveryReport> {
  const sinceMs = nowMs - maxAgeMs;
  const mode = await resolveMode(source, requested, sinceMs / 1000);
  // NB: one listSeriesShapes call per query, so the series count of each query is known (the server makes one call
  // per distinct query too; it only adds the counts up).
  const listings = await Promise.all(
    compiled.seriesQueries.map(async (query): Promise<readonly [string, QueryListing]> => {
      try {
        const listing = await listSeriesShapes(source, [query], sinceMs / 1000);
        return [query, { shapes: listing.shapesByQuery.get(query) ?? [], count: listing.seriesSeen, error: null }];
      } catch (error) {
        if (isUnreachable(error)) throw error;
        return [query, { shapes: [], count: 0, error: (error as Error).message }];
      }
    }),
  );
  const byQuery = new Map(listings);
  const seriesFor = (rule: CompiledDiscoveryRule): readonly SeriesShape[] =>
    byQuery.get(rule.namer.seriesQuery)?.shapes ?? [];
  const custom: RuleSeries[] = compiled.custom.map((rule) => ({ rule, series: seriesFor(rule) }));
  const external: RuleSeries[] = compiled.external.map((rule) => ({ rule, series: seriesFor(rule) }));
  const { registry } = buildMetricRegistry(custom, external);

  const rules: RuleDiscovery[] = [];
  for (const [kind, list] of [
    ["custom", custom],
    ["external", external],
  ] as const) {
    for (const { rule, series } of list) {
      const shapes = series as readonly SeriesShape[];
      // The rule alone, through the same builder: what it produces before later rules overwrite anything, and what
      // it skips.
      const skipped: SkippedSeries[] = [];
      const onSkip = ({ shape, reason, metric }: SkippedShape) =>
        skipped.push({
          series: shape.name,
          labelNames: shape.labelNames,
          reason,
          ...(metric === undefined ? {} : { metric }),
        });
      const ownSeries = [{ rule, series: shapes }];
      const own = (
        kind === "custom" ? buildMetricRegistry(ownSeries, [], onSkip) : buildMetricRegistry([], ownSeries, onSkip)
      ).registry;
      const metrics: ProducedMetric[] =
        kind === "custom"
          ? own.customMetrics().map((entry) => {
              const served = registry.customMetric(entry.resource, entry.namespaced, entry.metric);
              return {
                metric: entry.metric,
                resource: formatGroupResource(entry.resource),
                namespaced: entry.namespaced,
                series: entry.seriesName,
                overriddenBy: served && served.rule.id !== rule.id ? served.rule.id : null,
              };
            })
          : own.externalMetrics().map((entry) => {
              const served = registry.externalMetric(entry.metric);
              return {
                metric: entry.metric,
                resource: null,
                namespaced: entry.namespaced,
                series: entry.seriesName,
                overriddenBy: served && served.rule.id !== rule.id ? served.rule.id : null,
              };
            });
      rules.push({
        id: rule.id,
        kind,
        seriesQuery: rule.namer.seriesQuery,
        seriesMatched: byQuery.get(rule.namer.seriesQuery)?.count ?? 0,
        error: byQuery.get(rule.namer.seriesQuery)?.error ?? null,
        shapes: shapes.length,
        metrics,
        skipped,
      });
    }
  }
  return {
    sinceMs,
    maxAgeMs,
    mode,
    registry,
    seriesSeen: listings.reduce((sum, [, listing]) => sum + listing.count, 0),
    rules,
    collisions: findCollisions(rules),
  };
}

function findCollisions(rules: readonly RuleDiscovery[]): Collision[] {
  const byKey = new Map<string, { metric: ProducedMetric; rules: string[]; winner: string }>();
  for (const rule of rules) {
    for (const metric of rule.metrics) {
      // NB: external metrics are keyed by name alone, custom ones by resource and name (the resource fixes the scope).
      const key = `${rule.kind}\u0000${metric.resource ?? ""}\u0000${metric.metric}`;
      const found = byKey.get(key) ?? { metric, rules: [], winner: rule.id };
      found.rules.push(rule.id);
      if (metric.overriddenBy === null) found.winner = rule.id;
      byKey.set(key, found);
    }
  }
  return [...byKey.values()]
    .filter((entry) => entry.rules.length > 1)
    .map(({ metric, rules: ids, winner }) => ({
      metric: metric.metric,
      resource: metric.resource,
      namespaced: metric.namespaced,
      rules: ids,
      winner,
    }));
}
