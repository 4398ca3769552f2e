/**
 * external.metrics.k8s.io without HTTP (rules/README.md, External and resource rules; docs/api.md, External metrics):
 * find the registered metric, turn the `labelSelector` into matchers (plus the namespace unless the rule says
 * `namespaced: false`), run the query through the cache and turn every sample of the result into one value.
 */
import type { Logger } from "../observability/logger.ts";
import { NamingError } from "../naming/errors.ts";
import type { Requirement } from "../apimachinery/labels/selector.ts";
import { renderExternalQuery } from "../naming/query-builder.ts";
import { TemplateExecutionError } from "../golang/template/template.ts";
import type { PromQL } from "../naming/promql.ts";
import type { QueryResult, SamplePoint, SeriesLabels } from "../prometheus/types.ts";
import { parseSampleValue } from "../prometheus/sample-value.ts";
import type { ExternalMetricEntry, MetricRegistry } from "../discovery/registry.ts";
import type { QueryCache } from "../prometheus/query-cache.ts";
import { routeQuery, type BackendsInForce } from "./backend-routing.ts";
import { NotFoundError, unableToFetchMetrics, UnknownServerError } from "../apimachinery/status.ts";
import { quantityFromSample } from "../apimachinery/quantity.ts";
import { parseSeriesSelector } from "./series-selector.ts";
import { compareEntryKeys } from "../util/compare.ts";

/** One external-metrics request (E1), as the route parsed it. */
export interface ExternalMetricRequest {
  /** Namespace from the path; ignored for metrics of `namespaced: false` rules. */
  readonly namespace: string;
  readonly metric: string;
  /** Raw `labelSelector` (series selector); "" when absent. */
  readonly labelSelector: string;
}

/** One value of an ExternalMetricValueList. */
export interface ExternalMetricValue {
  readonly metric: string;
  /** All labels of the sample, keys sorted (Go prints map keys sorted); null for a scalar result. */
  readonly labels: Readonly<Record<string, string>> | null;
  /** Sample time in ms since the epoch. */
  readonly timestampMs: number;
  /** Quantity string (DecimalSI; NaN is "0"). */
  readonly value: string;
}

export interface ExternalMetricsProviderDeps {
  /** The current registry; read per request (discovery swaps it). */
  readonly registry: () => MetricRegistry;
  readonly queries: QueryCache;
  readonly logger: Logger;
  /** Told the age (s) of each answered result: answer time minus the sample time. */
  readonly observeFreshness?: (seconds: number) => void;
  /** Wall clock in ms, for the timestamp of a `defaultValue` item; default Date.now. */
  readonly now?: () => number;
  /** Named backends, for routing a metric several backends registered. Default none (the default backend only). */
  readonly backends?: BackendsInForce;
}

export interface ExternalMetricsProvider {
  /** Values in Prometheus result order; throws ApiError subclasses (400, 404, 500). `[]` is a valid answer. */
  getValues(request: ExternalMetricRequest): Promise<ExternalMetricValue[]>;
}

/** The message of the 500 for matrix and string results (upstream's text; no `reason`). */
export const UNEXPECTED_RESULT_TYPE = "encountered an unexpected query result type";

/** The external metrics provider over the current registry and the query cache. */
export function createExternalMetricsProvider({
  registry,
  queries,
  logger,
  now = Date.now,
  observeFreshness,
  backends,
}: ExternalMetricsProviderDeps): ExternalMetricsProvider {
  return {
    async getValues(request) {
      const requirements = parseSeriesSelector(request.labelSelector, "labelSelector");
      const registered = registry().externalMetric(request.metric);
      if (!registered) {
        logger.info(3, "external metric not registered", { metric: request.metric, namespace: request.namespace });
        throw new NotFoundError(
          `the server could not find the metric ${request.metric} for namespaces ${request.namespace}`,
        );
      }

      // `namespaced: false` rules ignore the URL namespace: routing does too. The query is rendered with the rule and
      // series name of the backend it goes to.
      const routingNamespace = registered.namespaced ? request.namespace : undefined;
      const { entry, extras } = routeQuery(registered, routingNamespace, backends);
      let query: PromQL;
      try {
        query = renderExternalMetricQuery(entry, { namespace: request.namespace, requirements });
      } catch (error) {
        if (error instanceof NamingError || error instanceof TemplateExecutionError) throw unableToFetchMetrics(error);
        throw error;
      }

      let result: QueryResult;
      try {
        result = await queries.get(query, extras);
      } catch (error) {
        throw unableToFetchMetrics(error);
      }

      switch (result.resultType) {
        case "vector": {
          const evaluatedAt = result.result[0]?.timestampSeconds;
          if (evaluatedAt !== undefined) observeFreshness?.(Math.max(0, now() / 1000 - evaluatedAt));
          const values: ExternalMetricValue[] = [];
          for (const sample of result.result) {
            const value = formatSample(sample, query);
            if (value === null) {
              logger.warn("dropping an infinite sample", {
                metric: request.metric,
                labels: sample.metric,
                value: sample.value,
              });
              continue;
            }
            values.push({
              metric: request.metric,
              labels: sortedLabels(sample.metric),
              timestampMs: sample.timestampSeconds * 1000,
              value,
            });
          }
          const defaultValue = entry.rule.defaultValue;
          if (values.length === 0 && defaultValue !== undefined) {
            // The rule's defaultValue answers an empty result: one item without labels, at answer time.
            return [
              {
                metric: request.metric,
                labels: {},
                timestampMs: now(),
                value: quantityFromSample(defaultValue, "DecimalSI") ?? "0",
              },
            ];
          }
          return values;
        }
        case "scalar": {
          const value = formatSample(result.result, query);
          if (value === null) {
            logger.warn("dropping an infinite scalar", { metric: request.metric, value: result.result.value });
            return [];
          }
          return [{ metric: request.metric, labels: null, timestampMs: result.result.timestampSeconds * 1000, value }];
        }
        default:
          throw new UnknownServerError(
            UNEXPECTED_RESULT_TYPE,
            new Error(`query returned a ${result.resultType}: ${query}`),
          );
      }
    },
  };
}

/**
 * The PromQL for an external metric (upstream external_provider.go): `.LabelMatchers` = the selector's requirements
 * (sorted by key), then `<namespace label>="<ns>"` unless the rule is `namespaced: false`; `.GroupBy` "" and
 * `.GroupBySlice` []. Throws SelectorMatcherError (gt/lt), NamingError or TemplateExecutionError.
 */
export function renderExternalMetricQuery(
  entry: ExternalMetricEntry,
  { namespace, requirements }: { namespace: string; requirements: readonly Requirement[] },
): PromQL {
  const namespaceMatcher = entry.namespaced
    ? { label: entry.rule.resources.labelForResource({ group: "", resource: "namespaces" }), value: namespace }
    : undefined;
  return renderExternalQuery(entry.rule.metricsQuery, {
    series: entry.seriesName,
    requirements,
    ...(namespaceMatcher ? { namespace: namespaceMatcher } : {}),
    groupBy: "",
    groupBySlice: [],
  });
}

/** The Quantity of a sample; null for ±Inf. A value Prometheus should never send is a fetch failure. */
function formatSample(sample: SamplePoint, query: PromQL): string | null {
  let value: number;
  try {
    value = parseSampleValue(sample.value);
  } catch (error) {
    throw unableToFetchMetrics(new Error(`${(error as Error).message} in the result of ${query}`));
  }
  return quantityFromSample(value, "DecimalSI");
}

function sortedLabels(labels: SeriesLabels): Record<string, string> {
  // NB: Go's encoding/json prints map keys in byte order; Object.fromEntries keeps "__proto__" an own key.
  return Object.fromEntries(Object.entries(labels).sort(compareEntryKeys));
}
