/**
 * The one entry point the listener calls for every request: bounds concurrency (429 with Retry-After beyond
 * `maxInFlight`), runs the security check when there is one (cluster mode), hands the request to the app, and
 * records self-metrics and the `--v=2` request log line (user, method, path, code, duration; never credentials).
 */
import { statusResponse } from "../api/status.ts";
import type { Logger } from "../observability/logger.ts";
import type { SelfMetrics } from "../observability/self-metrics.ts";
import { ApiError } from "../apimachinery/status.ts";
import { requestAttributesOf, type RequestAttributes } from "./request-info.ts";
import { userOf, type SecurityCheck } from "./security.ts";

export interface RequestHandlerDeps {
  readonly handle: (request: Request) => Promise<Response>;
  /** Authentication and authorization; absent in standalone mode. */
  readonly security?: SecurityCheck;
  readonly metrics: SelfMetrics;
  readonly logger: Logger;
  /** Requests served at once before new ones get 429. Default 512. */
  readonly maxInFlight?: number;
}

export function createRequestHandler({
  handle,
  security,
  metrics,
  logger,
  maxInFlight = 512,
}: RequestHandlerDeps): (request: Request) => Promise<Response> {
  let inFlight = 0;
  return async function handleRequest(request) {
    const started = performance.now();
    const url = new URL(request.url);
    let response: Response;
    if (inFlight >= maxInFlight) {
      response = statusResponse(
        new ApiError(429, "TooManyRequests", "too many requests, please try again later", { causes: [] }),
        logger,
      );
    } else {
      inFlight++;
      try {
        await security?.(request);
        response = await handle(request);
      } catch (error) {
        response = statusResponse(error, logger);
      } finally {
        inFlight--;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const { api, version, route } = routeLabels(request.method, url);
    metrics.requests.inc({ api, version, route, code: String(response.status) });
    metrics.requestDuration.observe({ api, route }, seconds);
    if (logger.enabled(2)) {
      logger.info(2, "request", {
        user: userOf(request)?.username,
        method: request.method,
        path: url.pathname + url.search,
        code: response.status,
        ms: Math.round(seconds * 10_000) / 10,
      });
    }
    return response;
  };
}

/** Bounded labels for request metrics: the API group, its version, and the route shape (never a metric or object name). */
export function routeLabels(method: string, url: URL): { api: string; version: string; route: string } {
  let attributes: RequestAttributes;
  try {
    attributes = requestAttributesOf(method, url);
  } catch {
    return { api: "", version: "", route: "invalid" };
  }
  if (attributes.kind === "nonResource") {
    const path = attributes.path;
    const route =
      path === "/healthz" || path === "/livez" || path === "/readyz"
        ? "health"
        : path === "/metrics"
          ? "metrics"
          : path === "/version"
            ? "version"
            : path.startsWith("/openapi")
              ? "openapi"
              : path === "/apis" || path.startsWith("/apis/")
                ? "discovery"
                : "other";
    const [, , group = "", version = ""] = path.split("/");
    return { api: route === "discovery" ? group : "", version: route === "discovery" ? version : "", route };
  }
  const { group, version, resource, namespace, name } = attributes;
  let route: string;
  if (group === "custom.metrics.k8s.io")
    route =
      resource === "metrics" && namespace !== ""
        ? "namespace-metric"
        : namespace !== ""
          ? "namespaced-object"
          : "cluster-object";
  else if (group === "external.metrics.k8s.io") route = "external";
  else if (group === "metrics.k8s.io")
    route = `${resource === "nodes" ? "nodes" : "pods"}-${name === "" ? "list" : "get"}`;
  else route = "other";
  return { api: group, version, route };
}
