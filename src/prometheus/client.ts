import { decodeQueryResult, decodeSeriesList, ResponseShapeError } from "./decode.ts";
import { PrometheusError } from "./errors.ts";
import type { PromQL, PrometheusTransport, QueryResult, SeriesLabels } from "./types.ts";

/** The two Prometheus API calls prom-adapter makes. Both reject with a `PrometheusError` (or the signal's reason). */
export interface PrometheusClient {
  /**
   * `GET /api/v1/series?match[]=…&start=…` (no `end`): the label sets of the series matching any of `matches` that
   * have samples at or after `startSeconds` (Unix seconds; sent with up to 3 fraction digits).
   */
  series(matches: readonly string[], startSeconds: number, signal?: AbortSignal): Promise<SeriesLabels[]>;
  /** `GET /api/v1/query?query=…&time=…`: evaluates `query` at `timeSeconds` (Unix seconds). No `timeout` parameter is sent. */
  query(query: PromQL, timeSeconds: number, signal?: AbortSignal): Promise<QueryResult>;
}

/** Options of {@link createPrometheusClient}. */
export interface PrometheusClientOptions {
  /** Milliseconds allowed per query call; `0` = no limit. Default 30 000 (upstream's). */
  readonly queryTimeoutMs?: number;
  /** Milliseconds allowed per series call; `0` = no limit. Default 120 000 (upstream's). */
  readonly seriesTimeoutMs?: number;
}

/** Creates the typed client over a transport; responses are validated and turned into {@link QueryResult}s. */
export function createPrometheusClient(
  transport: PrometheusTransport,
  { queryTimeoutMs = 30_000, seriesTimeoutMs = 120_000 }: PrometheusClientOptions = {},
): PrometheusClient {
  const call = async <T>(endpoint: string, params: Record<string, string | readonly string[]>, timeoutMs: number, signal: AbortSignal | undefined, decode: (data: unknown) => T): Promise<T> => {
    const data = await transport.request(endpoint, params, { signal, timeoutMs });
    try {
      return decode(data);
    } catch (error) {
      if (!(error instanceof ResponseShapeError)) throw error;
      throw new PrometheusError("bad_response", `bad_response: ${error.message}`, {
        endpoint,
        url: `${transport.baseUrl}/api/v1/${endpoint}`,
        cause: error,
      });
    }
  };
  return {
    series(matches, startSeconds, signal) {
      return call("series", { "match[]": matches, start: formatSeconds(startSeconds) }, seriesTimeoutMs, signal, decodeSeriesList);
    },
    query(query, timeSeconds, signal) {
      return call("query", { query, time: formatSeconds(timeSeconds) }, queryTimeoutMs, signal, decodeQueryResult);
    },
  };
}

/**
 * Unix seconds as Prometheus' Go client writes them (`model.Time.String()`): rounded to milliseconds, decimal,
 * no exponent and no trailing zeros (`1714564800`, `1714564800.5`, `1714564800.123`).
 */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) throw new RangeError(`time must be a finite number of seconds, got ${seconds}`);
  const totalMs = Math.round(seconds * 1000);
  const sign = totalMs < 0 ? "-" : "";
  const absMs = Math.abs(totalMs);
  const whole = Math.floor(absMs / 1000);
  const fraction = String(absMs % 1000).padStart(3, "0").replace(/0+$/, "");
  return `${sign}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}
