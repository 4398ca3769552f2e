/**
 * The adapter's listener part: the serving certificate (given or self-generated), the HTTPS server with the request
 * handler (in-flight bound, security check, metrics), and client CA rotation pushed to new handshakes.
 */
import type { Logger } from "../observability/logger.ts";
import type { SelfMetrics } from "../observability/self-metrics.ts";
import type { Options } from "../options.ts";
import { createRequestHandler } from "../server/request-handler.ts";
import { startHttpsServer, type HttpsServer } from "../server/serve.ts";
import { loadOrCreateServingCertificate } from "../server/tls.ts";
import type { Clock } from "../util/clock.ts";
import type { App } from "./compose.ts";
import type { ClusterConnection } from "./cluster.ts";
import { StartupError } from "./startup-error.ts";

export interface ListenerDeps {
  readonly app: App;
  readonly options: Pick<
    Options,
    "tlsCertFile" | "tlsKeyFile" | "certDir" | "bindAddress" | "securePort" | "maxRequestsInFlight"
  >;
  /** Cluster mode: authentication, authorization and the client CA bundles; null in standalone mode. */
  readonly cluster: ClusterConnection | null;
  readonly metrics: SelfMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Listens on `--bind-address:--secure-port`; throws StartupError when it cannot. */
export async function listen({ app, options, cluster, metrics, clock, logger }: ListenerDeps): Promise<HttpsServer> {
  const certificate = loadOrCreateServingCertificate({
    certFile: options.tlsCertFile,
    keyFile: options.tlsKeyFile,
    certDir: options.certDir,
    now: new Date(clock.now()),
  });
  if (certificate.generated)
    logger.info(0, "generated a self-signed serving certificate", { cert: certificate.certFile });
  let server: HttpsServer;
  try {
    server = await startHttpsServer({
      handle: createRequestHandler({
        handle: (request) => app.handle(request),
        security: cluster?.security,
        metrics,
        logger,
        maxInFlight: options.maxRequestsInFlight,
      }),
      host: options.bindAddress,
      port: options.securePort,
      certPem: certificate.certPem,
      keyPem: certificate.keyPem,
      clientCaPems: cluster?.clientCaPems(),
      onError: (error, source) => logger.info(4, "connection error", { source, error: error.message }),
    });
  } catch (error) {
    throw new StartupError(
      `cannot listen on ${options.bindAddress}:${options.securePort}: ${(error as Error).message}`,
    );
  }
  // A rotated front-proxy or client CA (ConfigMap re-read) is requested from new connections without a restart.
  cluster?.onClientCaChange((clientCaPems) =>
    server.updateTls({ certPem: certificate.certPem, keyPem: certificate.keyPem, clientCaPems }),
  );
  return server;
}
