/**
 * The Prometheus clients the flags describe (`--prometheus-*`, the default backend) and a `backends:` entry
 * describes, shared by the server and the check/explain commands.
 */
import type { BackendConfig } from "../config/schema.ts";
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

/**
 * A named backend's client: its URL, credential files, headers and parameters; the verb and timeouts of the flags.
 * Throws PrometheusConfigError when a credential or CA file is unusable.
 */
export function prometheusForBackend(
  config: BackendConfig,
  options: Pick<Options, "prometheus">,
): { client: PrometheusClient; baseUrl: string } {
  const transport = createHttpTransport({
    baseUrl: config.url,
    verb: options.prometheus.verb,
    headers: config.headers,
    parameters: config.parameters,
    bearerTokenFile: config.bearerTokenFile,
    caFile: config.caFile,
    clientCertFile: config.clientCertFile,
    clientKeyFile: config.clientKeyFile,
    authConfigFile: config.authConfigFile,
  });
  const client = createPrometheusClient(transport, {
    queryTimeoutMs: options.prometheus.queryTimeout,
    seriesTimeoutMs: options.prometheus.seriesTimeout,
  });
  return { client, baseUrl: transport.baseUrl };
}
