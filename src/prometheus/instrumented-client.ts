/**
 * A decorator over the Prometheus client: every call's latency goes to a histogram by endpoint and outcome
 * (upstream's `prometheus_adapter_prometheus_client_request_duration_seconds`), and at `--v=6` each call is logged
 * with its endpoint, query or matchers and duration. The base URL carries no credentials (transport.baseUrl).
 */
import type { Logger } from "../observability/logger.ts";
import type { PrometheusClient } from "./client.ts";
import { PrometheusError } from "./errors.ts";

/**
 * Where observations go: `path` is the API path (`/api/v1/query`), `outcome` `success` or the error kind, `backend`
 * the named backend (absent for the default one, whose series keep upstream's labels).
 */
export type ObservePrometheusCall = (
  labels: { path: string; server: string; outcome: string; backend?: string },
  seconds: number,
) => void;

export function instrumentPrometheusClient(
  client: PrometheusClient,
  {
    server,
    observe,
    logger,
    backend,
  }: {
    server: string;
    observe: ObservePrometheusCall;
    logger: Logger;
    /** The named backend this client reaches; undefined for the default one (no `backend` label, none logged). */
    backend?: string | undefined;
  },
): PrometheusClient {
  const named = backend === undefined ? {} : { backend };
  async function timed<T>(path: string, describe: () => Record<string, unknown>, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = "success";
    try {
      return await call();
    } catch (error) {
      outcome = error instanceof PrometheusError ? error.kind : "aborted";
      throw error;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      observe({ path, server, outcome, ...named }, seconds);
      if (logger.enabled(6))
        logger.info(6, "prometheus call", {
          ...named,
          url: `${server}${path}`,
          ...describe(),
          outcome,
          ms: Math.round(seconds * 10_000) / 10,
        });
    }
  }
  return {
    series: (matches, start, signal, meter) =>
      timed(
        "/api/v1/series",
        () => ({ match: matches.join(" ") }),
        () => client.series(matches, start, signal, meter),
      ),
    streamSeries: (matches, start, visit, signal, meter) =>
      timed(
        "/api/v1/series",
        () => ({ match: matches.join(" ") }),
        () => client.streamSeries(matches, start, visit, signal, meter),
      ),
    labelValues: (label, start, matches, signal, meter) =>
      timed(
        `/api/v1/label/${label}/values`,
        () => ({ match: matches?.join(" ") ?? "" }),
        () => client.labelValues(label, start, matches, signal, meter),
      ),
    labelNames: (matches, start, signal, meter) =>
      timed(
        "/api/v1/labels",
        () => ({ match: matches.join(" ") }),
        () => client.labelNames(matches, start, signal, meter),
      ),
    query: (query, time, signal, extras) =>
      timed(
        "/api/v1/query",
        () => ({ query }),
        () => client.query(query, time, signal, extras),
      ),
  };
}
