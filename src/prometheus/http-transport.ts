import { loadPrometheusAuthConfig } from "./auth-config.ts";
import { createAuthorization, createTlsOptions } from "./credentials.ts";
import { BodyTooLarge, errorText, readBody, redact, unwrapEnvelope, type MakeError } from "./envelope.ts";
import { streamEnvelope } from "./envelope-body-stream.ts";
import type { JsonHandler } from "./json-tokenizer.ts";
import { PrometheusConfigError, PrometheusError, type PrometheusErrorKind } from "./errors.ts";
import { encodeParams } from "./form-encoding.ts";
import type { PrometheusTransport, RequestOptions, RequestParams, TransferMeter } from "./types.ts";

/** How to reach Prometheus (the `--prometheus-*` flags). File options are read when the transport is created. */
export interface HttpTransportOptions {
  /**
   * Prometheus base URL, e.g. `http://prometheus:9090` or `http://thanos:9090/prefix` (the path prefix is kept:
   * `/prefix/api/v1/query`). Credentials in it (`http://user:pass@host`) become basic auth; its query string and
   * fragment are dropped, as upstream does.
   */
  readonly baseUrl: string;
  /** HTTP method; a GET whose URL would exceed `maxGetUrlBytes` is sent as POST anyway. Default `GET`. */
  readonly verb?: "GET" | "POST";
  /**
   * Extra request headers (`--prometheus-header`), e.g. `{"X-Scope-OrgID": "team-a"}`; a list repeats the header.
   * An `Authorization` here wins over every other credential. Default none.
   */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** File holding a bearer token, re-read on every request (rotation). Wins over the auth config's credentials. */
  readonly bearerTokenFile?: string | undefined;
  /** PEM bundle of the CAs that sign the Prometheus server certificate; replaces the system roots. */
  readonly caFile?: string | undefined;
  /** PEM client certificate chain for mutual TLS; needs `clientKeyFile`. */
  readonly clientCertFile?: string | undefined;
  /** PEM private key of `clientCertFile`. */
  readonly clientKeyFile?: string | undefined;
  /**
   * kubeconfig-format file (`--prometheus-auth-config`); its current context's user credentials (token, tokenFile,
   * client certificate, username/password) and cluster TLS settings (CA, insecure-skip-tls-verify, tls-server-name)
   * are used, its `server` is not. The explicit options above win over what it says.
   */
  readonly authConfigFile?: string | undefined;
  /** Query parameters added to every request; a call's own parameter of the same name wins. Default none. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Milliseconds allowed for a whole request (headers and body) unless the call says otherwise; `0` = no limit. Default 30 000. */
  readonly timeoutMs?: number;
  /** Longest GET URL in bytes; longer requests go as POST. Default 8192 (8 KiB), as upstream. */
  readonly maxGetUrlBytes?: number;
  /** Largest response body accepted, in bytes (after decompression); `0` = no limit. Default 268 435 456 (256 MiB). */
  readonly maxBodyBytes?: number;
}

const JSON_STATUS_CODES = new Set([400, 422, 503]);

/**
 * Creates the HTTP transport to Prometheus. Throws {@link PrometheusConfigError} when the URL is invalid or a token,
 * certificate or auth config file cannot be used, so bad flags fail at startup.
 */
export function createHttpTransport({
  baseUrl,
  verb = "GET",
  headers = {},
  bearerTokenFile,
  caFile,
  clientCertFile,
  clientKeyFile,
  authConfigFile,
  parameters = {},
  timeoutMs: defaultTimeoutMs = 30_000,
  maxGetUrlBytes = 8192,
  maxBodyBytes = 256 * 1024 * 1024,
}: HttpTransportOptions): PrometheusTransport {
  const { origin, pathPrefix, urlUser } = parseBaseUrl(baseUrl);
  const authConfig = authConfigFile === undefined ? undefined : loadPrometheusAuthConfig(authConfigFile);
  const authorization = createAuthorization({ headers, bearerTokenFile, authConfig, urlUser });
  const tls = createTlsOptions({ caFile, clientCertFile, clientKeyFile, authConfig });
  const hasParameters = Object.keys(parameters).length > 0;
  const staticSecrets = [
    ...Object.values(headers).flat(),
    urlUser?.password ?? "",
    authConfig?.token ?? "",
    authConfig?.basicAuth?.password ?? "",
  ];

  /**
   * Sends one request and hands the 2xx/400/422/503 response to `consume`, with the timeout covering the whole body
   * and every failure turned into a PrometheusError (or the caller's abort reason).
   */
  async function exchange<T>(
    endpoint: string,
    params: RequestParams,
    { signal, timeoutMs = defaultTimeoutMs, headers: callHeaders = {}, meter }: RequestOptions,
    consume: (response: Response, context: ExchangeContext) => Promise<T>,
  ): Promise<T> {
    if (meter !== undefined) meter.calls++;
    const url = `${origin}${pathPrefix}/api/v1/${endpoint}`;
    const fail = (
      kind: PrometheusErrorKind,
      message: string,
      extra: { statusCode?: number; errorType?: string; cause?: unknown } = {},
    ) => new PrometheusError(kind, message, { endpoint, url, ...extra });

    const encoded = encodeParams(hasParameters ? { ...parameters, ...params } : params);
    const getUrl = encoded === "" ? url : `${url}?${encoded}`;
    // NB: the URL is ASCII after encoding, so its length is its size in bytes.
    const method = verb === "POST" || getUrl.length > maxGetUrlBytes ? "POST" : "GET";
    const requestHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      for (const item of typeof value === "string" ? [value] : value) requestHeaders.append(name, item);
    }
    for (const [name, value] of Object.entries(callHeaders)) requestHeaders.set(name, value);
    // NB: fetch asks for gzip/br by default. Compressing costs Prometheus (Go's gzip writer) about 1 ms of CPU per
    // small query answer and 10-20% of a series call's time on a fast network (bench/README.md), so answers come
    // uncompressed unless a --prometheus-header asks otherwise.
    if (!requestHeaders.has("Accept-Encoding")) requestHeaders.set("Accept-Encoding", "identity");
    const credentials = await authorization.header();
    if (credentials !== undefined) requestHeaders.set("Authorization", credentials.value);
    if (method === "POST") requestHeaders.set("Content-Type", "application/x-www-form-urlencoded");
    const callSecrets = Object.values(callHeaders);
    const secrets =
      credentials === undefined
        ? [...staticSecrets, ...callSecrets]
        : [...staticSecrets, ...callSecrets, credentials.secret];

    const timeout = new AbortController();
    const timer = timeoutMs > 0 ? setTimeout(() => timeout.abort(), timeoutMs) : undefined;
    const combined = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
    const interrupted = (
      error: unknown,
      kind: PrometheusErrorKind,
      describe: () => string,
      statusCode?: number,
    ): unknown => {
      const extra = statusCode === undefined ? { cause: error } : { cause: error, statusCode };
      if (timeout.signal.aborted) return fail("timeout", `timeout: no complete response within ${timeoutMs} ms`, extra);
      if (signal?.aborted) return signal.reason;
      return fail(kind, describe(), extra);
    };
    try {
      let response: Response;
      try {
        response = await fetch(method === "GET" ? getUrl : url, {
          method,
          headers: requestHeaders,
          ...(method === "POST" ? { body: encoded } : {}),
          signal: combined,
          ...(tls === undefined ? {} : { tls }),
        });
      } catch (error) {
        throw interrupted(error, "network", () => `network: ${redact(errorText(error), secrets)}`);
      }

      const statusCode = response.status;
      if (Math.floor(statusCode / 100) !== 2 && !JSON_STATUS_CODES.has(statusCode)) {
        void response.body?.cancel().catch(() => {});
        throw fail("bad_response", `bad_response: unknown response code ${statusCode}`, { statusCode });
      }
      const failWithStatus: MakeError = (kind, message, extra) => fail(kind, message, { statusCode, ...extra });
      const readFailed = (error: unknown): unknown => {
        if (error instanceof BodyTooLarge)
          return fail("too_large", `too_large: response body exceeds ${maxBodyBytes} bytes`, { statusCode });
        return interrupted(
          error,
          "bad_response",
          () => `bad_response: reading the response body failed: ${redact(errorText(error), secrets)}`,
          statusCode,
        );
      };
      return await consume(response, { fail: failWithStatus, readFailed, secrets, meter });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    baseUrl: `${origin}${pathPrefix}`,
    request(endpoint: string, params: RequestParams, options: RequestOptions = {}) {
      return exchange(endpoint, params, options, async (response, { fail, readFailed, secrets, meter }) => {
        let bytes: Uint8Array;
        try {
          bytes = await readBody(response, maxBodyBytes);
        } catch (error) {
          throw readFailed(error);
        }
        if (meter !== undefined) meter.bytes += bytes.byteLength;
        return unwrapEnvelope(bytes, response.headers.get("content-type") ?? "", secrets, fail);
      });
    },
    stream(endpoint: string, params: RequestParams, data: JsonHandler, options: RequestOptions = {}) {
      return exchange(endpoint, params, options, (response, { fail, readFailed, secrets, meter }) =>
        streamEnvelope(response, data, {
          maxBytes: maxBodyBytes,
          contentType: response.headers.get("content-type") ?? "",
          secrets,
          fail,
          readFailed,
          meter,
        }),
      );
    },
  };
}

/** What {@link exchange} gives the body consumer. */
interface ExchangeContext {
  /** Builds a PrometheusError carrying the status code. */
  readonly fail: MakeError;
  /** Turns a body-read failure into the error to throw (too_large, timeout, caller's abort, bad_response). */
  readonly readFailed: (error: unknown) => unknown;
  readonly secrets: readonly string[];
  readonly meter: TransferMeter | undefined;
}

function parseBaseUrl(baseUrl: string): {
  origin: string;
  pathPrefix: string;
  urlUser?: { username: string; password: string };
} {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (error) {
    throw new PrometheusConfigError(`invalid Prometheus URL ${JSON.stringify(baseUrl)}`, { cause: error });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PrometheusConfigError(`invalid Prometheus URL ${JSON.stringify(baseUrl)}: scheme must be http or https`);
  }
  // Like Go's path.Join: no trailing slash, no empty segments.
  const pathPrefix = url.pathname
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => `/${segment}`)
    .join("");
  const hasUser = url.username !== "" || url.password !== "";
  const urlUser = hasUser
    ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : undefined;
  return { origin: url.origin, pathPrefix, ...(urlUser === undefined ? {} : { urlUser }) };
}
