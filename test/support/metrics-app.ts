/**
 * Builds the external and resource metrics APIs the way the adapter wires them, against a real Prometheus, for
 * integration tests: rules text -> compileRules -> discovery (listSeriesShapes) -> registry; real Prometheus client,
 * real QueryCache, real providers, the API plugins in an Elysia app with the adapter's Status error handling.
 */
import { Elysia, type AnyElysia } from "elysia";
import { parseRulesText } from "../../src/config/load.ts";
import { apiGroupList, EXTERNAL_METRICS_GROUP, RESOURCE_METRICS_GROUP, type ServedGroup } from "../../src/api/discovery.ts";
import { externalMetricsApi } from "../../src/api/external-metrics/routes.ts";
import { jsonResponse, wantsPretty } from "../../src/api/json.ts";
import { resourceMetricsApi } from "../../src/api/resource-metrics/routes.ts";
import { pathNotFound, statusResponse } from "../../src/api/status.ts";
import { versionApi } from "../../src/api/version.ts";
import { listSeriesShapes } from "../../src/discovery/series-lister.ts";
import { compileRules, type CompiledRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";
import type { Logger } from "../../src/observability/logger.ts";
import { createPrometheusClient, type PrometheusClient } from "../../src/prometheus/client.ts";
import { createHttpTransport } from "../../src/prometheus/http-transport.ts";
import { createExternalMetricsProvider } from "../../src/providers/external-metrics-provider.ts";
import { createPrometheusObjectSource } from "../../src/providers/prometheus-object-source.ts";
import { createResourceMetricsProvider, type ResourceRules } from "../../src/providers/resource-metrics-provider.ts";
import type { ResourceObjectSource } from "../../src/providers/resource-object-source.ts";
import { buildMetricRegistry, type MetricRegistry } from "../../src/discovery/registry.ts";
import { createQueryCache } from "../../src/prometheus/query-cache.ts";

/** Compiles rules text with the built-in REST mapper. */
export function compileRulesText(text: string): CompiledRules {
  const mapper = createTableRestMapper(BUILTIN_RESOURCES);
  return compileRules(parseRulesText(text, "rules.yaml"), () => mapper);
}

export function prometheusClient(baseUrl: string): PrometheusClient {
  return createPrometheusClient(createHttpTransport({ baseUrl }));
}

/** One discovery run: the registry built from the series Prometheus has now (max age 1 h). */
export async function discoverRegistry(client: PrometheusClient, rules: CompiledRules): Promise<MetricRegistry> {
  const listing = await listSeriesShapes(client, rules.seriesQueries, Date.now() / 1000 - 3600);
  const seriesOf = (rule: CompiledRules["external"][number]) => ({ rule, series: listing.shapesByQuery.get(rule.namer.seriesQuery) ?? [] });
  return buildMetricRegistry(rules.custom.map(seriesOf), rules.external.map(seriesOf)).registry;
}

export interface MetricsAppOptions {
  readonly logger: Logger;
  /** Serves external.metrics.k8s.io with this registry and client. */
  readonly external?: { readonly registry: MetricRegistry; readonly client: PrometheusClient };
  /** Serves metrics.k8s.io; objects default to the standalone (Prometheus label) source. */
  readonly resource?: { readonly rules: ResourceRules; readonly client: PrometheusClient; readonly objects?: ResourceObjectSource };
  /** Extra routes, e.g. a core `/api/v1/nodes` for kubectl top node. */
  readonly extra?: AnyElysia;
}

/** The app: `/apis`, `/version`, the requested groups; errors as Status (like src/app/compose.ts). */
export function createMetricsApp({ logger, external, resource, extra }: MetricsAppOptions) {
  const groups: ServedGroup[] = [...(external ? [EXTERNAL_METRICS_GROUP] : []), ...(resource ? [RESOURCE_METRICS_GROUP] : [])];
  const now = () => Date.now();
  const externalPlugin = external
    ? externalMetricsApi({
        provider: createExternalMetricsProvider({ registry: () => external.registry, queries: createQueryCache({ source: external.client, now }), logger }),
        registry: () => external.registry,
      })
    : new Elysia();
  const resourcePlugin = resource
    ? resourceMetricsApi({
        provider: createResourceMetricsProvider({
          rules: () => resource.rules,
          objects: resource.objects ?? createPrometheusObjectSource({ rules: () => resource.rules, prometheus: resource.client, now, logger }),
          prometheus: resource.client,
          now,
          logger,
        }),
      })
    : new Elysia();
  return new Elysia()
    .onError(({ code, error, request }) => {
      const pretty = wantsPretty(new URL(request.url));
      if (code === "NOT_FOUND") return statusResponse(pathNotFound(), logger, pretty);
      return statusResponse(error, logger, pretty);
    })
    .get("/apis", ({ request }) => jsonResponse(apiGroupList(groups), { pretty: wantsPretty(new URL(request.url)) }))
    .use(versionApi())
    .use(externalPlugin)
    .use(resourcePlugin)
    .use(extra ?? new Elysia());
}

export type MetricsApp = ReturnType<typeof createMetricsApp>;
