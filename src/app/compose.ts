/**
 * The one place the providers and the HTTP application are put together (it never listens; see server/serve.ts):
 * health, version, discovery and the three metrics APIs, with every error turned into a Kubernetes Status in one
 * place. The server (start.ts), `prom-adapter explain` and the integration tests all call `composeApp`, so what
 * explain and the tests exercise is what the server serves. Each group is installed only while its rules section
 * is non-empty (rules may reload), so the getters are read per request.
 */
import { Elysia } from "elysia";
import { customMetricsApi, type CustomMetricsApiDeps } from "../api/custom-metrics/routes.ts";
import {
  apiGroupList,
  CUSTOM_METRICS_GROUP,
  EXTERNAL_METRICS_GROUP,
  RESOURCE_METRICS_GROUP,
  type ServedGroup,
} from "../api/discovery.ts";
import { externalMetricsApi, type ExternalMetricsApiDeps } from "../api/external-metrics/routes.ts";
import { healthApi, selfMetricsApi, type ReadinessCheck, type ReadinessDetail } from "../api/health.ts";
import { jsonResponse, wantsPretty } from "../api/json.ts";
import { openApiApi } from "../api/openapi.ts";
import { resourceMetricsApi, type ResourceMetricsApiDeps } from "../api/resource-metrics/routes.ts";
import { pathNotFound, statusResponse } from "../api/status.ts";
import { versionApi } from "../api/version.ts";
import type { Logger } from "../observability/logger.ts";
import { ApiError } from "../apimachinery/status.ts";
import { refusalOf } from "../server/request-info.ts";
import type { RestMapper } from "../apimachinery/rest-mapper.ts";
import type { CompiledRules } from "../naming/compile-rules.ts";
import type { MetricRegistry } from "../discovery/registry.ts";
import type { QueryCache, QuerySource } from "../prometheus/query-cache.ts";
import { createCustomMetricsProvider, type ObjectLister } from "../providers/custom-metrics-provider.ts";
import { createExternalMetricsProvider } from "../providers/external-metrics-provider.ts";
import { createPrometheusObjectSource } from "../providers/prometheus-object-source.ts";
import { createResourceMetricsProvider, type ResourceRules } from "../providers/resource-metrics-provider.ts";
import type { ResourceObjectSource } from "../providers/resource-object-source.ts";
import type { BackendsInForce } from "../providers/backend-routing.ts";

export interface AppDeps {
  readonly logger: Logger;
  readonly readiness: ReadinessCheck;
  /** `/readyz?verbose` lines; default none. */
  readonly readinessDetails?: () => readonly ReadinessDetail[] | null;
  /** `/metrics` body and content type. */
  readonly selfMetrics: { readonly text: () => Promise<string>; readonly contentType: string };
  /** custom.metrics.k8s.io; null while the rules file has no `rules`. */
  readonly customMetrics: () => CustomMetricsApiDeps | null;
  /** external.metrics.k8s.io; null while the rules file has no `externalRules`. Default never installed. */
  readonly externalMetrics?: () => ExternalMetricsApiDeps | null;
  /** metrics.k8s.io; null while the rules file has no `resourceRules`. Default never installed. */
  readonly resourceMetrics?: () => ResourceMetricsApiDeps | null;
}

export type App = ReturnType<typeof createApp>;

export function createApp({
  logger,
  readiness,
  readinessDetails,
  selfMetrics,
  customMetrics,
  externalMetrics = () => null,
  resourceMetrics = () => null,
}: AppDeps) {
  const servedGroups = (): ServedGroup[] => [
    ...(customMetrics() ? [CUSTOM_METRICS_GROUP] : []),
    ...(externalMetrics() ? [EXTERNAL_METRICS_GROUP] : []),
    ...(resourceMetrics() ? [RESOURCE_METRICS_GROUP] : []),
  ];
  const custom = customMetricsApi({
    provider: { getValues: (request) => requireGroup(customMetrics()).provider.getValues(request) },
    registry: () => requireGroup(customMetrics()).registry(),
  });
  const external = externalMetricsApi({
    provider: { getValues: (request) => requireGroup(externalMetrics()).provider.getValues(request) },
    registry: () => requireGroup(externalMetrics()).registry(),
  });
  const resource = resourceMetricsApi({
    provider: {
      listPods: (namespace, selectors) => requireGroup(resourceMetrics()).provider.listPods(namespace, selectors),
      getPod: (namespace, name) => requireGroup(resourceMetrics()).provider.getPod(namespace, name),
      listNodes: (selectors) => requireGroup(resourceMetrics()).provider.listNodes(selectors),
      getNode: (name) => requireGroup(resourceMetrics()).provider.getNode(name),
    },
  });

  return new Elysia({ name: "prom-adapter" })
    .onRequest(({ request }) => {
      if (request.method !== "GET") {
        return statusResponse(
          new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`),
          logger,
        );
      }
      // The same reading of the request as authorization's: a watch or proxy request is never served as a list or get.
      const refusal = refusalOf(request.method, new URL(request.url));
      if (refusal) return statusResponse(refusal, logger);
    })
    .onError(({ code, error, request }) => {
      const pretty = wantsPretty(new URL(request.url));
      if (code === "NOT_FOUND") return statusResponse(pathNotFound(), logger, pretty);
      return statusResponse(error, logger, pretty);
    })
    .use(healthApi(readiness, readinessDetails))
    .use(selfMetricsApi(selfMetrics.text, selfMetrics.contentType))
    .use(versionApi())
    .use(openApiApi(servedGroups))
    .get("/apis", ({ request }) =>
      jsonResponse(apiGroupList(servedGroups()), { pretty: wantsPretty(new URL(request.url)) }),
    )
    .use(custom)
    .use(external)
    .use(resource);
}

function requireGroup<T>(group: T | null): T {
  if (group === null) throw pathNotFound();
  return group;
}

/** Which API groups the current rules serve; read per request, since rules may reload. */
export interface ServedRules {
  /** custom.metrics.k8s.io is installed while the rules file has `rules`. */
  readonly custom: () => boolean;
  /** external.metrics.k8s.io is installed while the rules file has `externalRules`. */
  readonly external: () => boolean;
  /** metrics.k8s.io's rules; null while the rules file has no `resourceRules` (the group is not installed). */
  readonly resource: () => ResourceRules | null;
}

/** Everything the three providers read from. */
export interface ProviderSources {
  readonly served: ServedRules;
  /** The current discovery result. */
  readonly registry: () => MetricRegistry;
  readonly mapper: () => RestMapper;
  /** Custom and external queries (the server's coalescing cache; explain passes a recording, zero-TTL one). */
  readonly queries: QueryCache;
  /** Resource-metrics queries, sent uncached: one request's CPU and memory queries must share one `time`. */
  readonly prometheus: QuerySource;
  /** The standalone pod and node source's queries; default `prometheus`. */
  readonly objectQueries?: QuerySource;
  /** Kubernetes object LISTs (cluster mode); absent in standalone mode, where objects come from Prometheus labels. */
  readonly objects?: ObjectLister | undefined;
  /** Pods and nodes for metrics.k8s.io (cluster mode); default: the Prometheus-label source. */
  readonly resourceObjects?: ResourceObjectSource | undefined;
  /** Wraps whichever pod and node source is used (explain records its calls). Default: none. */
  readonly wrapResourceObjects?: (source: ResourceObjectSource) => ResourceObjectSource;
  /** Wall clock, ms. */
  readonly now: () => number;
  /** Receives the providers' and the app's log lines. */
  readonly logger: Logger;
  /** The `backends:` in force, for routing custom and external queries (extras.backend). Default none. */
  readonly backends?: BackendsInForce;
  /** Told the age (s) of each answered result, by API group. Default: not observed. */
  readonly observeFreshness?: (group: "custom.metrics.k8s.io" | "external.metrics.k8s.io", seconds: number) => void;
}

/** The app's own endpoints besides the metrics APIs. */
export interface AppEndpoints {
  readonly readiness: ReadinessCheck;
  /** `/readyz?verbose` lines (one per Prometheus backend when `backends:` declares any); default none. */
  readonly readinessDetails?: () => readonly ReadinessDetail[] | null;
  /** `/metrics` body and content type. */
  readonly selfMetrics: AppDeps["selfMetrics"];
}

/** What an app that is not a server answers on `/readyz` and `/metrics` (explain, tests): ready, no metrics. */
export const OFFLINE_ENDPOINTS: AppEndpoints = {
  readiness: () => null,
  selfMetrics: { text: async () => "", contentType: "text/plain" },
};

/** The providers over `sources`, and the app serving them. */
export function composeApp(sources: ProviderSources, { readiness, readinessDetails, selfMetrics }: AppEndpoints): App {
  const { served, registry, mapper, queries, prometheus, now, logger, observeFreshness } = sources;
  const custom = createCustomMetricsProvider({
    registry,
    mapper,
    queries,
    objects: sources.objects,
    now,
    logger,
    ...(sources.backends ? { backends: sources.backends } : {}),
    observeFreshness: observeFreshness && ((seconds) => observeFreshness("custom.metrics.k8s.io", seconds)),
  });
  const external = createExternalMetricsProvider({
    registry,
    queries,
    now,
    logger,
    ...(sources.backends ? { backends: sources.backends } : {}),
    observeFreshness: observeFreshness && ((seconds) => observeFreshness("external.metrics.k8s.io", seconds)),
  });
  const resourceRules = (): ResourceRules => {
    const rules = served.resource();
    if (rules === null) throw pathNotFound();
    return rules;
  };
  const objectSource =
    sources.resourceObjects ??
    createPrometheusObjectSource({
      rules: resourceRules,
      prometheus: sources.objectQueries ?? prometheus,
      now,
      logger,
    });
  const objects = sources.wrapResourceObjects?.(objectSource) ?? objectSource;
  const resource = createResourceMetricsProvider({ rules: resourceRules, objects, prometheus, now, logger });
  return createApp({
    logger,
    readiness,
    ...(readinessDetails ? { readinessDetails } : {}),
    selfMetrics,
    customMetrics: () => (served.custom() ? { provider: custom, registry } : null),
    externalMetrics: () => (served.external() ? { provider: external, registry } : null),
    resourceMetrics: () => (served.resource() === null ? null : { provider: resource }),
  });
}

/** The groups compiled rules serve. */
export function servedBy(rules: () => Pick<CompiledRules, "custom" | "external" | "resource">): ServedRules {
  return {
    custom: () => rules().custom.length > 0,
    external: () => rules().external.length > 0,
    resource: () => rules().resource,
  };
}
