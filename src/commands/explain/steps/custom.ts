/**
 * The custom.metrics.k8s.io half of `explain`: after the real provider answered, walks its steps (resource, metric,
 * objects, query, result, matching) with what it recorded, and says which step lost the data and why.
 */
import { parseSeriesSelector } from "../../../providers/series-selector.ts";
import { labelMatcher } from "../../../naming/promql.ts";
import {
  formatGroupResource,
  parseGroupResource,
  UnknownResourceError,
  type ResourceInfo,
} from "../../../apimachinery/rest-mapper.ts";
import { promql } from "../../../naming/promql.ts";
import { type VectorSample } from "../../../prometheus/types.ts";
import {
  renderCustomMetricQuery,
  samplesByLabel,
  type RenderedCustomQuery,
} from "../../../providers/custom-metrics-provider.ts";
import { ApiError } from "../../../apimachinery/status.ts";
import type { CustomMetricEntry } from "../../../discovery/registry.ts";
import {
  backendsOf,
  errorText,
  fromBackends,
  kubernetesUnreachable,
  servedValues,
  listSome,
  queryStep,
  runProbe,
  sampleView,
  vectorSamples,
  type Analysis,
  type AnalysisContext,
} from "./shared.ts";
import { metricSuggestions } from "../suggestions.ts";
import type { ExplainStep, ObjectMatch, Probe } from "../types.ts";
import { closestNames } from "../../suggestions.ts";
import { KubernetesHttpError } from "../../../kubernetes/errors.ts";

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

/** The resource step; null when the REST mapper does not know what was written. */
function resolveResource(ctx: AnalysisContext, steps: ExplainStep[]): ResourceInfo | null {
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
function findMetric(
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

/** Where the objects came from: `names` null = the result's label values (standalone `*`). */
type ObjectsOutcome =
  | { readonly stop: false; readonly names: readonly string[] | null }
  | { readonly stop: true; readonly unreachable: string | null };

/** The objects step: named in the path, LISTed from Kubernetes, or left to the result's labels (standalone). */
async function findObjects(
  ctx: AnalysisContext,
  resource: ResourceInfo,
  namespaced: boolean,
  steps: ExplainStep[],
): Promise<ObjectsOutcome> {
  const { request } = ctx;
  const name = request.name as string;
  if (name !== "*") {
    const names = [name];
    steps.push({
      step: "objects",
      status: "ok",
      summary: `${name}, named in the path`,
      hints: [],
      data: { source: "path", names, labelSelector: "", error: null },
    });
    return { stop: false, names };
  }
  if (ctx.access.objects === undefined) {
    if (request.labelSelector !== "") {
      steps.push({
        step: "objects",
        status: "failed",
        reason: "bad-request",
        summary: "labelSelector needs the Kubernetes API to list objects; standalone mode answers 400",
        hints: ["run explain (and the server) with --kubeconfig instead of --standalone, or leave labelSelector out"],
        data: {
          source: "prometheus",
          names: null,
          labelSelector: request.labelSelector,
          error: "labelSelector is not supported in standalone mode",
        },
      });
      return { stop: true, unreachable: null };
    }
    steps.push({
      step: "objects",
      status: "ok",
      summary: "standalone mode: the objects are the values of the resource label in the query result",
      hints: [],
      data: { source: "prometheus", names: null, labelSelector: "", error: null },
    });
    return { stop: false, names: null };
  }
  const list = ctx.lists[0];
  const where = namespaced && resource.namespaced ? `in namespace ${request.namespace}` : "cluster-wide";
  const selectorText = request.labelSelector === "" ? "" : ` matching labelSelector ${request.labelSelector}`;
  if (list === undefined) return { stop: true, unreachable: null };
  if (list.error !== undefined) {
    const cause = (list.error as { cause?: unknown }).cause;
    const forbidden = cause instanceof KubernetesHttpError && cause.status === 403;
    steps.push({
      step: "objects",
      status: "failed",
      reason: list.error instanceof ApiError && list.error.code === 400 ? "bad-request" : "objects-list-failed",
      summary: `listing ${formatGroupResource(resource)} ${where} failed: ${errorText(list.error)}`,
      hints: forbidden
        ? [
            `the identity may not list ${formatGroupResource(resource)}: check with \`kubectl auth can-i list ${formatGroupResource(resource)} --as=system:serviceaccount:<namespace>:<service account>\`; the adapter's ServiceAccount needs get/list on it (ClusterRole prom-adapter-resource-reader)`,
          ]
        : [],
      data: { source: "kubernetes", names: null, labelSelector: request.labelSelector, error: errorText(list.error) },
    });
    return { stop: true, unreachable: kubernetesUnreachable(list) };
  }
  const names = list.names ?? [];
  if (names.length === 0) {
    let total: number | null = null;
    if (request.labelSelector !== "")
      total = (await ctx.access.objects.listNames(resource, request.namespace, "").catch(() => null))?.length ?? null;
    const filtered = total !== null && total > 0;
    steps.push({
      step: "objects",
      status: "failed",
      reason: filtered ? "selector-filtered-everything" : "no-objects",
      summary: filtered
        ? `no ${formatGroupResource(resource)} ${where}${selectorText}, though ${total} exist without it: the selector filters everything out`
        : `no ${formatGroupResource(resource)} ${where}${selectorText}`,
      hints: filtered
        ? ["an HPA sends its scale target's pod selector: check that the workload's selector matches the pods' labels"]
        : [],
      data: { source: "kubernetes", names, labelSelector: request.labelSelector, error: null },
    });
    return { stop: true, unreachable: null };
  }
  steps.push({
    step: "objects",
    status: "ok",
    summary: `${names.length} listed ${where}${selectorText}: ${listSome(names)}`,
    hints: [],
    data: { source: "kubernetes", names, labelSelector: request.labelSelector, error: null },
  });
  return { stop: false, names };
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
