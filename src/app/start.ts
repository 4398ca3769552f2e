/**
 * Starts the adapter for one run: rules -> Prometheus client -> discovery (discovery.ts) -> query cache ->
 * providers and app (compose.ts) -> HTTPS listener (listener.ts), plus rules reload. main.ts parses flags and
 * handles signals; tests start adapters in-process through `startAdapter`.
 */
import type { NotReady } from "../api/health.ts";
import { ConfigError } from "../config/errors.ts";
import { PrometheusConfigError } from "../prometheus/errors.ts";
import { createRulesReloader, type RulesReloader } from "../config/reload.ts";
import type { ClusterConnection } from "./cluster.ts";
import type { DiscoveryRestMapper } from "../kubernetes/discovery-rest-mapper.ts";
import { standaloneKubeconfigPath } from "../kubernetes/standalone-kubeconfig.ts";
import { BUILTIN_RESOURCES, createTableRestMapper, type RestMapper } from "../apimachinery/rest-mapper.ts";
import type { Logger } from "../observability/logger.ts";
import { createSelfMetrics, type SelfMetrics } from "../observability/self-metrics.ts";
import type { Options } from "../options.ts";
import { prometheusFromOptions } from "./prometheus-connection.ts";
import { instrumentPrometheusClient } from "../prometheus/instrumented-client.ts";
import { createQueryCache } from "../prometheus/query-cache.ts";
import type { Clock } from "../util/clock.ts";
import type { BackendsRelister } from "../discovery/backend-relisters.ts";
import { composeApp, servedBy, type App } from "./compose.ts";
import { createBackends, type BackendChanges, backendReadinessDetails } from "./backends.ts";
import { createRoutedQuerySource, pinnedQuerySource } from "../prometheus/routed-source.ts";
import { listen } from "./listener.ts";
import { loadRules } from "./rules.ts";
import { StartupError } from "./startup-error.ts";

export interface RunningAdapter {
  readonly port: number;
  readonly app: App;
  readonly relister: BackendsRelister;
  readonly metrics: SelfMetrics;
  /** Present when rules come from `--config`: SIGHUP calls `reload({ force: true })`. */
  readonly reloader: RulesReloader | null;
  /** Stops discovery and the listener: `/readyz` answers 503, in-flight requests get up to `graceMs` (default
   * `--shutdown-grace`) to finish. */
  close(graceMs?: number): Promise<void>;
}

export { StartupError } from "./startup-error.ts";

/**
 * Standalone: the cluster's API discovery when a kubeconfig is at hand, else null (the built-in table). The
 * Kubernetes client is loaded only then. Throws StartupError when `--kubeconfig` was given but does not work.
 */
async function standaloneRestMapper(
  options: Options,
  logger: Logger,
  env: Environment,
): Promise<DiscoveryRestMapper | null> {
  if (standaloneKubeconfigPath(options.kubernetes.kubeconfig, env) === undefined) return null;
  const { connectStandaloneMapper, StandaloneKubeconfigError } = await import(
    "../kubernetes/standalone-rest-mapper.ts"
  );
  try {
    const source = await connectStandaloneMapper({ kubeconfigFlag: options.kubernetes.kubeconfig, env, logger });
    return source.kind === "cluster" ? source.restMapper : null;
  } catch (error) {
    if (error instanceof StandaloneKubeconfigError) throw new StartupError(error.message);
    throw error;
  }
}

/** Environment variables the adapter reads ($KUBECONFIG, $HOME for a standalone run's default kubeconfig). */
type Environment = Readonly<Record<string, string | undefined>>;

/** The backends, or a StartupError when a named backend's credential or CA file is unusable. */
function connectBackends(deps: Parameters<typeof createBackends>[0]): ReturnType<typeof createBackends> {
  try {
    return createBackends(deps);
  } catch (error) {
    if (error instanceof PrometheusConfigError) throw new StartupError(`backends: ${error.message}`);
    throw error;
  }
}

export async function startAdapter(
  options: Options,
  { logger, clock, env = process.env }: { logger: Logger; clock: Clock; env?: Environment },
): Promise<RunningAdapter> {
  const metrics = createSelfMetrics();
  // NB: the Kubernetes client (and @kubernetes/client-node) is loaded only in cluster mode: standalone runs start
  // faster and smaller without it (measured in bench/: about 24 MiB and 130 ms in the compiled binary).
  const cluster: ClusterConnection | null = options.standalone
    ? null
    : await (await import("./cluster.ts")).connectToCluster(options, logger, metrics);
  const standaloneDiscovery = options.standalone ? await standaloneRestMapper(options, logger, env) : null;
  const builtinMapper = createTableRestMapper(BUILTIN_RESOURCES);
  const discoveryMapper = cluster?.restMapper ?? standaloneDiscovery;
  const mapper = (): RestMapper => discoveryMapper?.current() ?? builtinMapper;
  // Without any cluster discovery the built-in table cannot know CRDs: their overrides warn instead of failing.
  const { source: rulesSource, compile } = await loadRules({
    configFile: options.configFile,
    mapper,
    unknownResources: discoveryMapper ? "error" : "warn",
    logger,
  });
  let rules = compile(rulesSource.text);
  metrics.configReloadTimestamp.set(clock.now() / 1000);

  const { client: prometheusClient, baseUrl: prometheusServer } = prometheusFromOptions(options);
  const prometheus = instrumentPrometheusClient(prometheusClient, {
    server: prometheusServer,
    logger,
    observe: (labels, seconds) => metrics.prometheusRequestDuration.observe(labels, seconds),
  });
  const backends = connectBackends({
    defaultClient: prometheus,
    rules: () => rules,
    options,
    // The REST mapper is refreshed before every relist, so new CRDs become queryable.
    beforeRun: discoveryMapper ? () => discoveryMapper.refresh() : undefined,
    metrics,
    clock,
    logger,
  });
  const relister = backends.relister;
  // Custom and external queries go to the backend routing chose (extras.backend), else to the default one.
  const routed = createRoutedQuerySource(prometheus, backends.sources);
  const resourceQueries = pinnedQuerySource(routed, () => rules.resource?.backend);
  const queries = createQueryCache({
    source: routed,
    ttl: options.queryCacheTtl,
    now: () => clock.now(),
    onLookup: (result) => metrics.queryCacheRequests.inc({ result }),
  });
  let draining = false;
  const readiness = (): NotReady | null => {
    if (draining) return { code: 503, reason: "shutting down" };
    if (cluster && !cluster.authentication.isLoaded())
      return { code: 500, reason: "authentication configuration not loaded" };
    if (relister.ready()) return null;
    return { code: 500, reason: "waiting for the first successful metric discovery" };
  };
  const app = composeApp(
    {
      served: servedBy(() => rules),
      registry: () => relister.current().registry,
      mapper,
      queries,
      prometheus: resourceQueries,
      objects: cluster?.objects,
      resourceObjects: cluster?.resourceObjects,
      now: () => clock.now(),
      logger,
      observeFreshness: (group, seconds) => metrics.freshness.observe({ group }, seconds),
      backends: () => rules.backends,
    },
    {
      readiness,
      readinessDetails: () => (rules.backends.length === 0 ? null : backendReadinessDetails(relister)),
      selfMetrics: {
        text: () => {
          metrics.queryCacheEntries.set(queries.size());
          metrics.ready.set(readiness() === null ? 1 : 0);
          return metrics.text();
        },
        contentType: metrics.registry.contentType,
      },
    },
  );

  const reloader =
    options.configFile === undefined
      ? null
      : createRulesReloader({
          file: options.configFile,
          initialText: rulesSource.text,
          compile,
          apply(next) {
            let changes: BackendChanges;
            try {
              changes = backends.apply(next);
            } catch (error) {
              if (!(error instanceof PrometheusConfigError)) throw error;
              // A named backend's credential file is unusable: the reload is rejected like an invalid file.
              const issue = { file: rulesSource.name, line: 0, column: 0, path: "backends", message: error.message };
              throw new ConfigError([issue]);
            }
            rules = next;
            // A backend reconnected or removed must not answer from results its old connection cached.
            for (const name of changes.stale) queries.forgetBackend(name);
            void relister.runOnce();
          },
          onOutcome(ok) {
            metrics.configReloadSuccessful.set(ok ? 1 : 0);
            if (ok) metrics.configReloadTimestamp.set(clock.now() / 1000);
          },
          logger,
        });

  const server = await listen({ app, options, cluster, metrics, clock, logger });
  // NB: the base URL without any user:password the flag may carry.
  logger.info(0, "serving", {
    address: `https://${options.bindAddress}:${server.port}`,
    prometheus: prometheusServer,
    standalone: options.standalone,
  });
  relister.start();
  reloader?.start();

  return {
    port: server.port,
    app,
    relister,
    metrics,
    reloader,
    async close(graceMs = options.shutdownGrace) {
      draining = true;
      reloader?.stop();
      cluster?.authentication.stop();
      relister.stop();
      await server.close(graceMs);
    },
  };
}
