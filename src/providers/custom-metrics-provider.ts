/**
 * custom.metrics.k8s.io without HTTP (rules/README.md, Querying; docs/api.md, Custom metrics): resolve the resource,
 * find the registered metric, find the objects, render and run the query, match samples to objects, format values.
 */
import type { Logger } from "../observability/logger.ts";
import { NamingError } from "../naming/errors.ts";
import { SelectorMatcherError, toLabelSelector, type LabelSelector } from "../apimachinery/labels/conversions.ts";
import type { Requirement } from "../apimachinery/labels/selector.ts";
import { renderObjectQuery } from "../naming/query-builder.ts";
import { TemplateExecutionError } from "../golang/template/template.ts";
import {
  formatGroupResource,
  parseGroupResource,
  UnknownResourceError,
  type ResourceInfo,
  type RestMapper,
} from "../apimachinery/rest-mapper.ts";
import type { PromQL } from "../naming/promql.ts";
import type { QueryResult, VectorSample } from "../prometheus/types.ts";
import { parseSampleValue } from "../prometheus/sample-value.ts";
import type { CustomMetricEntry, MetricRegistry } from "../discovery/registry.ts";
import type { QueryCache } from "../prometheus/query-cache.ts";
import { BadRequestError, NotFoundError, unableToFetchMetrics } from "../apimachinery/status.ts";
import { quantityFromSample } from "../apimachinery/quantity.ts";
import { parseSeriesSelector } from "./series-selector.ts";
import { routeQuery, type BackendsInForce } from "./backend-routing.ts";

/** One custom-metrics request, as the route parsed it. */
export interface CustomMetricRequest {
  /** The resource exactly as written in the path (`pods`, `pod`, `deployments.apps`); used in 404 messages. */
  readonly writtenResource: string;
  /** Namespace from the path; undefined for cluster-scoped requests and for C3 (`namespaces/{ns}/metrics/{m}`). */
  readonly namespace: string | undefined;
  /** Object name or `*`. */
  readonly name: string;
  readonly metric: string;
  /** Raw `labelSelector` (objects); "" when absent. */
  readonly labelSelector: string;
  /** Raw `metricLabelSelector` (series); "" when absent. */
  readonly metricLabelSelector: string;
}

/** An object the answer describes (`describedObject`), keys in wire order. */
export interface DescribedObject {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly apiVersion: string;
}

export interface CustomMetricValue {
  readonly describedObject: DescribedObject;
  readonly metric: string;
  /** Answer time in ms (upstream: the time the adapter built the answer). */
  readonly timestampMs: number;
  /** Quantity string. */
  readonly value: string;
  /** The metricLabelSelector echoed back; null when empty. */
  readonly selector: LabelSelector | null;
}

/** Lists the names of objects of a resource matching a label selector (Kubernetes mode). */
export interface ObjectLister {
  /** Names in LIST order. `namespace` undefined = cluster-wide. Rejects when the LIST fails. */
  listNames(resource: ResourceInfo, namespace: string | undefined, labelSelector: string): Promise<readonly string[]>;
}

export interface CustomMetricsProviderDeps {
  readonly registry: () => MetricRegistry;
  readonly mapper: () => RestMapper;
  readonly queries: QueryCache;
  /** Kubernetes object lookup; absent in standalone mode, where objects come from Prometheus labels. */
  readonly objects?: ObjectLister;
  readonly now: () => number;
  readonly logger: Logger;
  /** Told the age (s) of each answered result: answer time minus the query's evaluation time (cache age). */
  readonly observeFreshness?: (seconds: number) => void;
  /** Named backends, for routing a metric several backends registered. Default none (the default backend only). */
  readonly backends?: BackendsInForce;
}

export interface CustomMetricsProvider {
  /** Values for the request; throws ApiError subclasses (400, 404, 500). */
  getValues(request: CustomMetricRequest): Promise<CustomMetricValue[]>;
}

export function createCustomMetricsProvider({
  registry,
  mapper,
  queries,
  objects,
  now,
  logger,
  observeFreshness,
  backends,
}: CustomMetricsProviderDeps): CustomMetricsProvider {
  return {
    async getValues(request) {
      const requirements = parseSeriesSelector(request.metricLabelSelector, "metricLabelSelector");
      const selector = echoSelector(requirements);
      const written = parseGroupResource(request.writtenResource);
      const notFound = () =>
        new NotFoundError(`the server could not find the metric ${request.metric} for ${request.writtenResource}`);

      let resource: ResourceInfo;
      try {
        resource = mapper().resolve(written);
      } catch (error) {
        if (error instanceof UnknownResourceError) throw notFound();
        throw error;
      }
      const namespaced = request.namespace !== undefined;
      const registered = registry().customMetric(resource, namespaced, request.metric);
      if (!registered) {
        logger.info(3, "metric not registered for this resource and scope", {
          metric: request.metric,
          resource: formatGroupResource(resource),
          namespaced,
        });
        throw notFound();
      }

      const wildcard = request.name === "*";
      // A request about namespaces themselves (`namespaces/<ns>/metrics/<m>`) routes by that namespace.
      const routingNamespace =
        request.namespace ?? (resource.resource === "namespaces" && !wildcard ? request.name : undefined);
      // The query is rendered with the rule and series name of the backend it goes to.
      const { entry, extras } = routeQuery(registered, routingNamespace, backends);
      let names: readonly string[] | null = wildcard ? null : [request.name];
      if (wildcard && objects) {
        names = await objects.listNames(resource, request.namespace, request.labelSelector);
        if (names.length === 0) throw notFound();
      } else if (wildcard && request.labelSelector !== "") {
        throw new BadRequestError("labelSelector is not supported in standalone mode");
      }

      let rendered: RenderedCustomQuery;
      try {
        rendered = renderCustomMetricQuery(entry, { namespace: request.namespace, names, requirements });
      } catch (error) {
        if (error instanceof NamingError || error instanceof TemplateExecutionError) throw unableToFetchMetrics(error);
        throw error;
      }
      const { query, resourceLabel } = rendered;

      let result: QueryResult;
      try {
        result = await queries.get(query, extras);
      } catch (error) {
        throw unableToFetchMetrics(error);
      }
      if (result.resultType !== "vector") {
        throw unableToFetchMetrics(new Error(`query returned a ${result.resultType}, expected a vector: ${query}`));
      }

      const valueByName = samplesByLabel(result.result, resourceLabel);
      const evaluatedAt = result.result[0]?.timestampSeconds;
      if (evaluatedAt !== undefined) observeFreshness?.(Math.max(0, now() / 1000 - evaluatedAt));
      const orderedNames = names ?? [...valueByName.keys()].sort();
      const timestampMs = now();
      const values: CustomMetricValue[] = [];
      const defaultValue = entry.rule.defaultValue;
      for (const name of orderedNames) {
        const sample = valueByName.get(name);
        // The rule's defaultValue stands in for objects the query has no sample for (known objects only: a name in
        // the path, or a listed object; standalone `*` only knows objects that have samples).
        if (!sample && defaultValue === undefined) continue;
        const value = quantityFromSample(
          sample ? parseSampleValue(sample.value) : (defaultValue as number),
          "DecimalSI",
        );
        if (value === null) {
          logger.warn("dropping an infinite sample", { metric: request.metric, object: name, value: sample?.value });
          continue;
        }
        values.push({
          describedObject: describe(resource, request.namespace, name),
          metric: request.metric,
          timestampMs,
          value,
          selector,
        });
      }
      if (!wildcard && values.length === 0) {
        logger.info(3, "no sample for the named object", {
          metric: request.metric,
          object: request.name,
          query,
          samples: result.result.length,
          resourceLabel,
        });
        throw new NotFoundError(
          `the server could not find the metric ${request.metric} for ${request.writtenResource} ${request.name}`,
        );
      }
      if (wildcard && values.length === 0) {
        logger.info(3, "no samples matched any object", {
          metric: request.metric,
          query,
          samples: result.result.length,
          resourceLabel,
        });
      }
      return values;
    },
  };
}

export interface RenderedCustomQuery {
  readonly query: PromQL;
  /** The label whose values name the described objects. */
  readonly resourceLabel: string;
}

/**
 * The PromQL for a registered metric (upstream provider.go): `.Series` is the stored series name, the namespace
 * and resource labels come from the rule. `names` null means "any object" (standalone `*`). Throws NamingError or
 * TemplateExecutionError.
 */
export function renderCustomMetricQuery(
  entry: CustomMetricEntry,
  {
    namespace,
    names,
    requirements,
  }: { namespace: string | undefined; names: readonly string[] | null; requirements: readonly Requirement[] },
): RenderedCustomQuery {
  const converter = entry.rule.resources;
  const resourceLabel = converter.labelForResource(entry.resource);
  const query = renderObjectQuery(entry.rule.metricsQuery, {
    series: entry.seriesName,
    requirements,
    namespace:
      namespace === undefined
        ? undefined
        : { label: converter.labelForResource({ group: "", resource: "namespaces" }), value: namespace },
    resourceLabel,
    names: names ?? [],
    anyName: names === null,
  });
  return { query, resourceLabel };
}

function echoSelector(requirements: readonly Requirement[]): LabelSelector | null {
  try {
    return toLabelSelector(requirements);
  } catch (error) {
    if (error instanceof SelectorMatcherError) throw new BadRequestError(error.message);
    throw error;
  }
}

/** Sample per value of `label`; the last sample wins for duplicates. Samples without the label are ignored. */
export function samplesByLabel(samples: readonly VectorSample[], label: string): Map<string, VectorSample> {
  const byName = new Map<string, VectorSample>();
  for (const sample of samples) {
    const name = sample.metric[label];
    if (name !== undefined && name !== "") byName.set(name, sample);
  }
  return byName;
}

function describe(resource: ResourceInfo, namespace: string | undefined, name: string): DescribedObject {
  const apiVersion = `${resource.group}/${resource.version}`;
  return namespace === undefined || !resource.namespaced
    ? { kind: resource.kind, name, apiVersion }
    : { kind: resource.kind, namespace, name, apiVersion };
}
