/** The Prometheus client the flags describe (`--prometheus-*`), shared by the server and the check/explain commands. */
import type { Options } from "../options.ts";
import { createPrometheusClient, type PrometheusClient } from "../prometheus/client.ts";
import { createHttpTransport } from "../prometheus/http-transport.ts";

/** Throws PrometheusConfigError when a credential or CA file is unusable. `baseUrl` carries no credentials. */
export function prometheusFromOptions(options: Options): { client: PrometheusClient; baseUrl: string } {
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
  const client = createPrometheusClient(transport, {
    queryTimeoutMs: options.prometheus.queryTimeout,
    seriesTimeoutMs: options.prometheus.seriesTimeout,
  });
  return { client, baseUrl: transport.baseUrl };
}
