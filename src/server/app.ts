/**
 * Builds the HTTP application (never listens; see serve.ts): health, discovery and the metrics APIs, with every
 * error turned into a Kubernetes Status in one place.
 */
import { Elysia } from "elysia";
import { customMetricsApi, type CustomMetricsApiDeps } from "../api/custom-metrics/routes.ts";
import { apiGroupList, CUSTOM_METRICS_GROUP, type ServedGroup } from "../api/discovery.ts";
import { healthApi, selfMetricsApi, type ReadinessCheck } from "../api/health.ts";
import { jsonResponse, wantsPretty } from "../api/json.ts";
import { pathNotFound, statusResponse } from "../api/status.ts";
import type { Logger } from "../observability/logger.ts";
import { ApiError } from "../providers/errors.ts";

export interface AppDeps {
  readonly logger: Logger;
  readonly readiness: ReadinessCheck;
  /** `/metrics` body and content type. */
  readonly selfMetrics: { readonly text: () => Promise<string>; readonly contentType: string };
  /** custom.metrics.k8s.io; absent when the rules file has no `rules`. Read per request (rules may reload). */
  readonly customMetrics: () => CustomMetricsApiDeps | null;
}

export type App = ReturnType<typeof createApp>;

export function createApp({ logger, readiness, selfMetrics, customMetrics }: AppDeps) {
  const servedGroups = (): ServedGroup[] => (customMetrics() ? [CUSTOM_METRICS_GROUP] : []);
  const custom = customMetricsApi({
    provider: { getValues: (request) => requireGroup(customMetrics()).provider.getValues(request) },
    registry: () => requireGroup(customMetrics()).registry(),
  });

  return new Elysia({ name: "prom-adapter" })
    .onRequest(({ request }) => {
      if (request.method !== "GET") {
        return statusResponse(new ApiError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`), logger);
      }
      const url = new URL(request.url);
      if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") {
        return statusResponse(new ApiError(405, "MethodNotAllowed", "watch is not supported"), logger);
      }
    })
    .onError(({ code, error, request }) => {
      const pretty = wantsPretty(new URL(request.url));
      if (code === "NOT_FOUND") return statusResponse(pathNotFound(), logger, pretty);
      return statusResponse(error, logger, pretty);
    })
    .use(healthApi(readiness))
    .use(selfMetricsApi(selfMetrics.text, selfMetrics.contentType))
    .get("/apis", ({ request }) => jsonResponse(apiGroupList(servedGroups()), { pretty: wantsPretty(new URL(request.url)) }))
    .use(custom);
}

function requireGroup<T>(group: T | null): T {
  if (group === null) throw pathNotFound();
  return group;
}
