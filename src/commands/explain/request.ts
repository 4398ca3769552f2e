/**
 * Reads the API path given to `explain` with the server's own path parsers (parseCustomMetricPath, pathSegments), so
 * a path the server would refuse is refused here the same way.
 */
import { isCustomMetricsVersion } from "../../api/custom-metrics/versions.ts";
import { parseCustomMetricPath } from "../../api/custom-metrics/request-path.ts";
import { pathSegments } from "../../api/path-segments.ts";
import { ApiError } from "../../apimachinery/status.ts";
import { UsageError } from "../environment.ts";
import type { ParsedRequest, ResourceRequest } from "./types.ts";

const CUSTOM_PREFIX = "/apis/custom.metrics.k8s.io/";
const EXTERNAL_PREFIX = "/apis/external.metrics.k8s.io/";
const RESOURCE_PREFIX = "/apis/metrics.k8s.io/";

export const PATH_EXAMPLES = [
  "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app=podinfo",
  "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue=orders",
  "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
  "/apis/metrics.k8s.io/v1beta1/nodes",
];

/** What `explain` makes of its path: the URL to send to the app, and the request or the server's refusal. */
export interface ExplainTarget {
  /** Path and query, as the app receives them. */
  readonly pathAndQuery: string;
  readonly request: ParsedRequest | null;
  /** Why the server refuses the path (400 or 404), when it does. */
  readonly refusal: ApiError | null;
  /** Set (and `request` null) for a metrics.k8s.io path the server serves. */
  readonly resource?: ResourceRequest;
}

/**
 * Throws UsageError for anything that is not a metric path of custom.metrics.k8s.io or external.metrics.k8s.io, or a
 * metrics.k8s.io nodes/pods path (resource lists and discovery documents included: there is nothing to explain there).
 */
export function parseExplainPath(text: string): ExplainTarget {
  let url: URL;
  try {
    url = new URL(text, "http://prom-adapter.invalid");
  } catch {
    throw new UsageError(`not a URL path: ${text}`);
  }
  const pathAndQuery = `${url.pathname}${url.search}`;
  const query = url.searchParams;
  if (url.pathname.startsWith(CUSTOM_PREFIX)) {
    const afterGroup = url.pathname.slice(CUSTOM_PREFIX.length);
    const slash = afterGroup.indexOf("/");
    const version = slash < 0 ? afterGroup : afterGroup.slice(0, slash);
    const rest = slash < 0 ? "" : afterGroup.slice(slash + 1);
    if (rest === "") throw usage(text);
    if (!isCustomMetricsVersion(version))
      return refused(
        pathAndQuery,
        `custom.metrics.k8s.io has no version ${JSON.stringify(version)} (v1beta1, v1beta2)`,
        404,
      );
    try {
      const path = parseCustomMetricPath(rest);
      return {
        pathAndQuery,
        refusal: null,
        request: {
          api: "custom.metrics.k8s.io",
          version,
          namespace: path.namespace,
          resource: path.resource,
          name: path.name,
          metric: path.metric,
          labelSelector: query.get("labelSelector") ?? "",
          metricLabelSelector: query.get("metricLabelSelector") ?? "",
        },
      };
    } catch (error) {
      if (error instanceof ApiError) return { pathAndQuery, request: null, refusal: error };
      throw error;
    }
  }
  if (url.pathname.startsWith(EXTERNAL_PREFIX)) {
    let segments: string[];
    try {
      segments = pathSegments(url.pathname.slice(EXTERNAL_PREFIX.length));
    } catch (error) {
      if (error instanceof ApiError) return { pathAndQuery, request: null, refusal: error };
      throw error;
    }
    const [version, scope, namespace, metric] = segments;
    if (segments.length <= 1) throw usage(text);
    if (
      version !== "v1beta1" ||
      segments.length !== 4 ||
      scope !== "namespaces" ||
      namespace === undefined ||
      metric === undefined
    ) {
      return refused(
        pathAndQuery,
        "external metrics are served at /apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}",
        404,
      );
    }
    return {
      pathAndQuery,
      refusal: null,
      request: {
        api: "external.metrics.k8s.io",
        version,
        namespace,
        resource: undefined,
        name: undefined,
        metric,
        labelSelector: query.get("labelSelector") ?? "",
        metricLabelSelector: "",
      },
    };
  }
  if (url.pathname.startsWith(RESOURCE_PREFIX)) return parseResourcePath(text, url, pathAndQuery);
  throw usage(text);
}

/** R1-R5 of metrics.k8s.io, with the routes' own 404s for other paths under the group. */
function parseResourcePath(text: string, url: URL, pathAndQuery: string): ExplainTarget {
  let segments: string[];
  try {
    segments = pathSegments(url.pathname.slice(RESOURCE_PREFIX.length));
  } catch (error) {
    if (error instanceof ApiError) return { pathAndQuery, request: null, refusal: error };
    throw error;
  }
  if (segments.length <= 1) throw usage(text);
  const [version, first, second, third, fourth] = segments;
  const base = {
    api: "metrics.k8s.io" as const,
    version: "v1beta1" as const,
    labelSelector: url.searchParams.get("labelSelector") ?? "",
    fieldSelector: url.searchParams.get("fieldSelector") ?? "",
  };
  const found = (resource: ResourceRequest): ExplainTarget => ({
    pathAndQuery,
    request: null,
    refusal: null,
    resource,
  });
  if (version === "v1beta1") {
    if (segments.length === 2 && first === "nodes")
      return found({ ...base, resource: "nodes", namespace: undefined, name: undefined });
    if (segments.length === 3 && first === "nodes")
      return found({ ...base, resource: "nodes", namespace: undefined, name: second });
    if (segments.length === 2 && first === "pods")
      return found({ ...base, resource: "pods", namespace: undefined, name: undefined });
    if (first === "namespaces" && second !== undefined && third === "pods") {
      if (segments.length === 4) return found({ ...base, resource: "pods", namespace: second, name: undefined });
      if (segments.length === 5) return found({ ...base, resource: "pods", namespace: second, name: fourth });
    }
  }
  return refused(
    pathAndQuery,
    `metrics.k8s.io serves /apis/metrics.k8s.io/v1beta1/{nodes,nodes/NAME,pods,namespaces/NS/pods,namespaces/NS/pods/NAME}`,
    404,
  );
}

function usage(text: string): UsageError {
  return new UsageError(
    `explain needs the path of a custom or external metric, or of metrics.k8s.io nodes or pods, e.g.\n  ${PATH_EXAMPLES.join("\n  ")}\ngot: ${text}`,
  );
}

function refused(pathAndQuery: string, message: string, code: 400 | 404): ExplainTarget {
  return {
    pathAndQuery,
    request: null,
    refusal: new ApiError(code, code === 404 ? "NotFound" : "BadRequest", message),
  };
}
