/**
 * The adapter's discovery part: the relist loop over the instrumented Prometheus client, with self-metrics for
 * each run and pass, and the cluster REST mapper refreshed before each relist.
 */
import type { MetricRegistry } from "../discovery/registry.ts";
import { createRelister, type Relister } from "../discovery/relister.ts";
import type { CompiledRules } from "../naming/compile-rules.ts";
import type { Logger } from "../observability/logger.ts";
import type { SelfMetrics } from "../observability/self-metrics.ts";
import type { Options } from "../options.ts";
import type { PrometheusClient } from "../prometheus/client.ts";
import type { Clock } from "../util/clock.ts";

export interface DiscoveryDeps {
  readonly prometheus: PrometheusClient;
  /** The current rules; read at every run (rules may reload). */
  readonly rules: () => CompiledRules;
  readonly options: Pick<Options, "relistInterval" | "maxAge" | "freshInterval" | "discoveryMode">;
  /** Runs before every relist (cluster mode: the REST mapper refresh); a failure is logged and keeps the old one. */
  readonly beforeRun?: (() => Promise<void>) | undefined;
  readonly metrics: SelfMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The named backend it discovers (a `backend` label on its self-metrics); undefined for the default one. */
  readonly backend?: string | undefined;
  /** Hears every run's outcome (the backend's readiness). Default none. */
  readonly onOutcome?: ((ok: boolean) => void) | undefined;
}

/** A relister (not yet started) whose runs update the discovery self-metrics. */
export function createInstrumentedRelister({
  prometheus,
  rules,
  options,
  beforeRun,
  metrics,
  clock,
  logger,
  backend,
  onOutcome,
}: DiscoveryDeps): Relister {
  const named = backend === undefined ? {} : { backend };
  const countRegistered = (registry: MetricRegistry) => {
    metrics.registeredMetrics.set({ api: "custom.metrics.k8s.io", ...named }, registry.customMetrics().length);
    metrics.registeredMetrics.set({ api: "external.metrics.k8s.io", ...named }, registry.externalMetrics().length);
  };
  metrics.discoveryRelistInterval.set(options.relistInterval / 1000);
  const relister: Relister = createRelister({
    source: prometheus,
    mode: options.discoveryMode,
    rules,
    interval: options.relistInterval,
    maxAge: options.maxAge,
    freshInterval: options.freshInterval,
    beforeRun:
      beforeRun &&
      (() =>
        beforeRun().catch((error: unknown) => {
          logger.warn("REST mapper refresh failed; keeping the previous one", { error: (error as Error).message });
        })),
    clock,
    logger,
    onRun({ ok, durationMs, snapshot, cost }) {
      onOutcome?.(ok);
      const mode = cost.mode ?? "none";
      metrics.discoveryDuration.observe({ outcome: ok ? "success" : "error", mode, ...named }, durationMs / 1000);
      metrics.discoveryBytes.inc({ mode, ...named }, cost.bytes);
      metrics.discoveryCalls.inc({ mode, ...named }, cost.calls);
      if (!ok) {
        metrics.discoveryErrors.inc(named);
        return;
      }
      metrics.discoveryLastSuccess.set(named, snapshot.completedAt / 1000);
      metrics.discoverySeries.set(named, snapshot.seriesSeen);
      countRegistered(snapshot.registry);
    },
    onFreshPass(outcome) {
      if (outcome.status === "done" && outcome.registryChanged) countRegistered(relister.current().registry);
    },
  });
  return relister;
}
