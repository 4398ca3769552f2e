/**
 * The external.metrics.k8s.io plugin (docs/api.md: Paths, Discovery, External metrics): group discovery, the v1beta1
 * resource list and E1 `/apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}`. Every other path under the
 * group is a 404, including the cluster-scoped `/v1beta1/{metric}` (external metrics have no such route).
 */
import { Elysia } from "elysia";
import type { ExternalMetricsProvider } from "../../providers/external-metrics-provider.ts";
import type { MetricRegistry } from "../../discovery/registry.ts";
import { apiGroup, EXTERNAL_METRICS_GROUP, externalMetricsResourceList } from "../discovery.ts";
import { jsonResponse, wantsPretty } from "../json.ts";
import { pathAfter, pathSegments } from "../path-segments.ts";
import { pathNotFound } from "../status.ts";
import { externalMetricValueList } from "./value-list.ts";

/** What the external.metrics.k8s.io plugin needs. */
export interface ExternalMetricsApiDeps {
  readonly provider: ExternalMetricsProvider;
  /** The current registry, for the resource list; read per request. */
  readonly registry: () => MetricRegistry;
}

const PREFIX = `/apis/${EXTERNAL_METRICS_GROUP.name}`;
const VERSION = "v1beta1";

/** The plugin; errors are thrown as ApiErrors for the app's onError to turn into Status bodies. */
export function externalMetricsApi({ provider, registry }: ExternalMetricsApiDeps) {
  return new Elysia({ name: EXTERNAL_METRICS_GROUP.name })
    .get(PREFIX, ({ request }) =>
      jsonResponse(apiGroup(EXTERNAL_METRICS_GROUP), { pretty: wantsPretty(new URL(request.url)) }),
    )
    .get(`${PREFIX}/*`, async ({ request }) => {
      const path = pathAfter(request, PREFIX);
      if (path === null) throw pathNotFound();
      const pretty = wantsPretty(path.url);
      const segments = pathSegments(path.rest);
      if (segments[0] !== VERSION) throw pathNotFound();
      if (segments.length === 1) return jsonResponse(externalMetricsResourceList(registry()), { pretty });
      const [, scope, namespace, metric] = segments;
      if (segments.length !== 4 || scope !== "namespaces" || namespace === undefined || metric === undefined)
        throw pathNotFound();
      const values = await provider.getValues({
        namespace,
        metric,
        labelSelector: path.url.searchParams.get("labelSelector") ?? "",
      });
      return jsonResponse(externalMetricValueList(values), { pretty });
    });
}
