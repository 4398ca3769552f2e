/**
 * Why a call to Prometheus failed:
 * - `network`: no HTTP response (connection refused, DNS, TLS handshake, reset before the status line);
 * - `timeout`: no complete response within the per-request timeout;
 * - `api`: Prometheus answered with `status: "error"` (bad PromQL, query timeout inside Prometheus, ...);
 * - `bad_response`: an answer that is not a Prometheus envelope (unexpected HTTP status, HTML, truncated JSON, wrong shape);
 * - `too_large`: the response body is larger than the configured bound.
 */
export type PrometheusErrorKind = "network" | "timeout" | "api" | "bad_response" | "too_large";

/** Where a {@link PrometheusError} happened. */
export interface PrometheusErrorContext {
  /** The API endpoint below `/api/v1/`, e.g. `query` or `series`. */
  readonly endpoint: string;
  /**
   * The request URL without credentials and without the query string, e.g. `https://prom:9090/prefix/api/v1/query`.
   * For logs only: never shown to API clients.
   */
  readonly url: string;
  /** HTTP status code, when a response arrived. */
  readonly statusCode?: number;
  /** Prometheus' `errorType` (`bad_data`, `timeout`, `execution`, ...), for kind `api`. */
  readonly errorType?: string;
  readonly cause?: unknown;
}

/**
 * A failed Prometheus call. The message follows upstream prometheus-adapter: `<errorType>: <error>` for an API error
 * (e.g. `bad_data: 1:5: parse error: ...`), `bad_response: unknown response code 418` for an unexpected status, and
 * `<kind>: <detail>` otherwise. Messages never contain tokens, passwords or header values.
 */
export class PrometheusError extends Error {
  override readonly name = "PrometheusError";
  readonly endpoint: string;
  readonly url: string;
  readonly statusCode: number | undefined;
  readonly errorType: string | undefined;

  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
    { endpoint, url, statusCode, errorType, cause }: PrometheusErrorContext,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.endpoint = endpoint;
    this.url = url;
    this.statusCode = statusCode;
    this.errorType = errorType;
  }
}

/** A Prometheus connection setting that cannot be used (unreadable token or certificate file, bad auth config). */
export class PrometheusConfigError extends Error {
  override readonly name = "PrometheusConfigError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
