/**
 * Wires the pipeline for one run: rules -> Prometheus client -> discovery -> registry and cache -> providers -> API
 * -> HTTPS. main.ts parses flags and handles signals; tests start adapters in-process through `startAdapter`.
 */
import { loadDefaultRules } from "./config/defaults.ts";
import { loadRulesFile, type LoadedRules } from "./config/load.ts";
import { createRelister, type Relister } from "./discovery/relister.ts";
import { compileRules, type CompiledRules } from "./naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper, type RestMapper } from "./naming/rest-mapper.ts";
import type { Logger } from "./observability/logger.ts";
import type { Options } from "./options.ts";
import { createPrometheusClient } from "./prometheus/client.ts";
import { createHttpTransport } from "./prometheus/http-transport.ts";
import { createCustomMetricsProvider } from "./providers/custom-metrics-provider.ts";
import { createQueryCache } from "./registry/query-cache.ts";
import { createApp, type App } from "./server/app.ts";
import { startHttpsServer, type HttpsServer } from "./server/serve.ts";
import { loadOrCreateServingCertificate } from "./server/tls.ts";
import type { Clock } from "./util/clock.ts";

export interface RunningAdapter {
  readonly port: number;
  readonly app: App;
  readonly relister: Relister;
  /** Stops discovery and the listener, letting in-flight requests finish for up to `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** Reads and compiles the rules named by `--config` (or the embedded default). Throws ConfigError. */
export async function loadRules(configFile: string | undefined, mapper: () => RestMapper): Promise<{ loaded: LoadedRules; compiled: CompiledRules }> {
  const loaded = configFile === undefined ? loadDefaultRules() : await loadRulesFile(configFile);
  return { loaded, compiled: compileRules(loaded, mapper) };
}

export async function startAdapter(options: Options, { logger, clock }: { logger: Logger; clock: Clock }): Promise<RunningAdapter> {
  if (!options.standalone) {
    throw new StartupError(
      "running against the Kubernetes API is not available in this version yet; start with --standalone (objects are taken from Prometheus labels)",
    );
  }
  const restMapper = createTableRestMapper(BUILTIN_RESOURCES);
  const mapper = () => restMapper;
  const { compiled } = await loadRules(options.configFile, mapper);
  for (const warning of compiled.warnings) logger.warn(warning);

  const transport = createHttpTransport({
    baseUrl: options.prometheusUrl,
    verb: options.prometheus.verb,
    headers: options.prometheus.headers,
    bearerTokenFile: options.prometheus.tokenFile,
    caFile: options.prometheus.caFile,
    clientCertFile: options.prometheus.clientCertFile,
    clientKeyFile: options.prometheus.clientKeyFile,
    authConfigFile: options.prometheus.authConfigFile,
  });
  const prometheus = createPrometheusClient(transport);
  const relister = createRelister({
    source: prometheus,
    rules: () => compiled,
    interval: options.relistInterval,
    maxAge: options.maxAge,
    clock,
    logger,
  });
  const queries = createQueryCache({ source: prometheus, ttl: options.queryCacheTtl, now: () => clock.now() });
  const registry = () => relister.current().registry;
  const customProvider = createCustomMetricsProvider({ registry, mapper, queries, now: () => clock.now(), logger });
  const app = createApp({
    logger,
    notReadyReason: () => (relister.ready() ? null : "waiting for the first successful metric discovery"),
    customMetrics: () => (compiled.custom.length > 0 ? { provider: customProvider, registry } : null),
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
      handle: (request) => app.handle(request),
      host: options.bindAddress,
      port: options.securePort,
      certPem: certificate.certPem,
      keyPem: certificate.keyPem,
      onError: (error, source) => logger.info(4, "connection error", { source, error: error.message }),
    });
  } catch (error) {
    throw new StartupError(`cannot listen on ${options.bindAddress}:${options.securePort}: ${(error as Error).message}`);
  }
  logger.info(0, "serving", { address: `https://${options.bindAddress}:${server.port}`, prometheus: options.prometheusUrl, standalone: options.standalone });
  relister.start();

  return {
    port: server.port,
    app,
    relister,
    async close(graceMs = 10_000) {
      relister.stop();
      await server.close(graceMs);
    },
  };
}
