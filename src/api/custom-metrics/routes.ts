/**
 * The custom.metrics.k8s.io plugin: group discovery, the per-version resource lists and the three value routes
 * (docs/api.md: Paths, Discovery, Custom metrics), for v1beta1 and v1beta2 alike.
 */
import { Elysia } from "elysia";
import type { CustomMetricsProvider } from "../../providers/custom-metrics-provider.ts";
import { BadRequestError } from "../../apimachinery/status.ts";
import type { MetricRegistry } from "../../discovery/registry.ts";
import { apiGroup, CUSTOM_METRICS_GROUP, customMetricsResourceList } from "../discovery.ts";
import { jsonResponse, wantsPretty } from "../json.ts";
import { pathNotFound } from "../status.ts";
import { parseCustomMetricPath } from "./request-path.ts";
import { isCustomMetricsVersion, metricValueList } from "./versions.ts";

export interface CustomMetricsApiDeps {
  readonly provider: CustomMetricsProvider;
  readonly registry: () => MetricRegistry;
}

const PREFIX = `/apis/${CUSTOM_METRICS_GROUP.name}`;

export function customMetricsApi({ provider, registry }: CustomMetricsApiDeps) {
  return new Elysia({ name: "custom.metrics.k8s.io" })
    .get(PREFIX, ({ request }) =>
      jsonResponse(apiGroup(CUSTOM_METRICS_GROUP), { pretty: wantsPretty(new URL(request.url)) }),
    )
    .get(`${PREFIX}/*`, async ({ request }) => {
      const url = new URL(request.url);
      const pretty = wantsPretty(url);
      const afterGroup = url.pathname.slice(PREFIX.length + 1);
      const slash = afterGroup.indexOf("/");
      const version = slash < 0 ? afterGroup : afterGroup.slice(0, slash);
      const rest = slash < 0 ? "" : afterGroup.slice(slash + 1);
      if (!isCustomMetricsVersion(version)) throw pathNotFound();
      if (rest === "") return jsonResponse(customMetricsResourceList(version, registry()), { pretty });

      const path = parseCustomMetricPath(rest);
      const query = url.searchParams;
      const fieldSelector = query.get("fieldSelector") ?? "";
      if (fieldSelector !== "" && fieldSelector !== `metadata.name=${path.name}`) {
        throw new BadRequestError("fieldSelector metadata.name doesn't match requested name");
      }
      const values = await provider.getValues({
        writtenResource: path.resource,
        namespace: path.namespace,
        name: path.name,
        metric: path.metric,
        labelSelector: query.get("labelSelector") ?? "",
        metricLabelSelector: query.get("metricLabelSelector") ?? "",
      });
      return jsonResponse(metricValueList(version, values), { pretty });
    });
}
