/**
 * Builds the HTTP application (never listens; see serve.ts): health, version, discovery and the three metrics APIs,
 * with every error turned into a Kubernetes Status in one place. Each group is installed only while its rules
 * section is non-empty (rules may reload), so the getters are read per request.
 */
import { Elysia } from "elysia";
import { customMetricsApi, type CustomMetricsApiDeps } from "../api/custom-metrics/routes.ts";
import { apiGroupList, CUSTOM_METRICS_GROUP, EXTERNAL_METRICS_GROUP, RESOURCE_METRICS_GROUP, type ServedGroup } from "../api/discovery.ts";
import { externalMetricsApi, type ExternalMetricsApiDeps } from "../api/external-metrics/routes.ts";
import { healthApi, selfMetricsApi, type ReadinessCheck } from "../api/health.ts";
import { jsonResponse, wantsPretty } from "../api/json.ts";
import { openApiApi } from "../api/openapi.ts";
import { resourceMetricsApi, type ResourceMetricsApiDeps } from "../api/resource-metrics/routes.ts";
import { pathNotFound, statusResponse } from "../api/status.ts";
import { versionApi } from "../api/version.ts";
import type { Logger } from "../observability/logger.ts";
import { ApiError } from "../apimachinery/status.ts";
import { refusalOf } from "../server/request-info.ts";

export interface AppDeps {
  readonly logger: Logger;
  readonly readiness: ReadinessCheck;
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

export function createApp({ logger, readiness, selfMetrics, customMetrics, externalMetrics = () => null, resourceMetrics = () => null }: AppDeps) {
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
        return statusResponse(new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`), logger);
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
    .use(healthApi(readiness))
    .use(selfMetricsApi(selfMetrics.text, selfMetrics.contentType))
    .use(versionApi())
    .use(openApiApi(servedGroups))
    .get("/apis", ({ request }) => jsonResponse(apiGroupList(servedGroups()), { pretty: wantsPretty(new URL(request.url)) }))
    .use(custom)
    .use(external)
    .use(resource);
}

function requireGroup<T>(group: T | null): T {
  if (group === null) throw pathNotFound();
  return group;
}
