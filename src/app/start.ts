/**
 * Wires the pipeline for one run: rules -> Prometheus client -> discovery -> registry and cache -> providers -> API
 * -> HTTPS. main.ts parses flags and handles signals; tests start adapters in-process through `startAdapter`.
 */
import type { NotReady } from "../api/health.ts";
import { readRulesSource } from "../config/defaults.ts";
import { formatConfigIssue } from "../config/errors.ts";
import { parseRulesText } from "../config/load.ts";
import { createRulesReloader, type RulesReloader } from "../config/reload.ts";
import { createRelister, type Relister } from "../discovery/relister.ts";
import type { ClusterConnection } from "./cluster.ts";
import type { DiscoveryRestMapper } from "../kubernetes/discovery-rest-mapper.ts";
import { standaloneKubeconfigPath } from "../kubernetes/standalone-kubeconfig.ts";
import { compileRules, type CompiledRules } from "../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper, type RestMapper } from "../apimachinery/rest-mapper.ts";
import type { Logger } from "../observability/logger.ts";
import { createSelfMetrics, type SelfMetrics } from "../observability/self-metrics.ts";
import type { Options } from "../options.ts";
import { prometheusFromOptions } from "./prometheus-connection.ts";
import { instrumentPrometheusClient } from "../prometheus/instrumented-client.ts";
import { createCustomMetricsProvider } from "../providers/custom-metrics-provider.ts";
import { createExternalMetricsProvider } from "../providers/external-metrics-provider.ts";
import { createPrometheusObjectSource } from "../providers/prometheus-object-source.ts";
import { createResourceMetricsProvider } from "../providers/resource-metrics-provider.ts";
import type { MetricRegistry } from "../discovery/registry.ts";
import { createQueryCache } from "../prometheus/query-cache.ts";
import { createApp, type App } from "./compose.ts";
import { createRequestHandler } from "../server/request-handler.ts";
import { startHttpsServer, type HttpsServer } from "../server/serve.ts";
import { loadOrCreateServingCertificate } from "../server/tls.ts";
import { StartupError } from "./startup-error.ts";
import type { Clock } from "../util/clock.ts";

export interface RunningAdapter {
  readonly port: number;
  readonly app: App;
  readonly relister: Relister;
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

export async function startAdapter(
  options: Options,
  { logger, clock, env = process.env }: { logger: Logger; clock: Clock; env?: Environment },
): Promise<RunningAdapter> {
  const metrics = createSelfMetrics();
  // NB: the Kubernetes client (and @kubernetes/client-node) is loaded only in cluster mode: standalone runs start
  // faster and smaller without it (measured in bench/: about 24 MiB and 130 ms in the compiled binary).
  const cluster: ClusterConnection | null = options.standalone ? null : await (await import("./cluster.ts")).connectToCluster(options, logger, metrics);
  const standaloneDiscovery = options.standalone ? await standaloneRestMapper(options, logger, env) : null;
  const builtinMapper = createTableRestMapper(BUILTIN_RESOURCES);
  const discoveryMapper = cluster?.restMapper ?? standaloneDiscovery;
  const mapper = (): RestMapper => discoveryMapper?.current() ?? builtinMapper;
  // Without any cluster discovery the built-in table cannot know CRDs: their overrides warn instead of failing.
  const compileOptions = { unknownResources: discoveryMapper ? "error" : "warn" } as const;
  const rulesSource = await readRulesSource(options.configFile);
  const compile = (text: string): CompiledRules => {
    const compiled = compileRules(parseRulesText(text, rulesSource.name), mapper, compileOptions);
    for (const warning of compiled.warnings) logger.warn(formatConfigIssue(warning));
    return compiled;
  };
  let rules = compile(rulesSource.text);
  metrics.configReloadTimestamp.set(clock.now() / 1000);

  const { client: prometheusClient, baseUrl: prometheusServer } = prometheusFromOptions(options);
  const prometheus = instrumentPrometheusClient(prometheusClient, {
    server: prometheusServer,
    logger,
    observe: (labels, seconds) => metrics.prometheusRequestDuration.observe(labels, seconds),
  });
  const countRegistered = (registry: MetricRegistry) => {
    metrics.registeredMetrics.set({ api: "custom.metrics.k8s.io" }, registry.customMetrics().length);
    metrics.registeredMetrics.set({ api: "external.metrics.k8s.io" }, registry.externalMetrics().length);
  };
  metrics.discoveryRelistInterval.set(options.relistInterval / 1000);
  const relister = createRelister({
    source: prometheus,
    mode: options.discoveryMode,
    rules: () => rules,
    interval: options.relistInterval,
    maxAge: options.maxAge,
    freshInterval: options.freshInterval,
    // The REST mapper is refreshed before every relist, so new CRDs become queryable; a failed refresh keeps it.
    beforeRun: discoveryMapper
      ? () =>
          discoveryMapper.refresh().catch((error: unknown) => {
            logger.warn("REST mapper refresh failed; keeping the previous one", { error: (error as Error).message });
          })
      : undefined,
    clock,
    logger,
    onRun({ ok, durationMs, snapshot, cost }) {
      const mode = cost.mode ?? "none";
      metrics.discoveryDuration.observe({ outcome: ok ? "success" : "error", mode }, durationMs / 1000);
      metrics.discoveryBytes.inc({ mode }, cost.bytes);
      metrics.discoveryCalls.inc({ mode }, cost.calls);
      if (!ok) {
        metrics.discoveryErrors.inc();
        return;
      }
      metrics.discoveryLastSuccess.set(snapshot.completedAt / 1000);
      metrics.discoverySeries.set(snapshot.seriesSeen);
      countRegistered(snapshot.registry);
    },
    onFreshPass(outcome) {
      if (outcome.status === "done" && outcome.registryChanged) countRegistered(relister.current().registry);
    },
  });
  const queries = createQueryCache({
    source: prometheus,
    ttl: options.queryCacheTtl,
    now: () => clock.now(),
    onLookup: (result) => metrics.queryCacheRequests.inc({ result }),
  });
  const registry = () => relister.current().registry;
  const now = () => clock.now();
  const customProvider = createCustomMetricsProvider({
    registry,
    mapper,
    queries,
    objects: cluster?.objects,
    now,
    logger,
    observeFreshness: (seconds) => metrics.freshness.observe({ group: "custom.metrics.k8s.io" }, seconds),
  });
  const externalProvider = createExternalMetricsProvider({
    registry,
    queries,
    logger,
    now,
    observeFreshness: (seconds) => metrics.freshness.observe({ group: "external.metrics.k8s.io" }, seconds),
  });
  const resourceRules = () => {
    if (!rules.resource) throw new Error("metrics.k8s.io is not installed");
    return rules.resource;
  };
  // NB: resource metrics bypass the query cache: one request's CPU and memory queries must share one `time`.
  const resourceProvider = createResourceMetricsProvider({
    rules: resourceRules,
    objects: cluster?.resourceObjects ?? createPrometheusObjectSource({ rules: resourceRules, prometheus, now, logger }),
    prometheus,
    now,
    logger,
  });

  let draining = false;
  const readiness = (): NotReady | null => {
    if (draining) return { code: 503, reason: "shutting down" };
    if (cluster && !cluster.authentication.isLoaded()) return { code: 500, reason: "authentication configuration not loaded" };
    return relister.ready() ? null : { code: 500, reason: "waiting for the first successful metric discovery" };
  };
  const app = createApp({
    logger,
    readiness,
    selfMetrics: {
      text: () => {
        metrics.queryCacheEntries.set(queries.size());
        metrics.ready.set(readiness() === null ? 1 : 0);
        return metrics.text();
      },
      contentType: metrics.registry.contentType,
    },
    customMetrics: () => (rules.custom.length > 0 ? { provider: customProvider, registry } : null),
    externalMetrics: () => (rules.external.length > 0 ? { provider: externalProvider, registry } : null),
    resourceMetrics: () => (rules.resource ? { provider: resourceProvider } : null),
  });

  const reloader =
    options.configFile === undefined
      ? null
      : createRulesReloader({
          file: options.configFile,
          initialText: rulesSource.text,
          compile,
          apply(next) {
            rules = next;
            void relister.runOnce();
          },
          onOutcome(ok) {
            metrics.configReloadSuccessful.set(ok ? 1 : 0);
            if (ok) metrics.configReloadTimestamp.set(clock.now() / 1000);
          },
          logger,
        });

  const certificate = loadOrCreateServingCertificate({
    certFile: options.tlsCertFile,
    keyFile: options.tlsKeyFile,
    certDir: options.certDir,
    now: new Date(clock.now()),
  });
  if (certificate.generated) logger.info(0, "generated a self-signed serving certificate", { cert: certificate.certFile });
  let server: HttpsServer;
  try {
    server = await startHttpsServer({
      handle: createRequestHandler({ handle: (request) => app.handle(request), security: cluster?.security, metrics, logger, maxInFlight: options.maxRequestsInFlight }),
      host: options.bindAddress,
      port: options.securePort,
      certPem: certificate.certPem,
      keyPem: certificate.keyPem,
      clientCaPems: cluster?.clientCaPems(),
      onError: (error, source) => logger.info(4, "connection error", { source, error: error.message }),
    });
  } catch (error) {
    throw new StartupError(`cannot listen on ${options.bindAddress}:${options.securePort}: ${(error as Error).message}`);
  }
  // A rotated front-proxy or client CA (ConfigMap re-read) is requested from new connections without a restart.
  cluster?.onClientCaChange((clientCaPems) => server.updateTls({ certPem: certificate.certPem, keyPem: certificate.keyPem, clientCaPems }));
  // NB: the base URL without any user:password the flag may carry.
  logger.info(0, "serving", { address: `https://${options.bindAddress}:${server.port}`, prometheus: prometheusServer, standalone: options.standalone });
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

