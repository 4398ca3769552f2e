/**
 * The external and resource metrics APIs exactly as the adapter composes them, against a real Prometheus, for
 * integration tests: rules text -> compileRules -> discovery (listSeriesShapes) -> registry; real Prometheus client,
 * real QueryCache, real providers and app (src/app/compose.ts).
 */
import type { AnyElysia } from "elysia";
import { composeApp, OFFLINE_ENDPOINTS } from "../../src/app/compose.ts";
import { parseRulesText } from "../../src/config/load.ts";
import { listSeriesShapes } from "../../src/discovery/series-lister.ts";
import { compileRules, type CompiledRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";
import type { Logger } from "../../src/observability/logger.ts";
import { createPrometheusClient, type PrometheusClient } from "../../src/prometheus/client.ts";
import { createHttpTransport } from "../../src/prometheus/http-transport.ts";
import type { ResourceRules } from "../../src/providers/resource-metrics-provider.ts";
import type { ResourceObjectSource } from "../../src/providers/resource-object-source.ts";
import { buildMetricRegistry, EMPTY_REGISTRY, type MetricRegistry } from "../../src/discovery/registry.ts";
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
  const seriesOf = (rule: CompiledRules["external"][number]) => ({
    rule,
    series: listing.shapesByQuery.get(rule.namer.seriesQuery) ?? [],
  });
  return buildMetricRegistry(rules.custom.map(seriesOf), rules.external.map(seriesOf)).registry;
}

export interface MetricsAppOptions {
  readonly logger: Logger;
  /** Serves external.metrics.k8s.io with this registry and client. */
  readonly external?: { readonly registry: MetricRegistry; readonly client: PrometheusClient };
  /** Serves metrics.k8s.io; objects default to the standalone (Prometheus label) source. */
  readonly resource?: {
    readonly rules: ResourceRules;
    readonly client: PrometheusClient;
    readonly objects?: ResourceObjectSource;
  };
  /** Extra routes, e.g. a core `/api/v1/nodes` for kubectl top node. */
  readonly extra?: AnyElysia;
}

/** The adapter's own composition (src/app/compose.ts) over the given registry, rules and clients. */
export function createMetricsApp({ logger, external, resource, extra }: MetricsAppOptions) {
  const client = external?.client ?? resource?.client;
  if (client === undefined) throw new Error("createMetricsApp needs external or resource");
  const mapper = createTableRestMapper(BUILTIN_RESOURCES);
  const now = () => Date.now();
  const app = composeApp(
    {
      served: { custom: () => false, external: () => external !== undefined, resource: () => resource?.rules ?? null },
      registry: () => external?.registry ?? EMPTY_REGISTRY,
      mapper: () => mapper,
      queries: createQueryCache({ source: client, now }),
      prometheus: resource?.client ?? client,
      resourceObjects: resource?.objects,
      now,
      logger,
    },
    OFFLINE_ENDPOINTS,
  );
  return extra ? app.use(extra) : app;
}

export type MetricsApp = ReturnType<typeof createMetricsApp>;
