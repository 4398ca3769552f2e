/**
 * What the Prometheus HTTP API returns, as the rest of prom-adapter sees it. Sample values stay the raw text
 * Prometheus sent (`"1.5"`, `"NaN"`, `"+Inf"`); parsing them is the caller's job (`parseSampleValue`), because
 * `Number("+Inf")` is NaN and the caller decides what a special value means.
 */

import type { JsonHandler } from "./json-tokenizer.ts";

/** The labels of one series, `__name__` included when Prometheus returns it. */
export type SeriesLabels = Readonly<Record<string, string>>;

/** One sample: when it was taken and its value as Prometheus wrote it. */
export interface SamplePoint {
  /** Seconds since the Unix epoch, with a fraction (Prometheus has millisecond precision). */
  readonly timestampSeconds: number;
  /** Raw sample text, e.g. `"42"`, `"1.5e-3"`, `"NaN"`, `"+Inf"`; for a `string` result, the string itself. */
  readonly value: string;
}

/** One element of an instant vector: a series and its sample at the evaluation time. */
export interface VectorSample extends SamplePoint {
  readonly metric: SeriesLabels;
}

/** One element of a range vector: a series and its samples, oldest first. */
export interface MatrixSeries {
  readonly metric: SeriesLabels;
  readonly values: readonly SamplePoint[];
}

/** An instant vector (`resultType: "vector"`), the usual answer for metric queries. */
export interface VectorResult {
  readonly resultType: "vector";
  readonly result: readonly VectorSample[];
}

/** A scalar (`resultType: "scalar"`), e.g. for `scalar(x)` or `1 + 1`. */
export interface ScalarResult {
  readonly resultType: "scalar";
  readonly result: SamplePoint;
}

/** A range vector (`resultType: "matrix"`), e.g. for `x[5m]`. */
export interface MatrixResult {
  readonly resultType: "matrix";
  readonly result: readonly MatrixSeries[];
}

/** A string literal (`resultType: "string"`), e.g. for `"hello"`. */
export interface StringResult {
  readonly resultType: "string";
  readonly result: SamplePoint;
}

/** The `data` of an instant query, discriminated by `resultType`. */
export type QueryResult = VectorResult | ScalarResult | MatrixResult | StringResult;

/** Request parameters; a list value repeats the key (`match[]`). Sent sorted by key, list values in order. */
export type RequestParams = Readonly<Record<string, string | readonly string[]>>;

/** Per-call options of {@link PrometheusTransport.request}. */
export interface RequestOptions {
  /** Aborts the call; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /** Milliseconds to wait for the whole response; `0` disables the timeout. Default: the transport's `timeoutMs`. */
  readonly timeoutMs?: number | undefined;
  /** Headers for this call only; they replace transport headers of the same name. Default none. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Counts this call and the body bytes it received (discovery's self-metrics). Default none. */
  readonly meter?: TransferMeter | undefined;
}

/**
 * What a group of calls cost: the transport adds 1 to `calls` per request sent and the response body bytes (as read,
 * after any decompression) to `bytes`, including those of error answers.
 */
export interface TransferMeter {
  calls: number;
  bytes: number;
}

/**
 * The raw Prometheus HTTP API: sends one request to `/api/v1/<endpoint>` and unwraps the response envelope.
 * Resolves to the envelope's `data` (unvalidated JSON); rejects with a `PrometheusError`.
 */
export interface PrometheusTransport {
  /** The base URL without credentials, query or trailing slash, e.g. `https://thanos:9090/prefix`. For logs. */
  readonly baseUrl: string;
  request(endpoint: string, params: RequestParams, options?: RequestOptions): Promise<unknown>;
  /**
   * Like {@link request}, but the body is tokenized as it arrives and the events of the envelope's `data` value go to
   * `data` (see json-tokenizer.ts); neither the body nor `data` is ever held whole. Resolves once the body is complete
   * and the envelope said success; rejects with a `PrometheusError` (or the signal's reason, or whatever `data` threw).
   */
  stream(endpoint: string, params: RequestParams, data: JsonHandler, options?: RequestOptions): Promise<void>;
}
