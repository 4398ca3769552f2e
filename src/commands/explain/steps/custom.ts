/**
 * The custom.metrics.k8s.io half of `explain`: after the real provider answered, walks its steps (resource, metric,
 * objects, query, result, matching) with what it recorded, and says which step lost the data and why.
 */
import { parseSeriesSelector } from "../../../providers/series-selector.ts";
import { labelMatcher } from "../../../naming/promql.ts";
import { promql } from "../../../naming/promql.ts";
import type { VectorSample } from "../../../prometheus/types.ts";
import {
  renderCustomMetricQuery,
  samplesByLabel,
  type RenderedCustomQuery,
} from "../../../providers/custom-metrics-provider.ts";
import type { CustomMetricEntry } from "../../../discovery/registry.ts";
import {
  servedValues,
  listSome,
  queryStep,
  runProbe,
  sampleView,
  vectorSamples,
  type Analysis,
  type AnalysisContext,
} from "./shared.ts";
import type { ExplainStep, ObjectMatch, Probe } from "../types.ts";
import { findObjects } from "./custom-objects.ts";
import { findMetric, resolveResource } from "./custom-lookups.ts";

export async function analyseCustomRequest(ctx: AnalysisContext): Promise<Analysis> {
  const steps: ExplainStep[] = [];
  const done = (unreachable: string | null = null): Analysis => ({ steps, unreachable });
  const { request } = ctx;
  const namespaced = request.namespace !== undefined;

  // 1. Resource: the REST mapper turns what was written into a resource.
  const resource = resolveResource(ctx, steps);
  if (resource === null) return done();

  // 2. Metric: the registry built by discovery, keyed by resource, scope and name.
  const entry = findMetric(ctx, resource, namespaced, steps);
  if (entry === null) return done();

  // 3. Objects: LISTed (cluster), named in the path, or the result's label values (standalone).
  const objects = await findObjects(ctx, resource, namespaced, steps);
  if (objects.stop) return done(objects.unreachable);
  const names = objects.names;

  // 4. Query: what the provider sent.
  // NB: an unparsable metricLabelSelector never gets here: the request step reports the 400.
  const requirements = parseSeriesSelector(request.metricLabelSelector, "metricLabelSelector");
  const rendered = renderCustomMetricQuery(entry, { namespace: request.namespace, names, requirements });
  const sent = ctx.queries[0];
  const query = queryStep(sent, {
    template: entry.rule.metricsQuery.source,
    plannedPromql: rendered.query,
    responseBody: ctx.response.body,
  });
  steps.push(query.step);
  if (query.failed || sent === undefined) return done(query.unreachable);

  // 5. Result.
  const result = sent.result;
  const samples = vectorSamples(result);
  if (result?.resultType !== "vector") {
    steps.push({
      step: "result",
      status: "failed",
      reason: "query-failed",
      summary: `the query returned a ${result?.resultType}, not a vector`,
      hints: ["metricsQuery must produce an instant vector (no range selector at the top level)"],
      data: { resultType: result?.resultType ?? null, samples: [], probes: [] },
    });
    return done();
  }
  if (samples.length === 0) {
    steps.push(await customEmptyResultStep(ctx, entry, rendered, names, requirements.length > 0));
    return done();
  }
  steps.push({
    step: "result",
    status: "ok",
    summary: `${samples.length} sample(s)`,
    hints: [],
    data: { resultType: "vector", samples: samples.map(sampleView), probes: [] },
  });

  // 6. Matching: samples to objects by the resource label.
  steps.push(customMatchingStep(ctx, entry, rendered.resourceLabel, samples, names));
  return done();
}

/** Why a vector came back empty: a metricLabelSelector that filters everything, no series at all, or the query itself. */
async function customEmptyResultStep(
  ctx: AnalysisContext,
  entry: CustomMetricEntry,
  rendered: RenderedCustomQuery,
  names: readonly string[] | null,
  hasSeriesSelector: boolean,
): Promise<ExplainStep> {
  const probes: Probe[] = [];
  const base = { step: "result" as const, status: "failed" as const };
  if (hasSeriesSelector) {
    const unselected = renderCustomMetricQuery(entry, { namespace: ctx.request.namespace, names, requirements: [] });
    const { probe } = await runProbe(
      ctx.prometheus,
      "does the query return anything without metricLabelSelector?",
      unselected.query,
      ctx.nowMs,
    );
    probes.push(probe);
    if ((probe.samples ?? 0) > 0) {
      return {
        ...base,
        reason: "selector-filtered-everything",
        summary: `the query returned nothing; without metricLabelSelector ${ctx.request.metricLabelSelector} it returns ${probe.samples} sample(s): the selector filters every series out`,
        hints: [
          "metricLabelSelector is matched against the series' labels (not the objects'): check the label names and values on the series in Prometheus",
        ],
        data: { resultType: "vector", samples: [], probes },
      };
    }
  }
  const label = rendered.resourceLabel;
  let selector = "";
  let where = "";
  if (ctx.request.namespace !== undefined) {
    try {
      selector = labelMatcher(
        entry.rule.resources.labelForResource({ group: "", resource: "namespaces" }),
        "=",
        ctx.request.namespace,
      );
      where = ` in namespace ${ctx.request.namespace}`;
    } catch {
      // The namespace label cannot be named: the provider would have failed before querying.
    }
  }
  const presence = promql(`count by (${label}) (${entry.seriesName}{${selector}})`);
  const { probe, samples } = await runProbe(
    ctx.prometheus,
    `which ${label} values have ${entry.seriesName} samples${where} now?`,
    presence,
    ctx.nowMs,
  );
  probes.push(probe);
  const present = [
    ...new Set(samples.flatMap((sample) => (sample.metric[label] ? [sample.metric[label]] : []))),
  ].sort();
  let detail: string;
  const hints: string[] = [];
  if (probe.samples === 0) {
    detail = `no series ${entry.seriesName}${where} has a sample within the query lookback (5m by default): the targets stopped reporting, or the series were discovered from older data (--metrics-max-age ${ctx.maxAge})`;
  } else if (names !== null && !names.some((objectName) => present.includes(objectName))) {
    detail = `${entry.seriesName}${where} has series for ${label}=${listSome(present)}, but none for the requested objects (${listSome(names)})`;
    hints.push(`the \`${label}\` label must hold the object names; check that the series are about these objects`);
  } else {
    detail = `${entry.seriesName}${where} has series for these objects, but the metricsQuery returns nothing for them`;
    hints.push(
      "a rate() or increase() range must hold at least two samples: make it at least twice the scrape interval",
    );
  }
  return {
    ...base,
    reason: "query-empty",
    summary: `the query returned nothing: ${detail}`,
    hints,
    data: { resultType: "vector", samples: [], probes },
  };
}

function customMatchingStep(
  ctx: AnalysisContext,
  entry: CustomMetricEntry,
  label: string,
  samples: readonly VectorSample[],
  names: readonly string[] | null,
): ExplainStep {
  const withLabel = samples.filter((sample) => (sample.metric[label] ?? "") !== "");
  if (withLabel.length === 0) {
    const template = entry.rule.metricsQuery;
    return {
      step: "matching",
      status: "failed",
      reason: "resource-label-aggregated-away",
      summary: `the result has no \`${label}\` label: the query aggregates it away — add it to by (...)`,
      hints: [
        template.fieldsUsed.has("GroupBy") || template.fieldsUsed.has("GroupBySlice")
          ? `the labels left in the result are ${listSome(
              samples.map((sample) => JSON.stringify(sample.metric)),
              3,
            )}; every aggregation must keep \`${label}\``
          : `metricsQuery never uses <<.GroupBy>>: write e.g. \`sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)\` (it was: ${template.source})`,
      ],
      data: {
        label,
        objects: (names ?? []).map((objectName) => ({
          name: objectName,
          value: null,
          note: `no sample carries \`${label}\``,
        })),
        unmatchedSamples: samples.map(sampleView),
      },
    };
  }
  const byName = samplesByLabel(samples, label);
  const served = servedValues(ctx.response.body);
  const objectNames = names ?? [...byName.keys()].sort();
  const objects: ObjectMatch[] = objectNames.map((objectName) => {
    const sample = byName.get(objectName);
    const value = served.get(objectName) ?? null;
    if (!sample)
      return { name: objectName, value: null, note: `no sample with ${label}=${JSON.stringify(objectName)}` };
    if (value === null)
      return {
        name: objectName,
        value: null,
        note: `sample value ${sample.value} cannot be served (infinite): dropped`,
      };
    return { name: objectName, value, note: `sample ${sample.value}` };
  });
  const unmatched = withLabel.filter((sample) => !objectNames.includes(sample.metric[label] as string)).map(sampleView);
  const valued = objects.filter((object) => object.value !== null).length;
  const matched = objects.filter((object) => byName.has(object.name)).length;
  const base = { step: "matching" as const, data: { label, objects, unmatchedSamples: unmatched } };
  if (valued === objects.length)
    return {
      ...base,
      status: "ok",
      summary: `${valued} of ${objects.length} object(s) have a value (matched by label ${label})`,
      hints: [],
    };
  if (valued > 0) {
    return {
      ...base,
      status: "warning",
      summary: `${valued} of ${objects.length} object(s) have a value (matched by label ${label}); the others get none`,
      hints: ["an HPA counts pods without a value as at-target on scale-down and as 0 on scale-up"],
    };
  }
  if (matched > 0)
    return {
      ...base,
      status: "failed",
      reason: "values-dropped",
      summary: "every matched sample is infinite: no value can be served",
      hints: [],
    };
  const present = [...new Set(withLabel.map((sample) => sample.metric[label] as string))].sort();
  return {
    ...base,
    status: "failed",
    reason: "no-sample-for-objects",
    summary: `no sample matches a requested object: the samples are for ${label}=${listSome(present)}; the objects are ${listSome(objectNames)}`,
    hints: [`the \`${label}\` label must hold the names of the objects`],
  };
}
