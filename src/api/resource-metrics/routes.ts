/**
 * The metrics.k8s.io plugin (docs/api.md: Paths, Discovery, Resource metrics): group discovery, the v1beta1 resource
 * list (exactly `nodes` and `pods`) and R1-R5:
 *   R1 `v1beta1/nodes`   R2 `v1beta1/nodes/{name}`   R3 `v1beta1/pods`
 *   R4 `v1beta1/namespaces/{ns}/pods`   R5 `v1beta1/namespaces/{ns}/pods/{name}`
 * Lists read `labelSelector` and `fieldSelector`. Every other path under the group is a 404.
 */
import { Elysia } from "elysia";
import type { ListSelectors, ResourceMetricsProvider } from "../../providers/resource-metrics-provider.ts";
import { apiGroup, RESOURCE_METRICS_GROUP, resourceMetricsResourceList } from "../discovery.ts";
import { jsonResponse, wantsPretty } from "../json.ts";
import { pathAfter, pathSegments } from "../path-segments.ts";
import { pathNotFound } from "../status.ts";
import { nodeMetrics, nodeMetricsList, podMetrics, podMetricsList } from "./documents.ts";

/** What the metrics.k8s.io plugin needs. */
export interface ResourceMetricsApiDeps {
  readonly provider: ResourceMetricsProvider;
}

const PREFIX = `/apis/${RESOURCE_METRICS_GROUP.name}`;
const VERSION = "v1beta1";

/** The plugin; errors are thrown as ApiErrors for the app's onError to turn into Status bodies. */
export function resourceMetricsApi({ provider }: ResourceMetricsApiDeps) {
  return new Elysia({ name: RESOURCE_METRICS_GROUP.name })
    .get(PREFIX, ({ request }) =>
      jsonResponse(apiGroup(RESOURCE_METRICS_GROUP), { pretty: wantsPretty(new URL(request.url)) }),
    )
    .get(`${PREFIX}/*`, async ({ request }) => {
      const path = pathAfter(request, PREFIX);
      if (path === null) throw pathNotFound();
      const pretty = wantsPretty(path.url);
      const [version, ...rest] = pathSegments(path.rest);
      if (version !== VERSION) throw pathNotFound();
      const selectors: ListSelectors = {
        labelSelector: path.url.searchParams.get("labelSelector") ?? "",
        fieldSelector: path.url.searchParams.get("fieldSelector") ?? "",
      };
      const [first, second, third, fourth] = rest;
      switch (rest.length) {
        case 0:
          return jsonResponse(resourceMetricsResourceList(), { pretty });
        case 1:
          if (first === "nodes") return jsonResponse(nodeMetricsList(await provider.listNodes(selectors)), { pretty });
          if (first === "pods")
            return jsonResponse(podMetricsList(await provider.listPods(undefined, selectors)), { pretty });
          break;
        case 2:
          if (first === "nodes" && second !== undefined)
            return jsonResponse(nodeMetrics(await provider.getNode(second)), { pretty });
          break;
        case 3:
          if (first === "namespaces" && second !== undefined && third === "pods") {
            return jsonResponse(podMetricsList(await provider.listPods(second, selectors)), { pretty });
          }
          break;
        case 4:
          if (first === "namespaces" && second !== undefined && third === "pods" && fourth !== undefined) {
            return jsonResponse(podMetrics(await provider.getPod(second, fourth)), { pretty });
          }
          break;
      }
      throw pathNotFound();
    });
}
