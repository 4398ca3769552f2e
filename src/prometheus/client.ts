import { decodeQueryResult, decodeSeriesList, decodeStringList, ResponseShapeError } from "./decode.ts";
import { PrometheusError } from "./errors.ts";
import { createSeriesListHandler, type SeriesVisitor } from "./series-stream.ts";
import type { PromQL, QueryExtras } from "../naming/promql.ts";
import type { PrometheusTransport, QueryResult, RequestParams, SeriesLabels, TransferMeter } from "./types.ts";

/** The Prometheus API calls prom-adapter makes. All reject with a `PrometheusError` (or the signal's reason). */
export interface PrometheusClient {
  /**
   * `GET /api/v1/series?match[]=…&start=…` (no `end`): the label sets of the series matching any of `matches` that
   * have samples at or after `startSeconds` (Unix seconds; sent with up to 3 fraction digits). `meter` (here and below)
   * counts the call and its body bytes.
   */
  series(
    matches: readonly string[],
    startSeconds: number,
    signal?: AbortSignal,
    meter?: TransferMeter,
  ): Promise<SeriesLabels[]>;
  /**
   * The same call as {@link series}, streamed: each series goes to `visit` while the body is still arriving, and only
   * its metric name is decoded (see {@link SeriesVisitor}). Resolves with the number of series once the answer is
   * complete and valid; a failure after some series were visited still rejects, so callers must treat what they saw
   * as provisional until then.
   */
  streamSeries(
    matches: readonly string[],
    startSeconds: number,
    visit: SeriesVisitor,
    signal?: AbortSignal,
    meter?: TransferMeter,
  ): Promise<number>;
  /**
   * `GET /api/v1/label/<label>/values?start=…[&match[]=…]`: the values of `label` on series with samples at or after
   * `startSeconds`. Without `matches` Prometheus answers from its index alone, which is cheap even with millions of
   * series. Uses the series timeout.
   */
  labelValues(
    label: string,
    startSeconds: number,
    matches?: readonly string[],
    signal?: AbortSignal,
    meter?: TransferMeter,
  ): Promise<string[]>;
  /**
   * `GET /api/v1/labels?match[]=…&start=…`: the label names (including `__name__`) of the series matching any of
   * `matches` (every series when empty) in blocks overlapping `startSeconds` on, answered from the index. Uses the
   * series timeout.
   */
  labelNames(
    matches: readonly string[],
    startSeconds: number,
    signal?: AbortSignal,
    meter?: TransferMeter,
  ): Promise<string[]>;
  /**
   * `GET /api/v1/query?query=…&time=…`: evaluates `query` at `timeSeconds` (Unix seconds). No `timeout` parameter is
   * sent. `extras` adds a rule's parameters and headers.
   */
  query(query: PromQL, timeSeconds: number, signal?: AbortSignal, extras?: QueryExtras): Promise<QueryResult>;
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
  const badResponse = (endpoint: string, error: ResponseShapeError) =>
    new PrometheusError("bad_response", `bad_response: ${error.message}`, {
      endpoint,
      url: `${transport.baseUrl}/api/v1/${endpoint}`,
      cause: error,
    });
  const call = async <T>(
    endpoint: string,
    params: Record<string, string | readonly string[]>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    decode: (data: unknown) => T,
    headers?: Readonly<Record<string, string>>,
    meter?: TransferMeter,
  ): Promise<T> => {
    const data = await transport.request(endpoint, params, { signal, timeoutMs, headers, meter });
    try {
      return decode(data);
    } catch (error) {
      if (!(error instanceof ResponseShapeError)) throw error;
      throw badResponse(endpoint, error);
    }
  };
  return {
    series(matches, startSeconds, signal, meter) {
      return call(
        "series",
        { "match[]": matches, start: formatSeconds(startSeconds) },
        seriesTimeoutMs,
        signal,
        decodeSeriesList,
        undefined,
        meter,
      );
    },
    async streamSeries(matches, startSeconds, visit, signal, meter) {
      const list = createSeriesListHandler(visit);
      try {
        const params = { "match[]": matches, start: formatSeconds(startSeconds) };
        await transport.stream("series", params, list, { signal, timeoutMs: seriesTimeoutMs, meter });
      } catch (error) {
        if (!(error instanceof ResponseShapeError)) throw error;
        throw badResponse("series", error);
      }
      return list.seriesCount;
    },
    labelValues(label, startSeconds, matches = [], signal, meter) {
      const endpoint = `label/${encodeURIComponent(label)}/values`;
      const params: RequestParams =
        matches.length === 0
          ? { start: formatSeconds(startSeconds) }
          : { "match[]": matches, start: formatSeconds(startSeconds) };
      return call(endpoint, params, seriesTimeoutMs, signal, decodeStringList, undefined, meter);
    },
    labelNames(matches, startSeconds, signal, meter) {
      const params: RequestParams =
        matches.length === 0
          ? { start: formatSeconds(startSeconds) }
          : { "match[]": matches, start: formatSeconds(startSeconds) };
      return call("labels", params, seriesTimeoutMs, signal, decodeStringList, undefined, meter);
    },
    query(query, timeSeconds, signal, extras) {
      const params = { ...extras?.parameters, query, time: formatSeconds(timeSeconds) };
      return call("query", params, queryTimeoutMs, signal, decodeQueryResult, extras?.headers);
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
  const fraction = String(absMs % 1000)
    .padStart(3, "0")
    .replace(/0+$/, "");
  return `${sign}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}
