/**
 * The named Prometheus backends (`backends:` in the rules file) next to the flags' default one: a client per
 * backend, a discovery loop per backend, and the swap a rules reload makes (backends added, removed, or changed are
 * reconnected; unchanged ones keep their loop and registry part).
 */
import type { ReadinessDetail } from "../api/health.ts";
import type { BackendConfig } from "../config/schema.ts";
import {
  combineRelisters,
  rulesForBackend,
  type BackendRelister,
  type BackendsRelister,
} from "../discovery/backend-relisters.ts";
import { DEFAULT_BACKEND } from "../naming/backends.ts";
import type { CompiledRules } from "../naming/compile-rules.ts";
import type { Logger, LogFields } from "../observability/logger.ts";
import { removeBackendSeries } from "../observability/self-metrics.ts";
import type { Options } from "../options.ts";
import type { PrometheusClient } from "../prometheus/client.ts";
import { instrumentPrometheusClient } from "../prometheus/instrumented-client.ts";
import type { QuerySource } from "../prometheus/query-cache.ts";
import { backendExtrasWin } from "../prometheus/routed-source.ts";
import { createInstrumentedRelister, type DiscoveryDeps } from "./discovery.ts";
import { prometheusForBackend } from "./prometheus-connection.ts";

/** One named backend's connection. */
interface NamedBackend {
  readonly config: BackendConfig;
  /** The instrumented client (self-metrics and `--v=6` lines carry the backend's name). */
  readonly client: PrometheusClient;
  readonly discovery: BackendRelister;
}

export interface BackendsDeps extends Omit<DiscoveryDeps, "prometheus" | "rules" | "backend" | "onOutcome"> {
  /** The flags' client (instrumented): the default backend. */
  readonly defaultClient: PrometheusClient;
  /** The rules in force; read at every run until the first `apply`, whose rules the loops read from then on. */
  readonly rules: () => CompiledRules;
  readonly options: DiscoveryDeps["options"] & Pick<Options, "prometheus">;
}

export interface Backends {
  /** Discovery over every backend. */
  readonly relister: BackendsRelister;
  /** Named backends' query sources by name, for routed queries. */
  readonly sources: () => ReadonlyMap<string, QuerySource>;
  /**
   * Applies the backends of newly compiled rules (a reload): connects the new and changed ones before anything is
   * swapped, so an unusable credential file fails the reload (throws PrometheusConfigError) and keeps the old set.
   * Once it succeeds, every loop discovers with `rules`, new loops from their first run (which starts at once).
   */
  apply(rules: CompiledRules): BackendChanges;
}

/** What a reload's `apply` changed. */
export interface BackendChanges {
  /** Backends removed or reconnected (URL, credentials, headers, ...): their cached query answers are stale. */
  readonly stale: readonly string[];
  /** Settles once the self-metric series of removed backends are gone (never rejects). */
  readonly seriesRemoved: Promise<void>;
}

export function createBackends(deps: BackendsDeps): Backends {
  const { defaultClient, logger } = deps;
  // NB: the loops a reload adds start their first run inside `apply`, before the caller swaps its own rules: they
  // must read the rules being applied, not the ones being replaced.
  let applied: CompiledRules | null = null;
  const rules = (): CompiledRules => applied ?? deps.rules();
  const discoveryFor = (name: string, client: PrometheusClient, named: boolean): BackendRelister => {
    let attempted = false;
    let failed = false;
    const relister = createInstrumentedRelister({
      ...deps,
      prometheus: client,
      rules: () => rulesForBackend(rules(), name),
      logger: named ? withFields(logger, { backend: name }) : logger,
      backend: named ? name : undefined,
      // The REST mapper refresh runs once per relist interval, before the default backend's runs only.
      beforeRun: named ? undefined : deps.beforeRun,
      onOutcome(ok) {
        attempted = true;
        failed = !ok;
      },
    });
    return {
      name,
      relister,
      attempted: () => attempted,
      lastError: () => (failed ? "the last discovery run failed (see the logs)" : null),
      discovers: () => rulesForBackend(rules(), name).seriesQueries.length > 0,
    };
  };
  const defaultDiscovery = discoveryFor(DEFAULT_BACKEND, defaultClient, false);

  const connect = (config: BackendConfig): NamedBackend => {
    const { client: raw, baseUrl } = prometheusForBackend(config, deps.options);
    const client = instrumentPrometheusClient(raw, {
      server: baseUrl,
      backend: config.name,
      logger,
      observe: (labels, seconds) => deps.metrics.prometheusRequestDuration.observe(labels, seconds),
    });
    return { config, client, discovery: discoveryFor(config.name, client, true) };
  };

  let named = new Map<string, NamedBackend>();
  const build = (compiled: CompiledRules): Map<string, NamedBackend> => {
    const next = new Map<string, NamedBackend>();
    for (const { config } of compiled.backends) {
      const known = named.get(config.name);
      next.set(config.name, known && sameConfig(known.config, config) ? known : connect(config));
    }
    return next;
  };
  named = build(rules());
  const parts = () => [defaultDiscovery, ...[...named.values()].map((backend) => backend.discovery)];
  const relister = combineRelisters(parts());
  // A backend's own headers and parameters win over a rule's (its tenant header is never a rule's).
  const sourcesOf = (backends: Map<string, NamedBackend>): ReadonlyMap<string, QuerySource> =>
    new Map([...backends].map(([name, backend]) => [name, backendExtrasWin(backend.client, backend.config)]));
  let sources = sourcesOf(named);

  return {
    relister,
    sources: () => sources,
    apply(compiled) {
      const next = build(compiled);
      applied = compiled;
      for (const name of next.keys()) if (!named.has(name)) logger.info(0, "backend added", { backend: name });
      const removed = [...named.keys()].filter((name) => !next.has(name));
      for (const name of removed) logger.info(0, "backend removed", { backend: name });
      const stale = [...named].filter(([name, backend]) => next.get(name) !== backend).map(([name]) => name);
      named = next;
      sources = sourcesOf(named);
      relister.replace(parts());
      const seriesRemoved = Promise.all(removed.map((name) => removeBackendSeries(deps.metrics, name))).then(
        () => undefined,
        (error: unknown) => logger.warn("removing a removed backend's self-metrics failed", { error: String(error) }),
      );
      return { stale, seriesRemoved };
    },
  };
}

function sameConfig(a: BackendConfig, b: BackendConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A logger adding `fields` to every line. */
function withFields(logger: Logger, fields: LogFields): Logger {
  return {
    verbosity: logger.verbosity,
    enabled: (level) => logger.enabled(level),
    info: (level, message, more) => logger.info(level, message, { ...fields, ...more }),
    warn: (message, more) => logger.warn(message, { ...fields, ...more }),
    error: (message, more) => logger.error(message, { ...fields, ...more }),
  };
}

/** `/readyz?verbose` lines, one per backend: `[+]backend/<name> ok` or `[-]backend/<name> failed: <why>`. */
export function backendReadinessDetails(relister: BackendsRelister): ReadinessDetail[] {
  return relister.backends().map((backend) => ({
    name: `backend/${backend.name}`,
    ok: backend.ready && backend.lastError === null,
    ...(backend.attempted
      ? backend.lastError === null
        ? {}
        : { reason: backend.lastError }
      : { reason: "first discovery not attempted yet" }),
  }));
}
