/**
 * prom-adapter's own metrics, served on `/metrics` in Prometheus text format (docs/api.md, Operational endpoints), with
 * prom-client. One registry per adapter instance (tests run several in one process); process metrics included.
 */
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, Histogram, Registry } from "prom-client";

export interface SelfMetrics {
  readonly registry: Registry;
  /** API requests by group, version, route shape and status code. */
  readonly requests: Counter<"api" | "version" | "route" | "code">;
  readonly requestDuration: Histogram<"api" | "route">;
  /**
   * Prometheus calls by endpoint and outcome (`success`, or the PrometheusError kind). Upstream's name is kept.
   * `backend`, on this and the discovery series, is set for named backends only (`backends:` in the rules file): the
   * default backend's series keep the label sets they have without backends.
   */
  readonly prometheusRequestDuration: Histogram<"path" | "server" | "outcome" | "backend">;
  /** Full discovery runs by outcome and mode (`series`, `labels`, or `none` when the `auto` probe failed). */
  readonly discoveryDuration: Histogram<"outcome" | "mode" | "backend">;
  /** Response body bytes full discovery runs received, by mode. */
  readonly discoveryBytes: Counter<"mode" | "backend">;
  /** Prometheus calls full discovery runs made, by mode. */
  readonly discoveryCalls: Counter<"mode" | "backend">;
  readonly discoveryErrors: Counter<"backend">;
  readonly discoveryLastSuccess: Gauge<"backend">;
  /** `--metrics-relist-interval`, seconds: alerts compare the age of the last success with it. */
  readonly discoveryRelistInterval: Gauge;
  readonly discoverySeries: Gauge<"backend">;
  readonly registeredMetrics: Gauge<"api" | "backend">;
  readonly queryCacheRequests: Counter<"result">;
  readonly queryCacheEntries: Gauge;
  readonly reviews: Counter<"kind" | "result">;
  readonly configReloadSuccessful: Gauge;
  readonly configReloadTimestamp: Gauge;
  /** 1 while `/readyz` answers 200, else 0; set when `/metrics` is served. */
  readonly ready: Gauge;
  /** Age of the sample behind each answered value, seconds. */
  readonly freshness: Histogram<"group">;
  /** Prometheus text of everything. */
  text(): Promise<string>;
}

export function createSelfMetrics({ processMetrics = true }: { processMetrics?: boolean } = {}): SelfMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const metrics: SelfMetrics = {
    registry,
    requests: new Counter({
      name: "prom_adapter_requests_total",
      help: "API requests answered, by API group, version, route shape and status code.",
      labelNames: ["api", "version", "route", "code"],
      registers,
    }),
    requestDuration: new Histogram({
      name: "prom_adapter_request_duration_seconds",
      help: "Time to answer API requests.",
      labelNames: ["api", "route"],
      registers,
      buckets: exponentialBuckets(0.0005, 2, 16),
    }),
    prometheusRequestDuration: new Histogram({
      name: "prometheus_adapter_prometheus_client_request_duration_seconds",
      help: "Prometheus client query latency in seconds, by endpoint path, server and outcome.",
      labelNames: ["path", "server", "outcome", "backend"],
      registers,
      buckets: exponentialBuckets(0.001, 2, 16),
    }),
    discoveryDuration: new Histogram({
      name: "prom_adapter_discovery_duration_seconds",
      help: "Duration of discovery runs, by outcome and discovery mode.",
      labelNames: ["outcome", "mode", "backend"],
      registers,
      buckets: exponentialBuckets(0.01, 2, 14),
    }),
    discoveryBytes: new Counter({
      name: "prom_adapter_discovery_received_bytes_total",
      help: "Response body bytes received by discovery runs, by discovery mode.",
      labelNames: ["mode", "backend"],
      registers,
    }),
    discoveryCalls: new Counter({
      name: "prom_adapter_discovery_calls_total",
      help: "Prometheus calls made by discovery runs, by discovery mode.",
      labelNames: ["mode", "backend"],
      registers,
    }),
    discoveryErrors: new Counter({
      name: "prom_adapter_discovery_errors_total",
      help: "Discovery runs that failed (the previous registry was kept).",
      labelNames: ["backend"],
      registers,
    }),
    discoveryLastSuccess: new Gauge({
      name: "prom_adapter_discovery_last_success_timestamp_seconds",
      help: "Unix time of the last successful discovery run.",
      labelNames: ["backend"],
      registers,
    }),
    discoveryRelistInterval: new Gauge({
      name: "prom_adapter_discovery_relist_interval_seconds",
      help: "How often discovery runs (--metrics-relist-interval), in seconds.",
      registers,
    }),
    discoverySeries: new Gauge({
      name: "prom_adapter_discovery_series",
      help: "Series downloaded by the last successful discovery run (labels mode downloads none).",
      labelNames: ["backend"],
      registers,
    }),
    registeredMetrics: new Gauge({
      name: "prom_adapter_registered_metrics",
      help: "Metrics served, by API.",
      labelNames: ["api", "backend"],
      registers,
    }),
    queryCacheRequests: new Counter({
      name: "prom_adapter_query_cache_requests_total",
      help: "Query cache lookups by result: hit, miss (Prometheus queried) or coalesced (joined a query in flight).",
      labelNames: ["result"],
      registers,
    }),
    queryCacheEntries: new Gauge({
      name: "prom_adapter_query_cache_entries",
      help: "Query results held in the cache.",
      registers,
    }),
    reviews: new Counter({
      name: "prom_adapter_reviews_total",
      help: "TokenReview and SubjectAccessReview decisions, by kind and result (including cache hits).",
      labelNames: ["kind", "result"],
      registers,
    }),
    configReloadSuccessful: new Gauge({
      name: "prom_adapter_config_last_reload_successful",
      help: "Whether the last rules reload succeeded (1) or was rejected (0).",
      registers,
    }),
    configReloadTimestamp: new Gauge({
      name: "prom_adapter_config_last_reload_success_timestamp_seconds",
      help: "Unix time of the last successful rules load.",
      registers,
    }),
    ready: new Gauge({ name: "prom_adapter_ready", help: "Whether /readyz answers 200 (1) or not (0).", registers }),
    freshness: new Histogram({
      name: "metrics_apiserver_metric_freshness_seconds",
      help: "Age of the samples behind answered metric values, in seconds.",
      labelNames: ["group"],
      registers,
      buckets: exponentialBuckets(1, 1.364, 20),
    }),
    text: () => registry.metrics(),
  };
  metrics.configReloadSuccessful.set(1);
  // NB: a `backend` label is set only for named backends (`backends:`); the default backend's series keep their
  // upstream-compatible label sets. Declaring the label drops prom-client's initial zero of unlabelled series, so
  // those are set here to keep /metrics unchanged for single-backend users.
  metrics.discoveryErrors.inc(0);
  metrics.discoveryLastSuccess.set(0);
  metrics.discoverySeries.set(0);
  return metrics;
}

/**
 * Removes every series labelled `backend="<backend>"` (a reload removed that backend), so they stop being
 * exported with their last values.
 */
export async function removeBackendSeries(metrics: SelfMetrics, backend: string): Promise<void> {
  const labelled = [
    metrics.prometheusRequestDuration,
    metrics.discoveryDuration,
    metrics.discoveryBytes,
    metrics.discoveryCalls,
    metrics.discoveryErrors,
    metrics.discoveryLastSuccess,
    metrics.discoverySeries,
    metrics.registeredMetrics,
  ];
  for (const metric of labelled) {
    const { values } = await metric.get();
    const removed = new Set<string>();
    for (const { labels } of values as { labels: Record<string, string | number> }[]) {
      if (labels.backend !== backend) continue;
      // A histogram's bucket lines add `le`; the series itself is the label set without it.
      const { le: _bucket, ...series } = labels;
      const key = JSON.stringify(series);
      if (removed.has(key)) continue;
      removed.add(key);
      (metric as { remove(labels: Record<string, string | number>): void }).remove(series);
    }
  }
}
