/**
 * `check` with a `backends:` section: discovery once per named backend (with the rules that apply to it, as the
 * server's loops do), which backends registered each metric, and where namespace routing cannot tell two apart.
 * An unreachable named backend is reported, not fatal: the server serves the others.
 */
import { formatGroupResource } from "../../apimachinery/rest-mapper.ts";
import { rulesForBackend } from "../../discovery/backend-relisters.ts";
import { mergeRegistries, type MetricRegistry } from "../../discovery/registry.ts";
import { prometheusForBackend } from "../../app/prometheus-connection.ts";
import { ambiguousBackends, DEFAULT_BACKEND } from "../../naming/backends.ts";
import type { CompiledRules } from "../../naming/compile-rules.ts";
import type { Options } from "../../options.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { PrometheusConfigError } from "../../prometheus/errors.ts";
import { UsageError } from "../environment.ts";
import { discoverOnce, isUnreachable } from "./discovery-report.ts";

/** One named backend's discovery. */
export interface BackendDiscovery {
  readonly name: string;
  /** Base URL without credentials. */
  readonly url: string;
  /** Why it could not be listed (unreachable); null when it answered. */
  readonly error: string | null;
  readonly seriesSeen: number;
  readonly registered: { readonly custom: number; readonly external: number };
}

/** A metric and the backends that registered it, in declaration order. */
export interface BackendMetric {
  readonly metric: string;
  /** Custom: the resource (`pods`, `deployments.apps`); null for external metrics. */
  readonly resource: string | null;
  readonly backends: readonly string[];
  /** The rule pins it to this backend (`prometheus.backend`); null: routed by namespace. */
  readonly pinnedTo: string | null;
  /** Namespace routing cannot always tell its backends apart: such requests go to `backends[0]`. */
  readonly ambiguous: boolean;
}

export interface BackendsReport {
  /** Named backends only (the default one is the main discovery report). */
  readonly backends: readonly BackendDiscovery[];
  /** Metrics of every backend, sorted by metric then resource. */
  readonly metrics: readonly BackendMetric[];
  readonly notes: readonly string[];
}

/** What {@link discoverBackends} found: the report, the merged registry the server would serve, the clients. */
export interface BackendsDiscovery {
  readonly report: BackendsReport;
  /** Every backend's registry merged in declaration order, as the server's. */
  readonly registry: MetricRegistry;
  /** Named backends' clients by name (for explain's routed queries). */
  readonly clients: ReadonlyMap<string, PrometheusClient>;
}

/** Runs discovery on each named backend; `defaultRegistry` is the default backend's (the main report). */
export async function discoverBackends(
  compiled: CompiledRules,
  defaultRegistry: MetricRegistry,
  options: Pick<Options, "prometheus" | "maxAge" | "discoveryMode">,
  nowMs: number,
): Promise<BackendsDiscovery> {
  const clients = new Map<string, PrometheusClient>();
  const parts = [{ backend: DEFAULT_BACKEND, registry: defaultRegistry }];
  const backends: BackendDiscovery[] = [];
  for (const { config } of compiled.backends) {
    let connection: ReturnType<typeof prometheusForBackend>;
    try {
      connection = prometheusForBackend(config, options);
    } catch (error) {
      if (error instanceof PrometheusConfigError) throw new UsageError(`backends: ${config.name}: ${error.message}`);
      throw error;
    }
    clients.set(config.name, connection.client);
    try {
      const rules = rulesForBackend(compiled, config.name);
      const report = await discoverOnce(connection.client, rules, options.maxAge, nowMs, options.discoveryMode);
      parts.push({ backend: config.name, registry: report.registry });
      backends.push({
        name: config.name,
        url: connection.baseUrl,
        error: null,
        seriesSeen: report.seriesSeen,
        registered: {
          custom: report.registry.customMetrics().length,
          external: report.registry.externalMetrics().length,
        },
      });
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      const failed = { seriesSeen: 0, registered: { custom: 0, external: 0 } };
      backends.push({ name: config.name, url: connection.baseUrl, error: (error as Error).message, ...failed });
    }
  }
  const merged = mergeRegistries(parts);
  const entries = [
    ...merged.customMetrics().map((entry) => ({ ...entry, resourceName: formatGroupResource(entry.resource) })),
    ...merged.externalMetrics().map((entry) => ({ ...entry, resourceName: null })),
  ];
  const metrics: BackendMetric[] = entries.map((entry) => {
    const names = entry.backends ?? [DEFAULT_BACKEND];
    const pinnedTo = entry.rule.backend ?? null;
    return {
      metric: entry.metric,
      resource: entry.resourceName,
      backends: names,
      pinnedTo,
      ambiguous: pinnedTo === null && names.length > 1 && ambiguousBackends(names, compiled.backends),
    };
  });
  const notes = [
    ...backends
      .filter((backend) => backend.error !== null)
      .map((backend) => `backend ${backend.name} (${backend.url}) is unreachable: ${backend.error}`),
    ...metrics
      .filter((metric) => metric.ambiguous)
      .map(
        (metric) =>
          `backend-routing-ambiguous: ${metric.resource ?? "external metric"} ${metric.metric} is registered by ` +
          `${metric.backends.join(", ")}, which serve the same namespaces: requests there go to ` +
          `${metric.backends[0]} (declared first)`,
      ),
  ];
  return { report: { backends, metrics, notes }, registry: merged, clients };
}
