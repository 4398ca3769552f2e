/**
 * The external.metrics.k8s.io half of `explain`: after the real provider answered, walks its steps (metric, query,
 * result) with what it recorded and, for an empty result, probes whether the labelSelector or the namespace matcher
 * filtered everything out.
 */
import { labelMatcher } from "../../../naming/promql.ts";
import { promql } from "../../../naming/promql.ts";
import { renderExternalMetricQuery } from "../../../providers/external-metrics-provider.ts";
import { parseSeriesSelector } from "../../../providers/series-selector.ts";
import type { ExternalMetricEntry } from "../../../discovery/registry.ts";
import { formatKubernetesTime } from "../../../util/clock.ts";
import {
  backendsOf,
  fromBackends,
  queryStep,
  runProbe,
  sampleView,
  type Analysis,
  type AnalysisContext,
} from "./shared.ts";
import { externalMetricSuggestions } from "../suggestions.ts";
import type { ExplainStep, Probe, SampleView } from "../types.ts";

export async function analyseExternalRequest(ctx: AnalysisContext): Promise<Analysis> {
  const steps: ExplainStep[] = [];
  const done = (unreachable: string | null = null): Analysis => ({ steps, unreachable });
  const { request } = ctx;
  const namespace = request.namespace as string;

  const entry = ctx.discovery.registry.externalMetric(request.metric);
  if (!entry) {
    const { suggestions, hints } = externalMetricSuggestions(ctx);
    steps.push({
      step: "metric",
      status: "failed",
      reason: "metric-not-registered",
      summary: `external metric ${request.metric} is not registered${suggestions.length > 0 ? `: did you mean ${suggestions[0]}?` : ""}`,
      hints,
      data: { rule: null, series: null, namespaced: null, suggestions },
    });
    return done();
  }
  const namespaceLabel = entry.namespaced
    ? entry.rule.resources.labelForResource({ group: "", resource: "namespaces" })
    : null;
  const collision = ctx.discovery.collisions.find((c) => c.resource === null && c.metric === request.metric);
  steps.push({
    step: "metric",
    status: "ok",
    summary:
      `registered by ${entry.rule.id} from series ${entry.seriesName}${fromBackends(entry)}; ` +
      (namespaceLabel === null
        ? "namespaced: false, so the URL namespace is ignored"
        : `the query gets ${labelMatcher(namespaceLabel, "=", namespace)} from the URL namespace`),
    hints: collision
      ? [
          `${collision.rules.join(", ")} all produce external metric ${request.metric}; later rules win, so ${collision.winner} is served`,
        ]
      : [],
    data: {
      rule: entry.rule.id,
      series: entry.seriesName,
      namespaced: entry.namespaced,
      suggestions: [],
      ...backendsOf(entry),
    },
  });

  const sent = ctx.queries[0];
  const query = queryStep(sent, {
    template: entry.rule.metricsQuery.source,
    plannedPromql: null,
    responseBody: ctx.response.body,
  });
  steps.push(query.step);
  if (query.failed || sent === undefined) return done(query.unreachable);

  const result = sent.result;
  let samples: SampleView[];
  if (result?.resultType === "vector") samples = result.result.map(sampleView);
  else if (result?.resultType === "scalar")
    samples = [
      {
        labels: {},
        value: result.result.value,
        timestamp: formatKubernetesTime(result.result.timestampSeconds * 1000),
      },
    ];
  else {
    steps.push({
      step: "result",
      status: "failed",
      reason: "query-failed",
      summary: `the query returned a ${result?.resultType}; external metrics need a vector or a scalar`,
      hints: ["metricsQuery must produce an instant vector (no range selector at the top level)"],
      data: { resultType: result?.resultType ?? null, samples: [], probes: [] },
    });
    return done();
  }
  if (samples.length === 0) {
    steps.push(await externalEmptyResultStep(ctx, entry, namespaceLabel));
    return done();
  }
  const served = servedCount(ctx.response.body);
  steps.push({
    step: "result",
    status: served === samples.length ? "ok" : served > 0 ? "warning" : "failed",
    ...(served === 0 ? { reason: "values-dropped" as const } : {}),
    summary:
      served === samples.length
        ? `${samples.length} sample(s); each becomes one value`
        : `${samples.length} sample(s), ${samples.length - served} of them infinite and dropped`,
    hints: [],
    data: { resultType: result.resultType, samples, probes: [] },
  });
  return done();
}

async function externalEmptyResultStep(
  ctx: AnalysisContext,
  entry: ExternalMetricEntry,
  namespaceLabel: string | null,
): Promise<ExplainStep> {
  const { request } = ctx;
  const namespace = request.namespace as string;
  const requirements = parseSeriesSelector(request.labelSelector, "labelSelector");
  const probes: Probe[] = [];
  const base = { step: "result" as const, status: "failed" as const };
  const data = () => ({ resultType: "vector", samples: [], probes });
  if (requirements.length > 0) {
    const query = renderExternalMetricQuery(entry, { namespace, requirements: [] });
    const { probe } = await runProbe(
      ctx.prometheus,
      "does the query return anything without labelSelector?",
      query,
      ctx.nowMs,
    );
    probes.push(probe);
    if ((probe.samples ?? 0) > 0) {
      return {
        ...base,
        reason: "selector-filtered-everything",
        summary: `the query returned nothing; without labelSelector ${request.labelSelector} it returns ${probe.samples} sample(s): the selector filters every series out`,
        hints: [
          "labelSelector is matched against the series' labels: check the label names and values on the series in Prometheus",
        ],
        data: data(),
      };
    }
  }
  if (namespaceLabel !== null) {
    const query = renderExternalMetricQuery({ ...entry, namespaced: false }, { namespace, requirements });
    const { probe, samples } = await runProbe(
      ctx.prometheus,
      `does the query return anything without ${namespaceLabel}="${namespace}"?`,
      query,
      ctx.nowMs,
    );
    probes.push(probe);
    if ((probe.samples ?? 0) > 0) {
      const namespaces = [...new Set(samples.map((sample) => sample.metric[namespaceLabel] ?? "(none)"))].sort();
      return {
        ...base,
        reason: "namespace-filtered-everything",
        summary: `the query returned nothing; without the namespace matcher ${labelMatcher(namespaceLabel, "=", namespace)} it returns ${probe.samples} sample(s): the series are not in namespace ${namespace}`,
        hints: [
          `the series carry ${namespaceLabel}=${namespaces.join(", ")} (as far as the result shows): ask in that namespace, or set \`resources: {namespaced: false}\` on ${entry.rule.id} when the metric is not per namespace (e.g. a queue outside the cluster)`,
        ],
        data: data(),
      };
    }
  }
  const { probe } = await runProbe(
    ctx.prometheus,
    `does ${entry.seriesName} have samples now?`,
    promql(`count(${entry.seriesName})`),
    ctx.nowMs,
  );
  probes.push(probe);
  const none = probe.samples === 0;
  return {
    ...base,
    reason: "query-empty",
    summary: none
      ? `the query returned nothing: no series ${entry.seriesName} has a sample within the query lookback (5m by default): the targets stopped reporting, or the series were discovered from older data (--metrics-max-age ${ctx.maxAge})`
      : `the query returned nothing, though ${entry.seriesName} has samples: the metricsQuery returns nothing for them`,
    hints: none
      ? []
      : ["a rate() or increase() range must hold at least two samples: make it at least twice the scrape interval"],
    data: data(),
  };
}

/** Items of an ExternalMetricValueList body; 0 for anything else. */
function servedCount(body: unknown): number {
  const items = (body as { items?: unknown } | null)?.items;
  return Array.isArray(items) ? items.length : 0;
}
