/**
 * A Bun.serve on 127.0.0.1 (port 0) that records every request and answers with a response chosen by the test:
 * for checking what a client sends (method, URL, headers, form body) and how it handles odd answers.
 */
import type { TLSOptions } from "bun";

/** One request as the server saw it. */
export interface CapturedRequest {
  readonly method: string;
  /** Path and query string exactly as sent, e.g. `/prefix/api/v1/query?query=up&time=1`. */
  readonly pathAndQuery: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Request body as text (`""` for GET). */
  readonly body: string;
}

/** A running capture server. */
export interface CaptureServer {
  /** `http://127.0.0.1:<port>` (or `https://` with `tls`). */
  readonly url: string;
  readonly port: number;
  /** Requests received so far, oldest first. */
  readonly requests: CapturedRequest[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The Prometheus answer to a query, for tests that only need a valid envelope. */
export const SCALAR_ENVELOPE = { status: "success", data: { resultType: "scalar", result: [1714564800, "1"] } };

/** Starts a capture server answering with `respond(request)`; default: a scalar-result success envelope. */
export function startCaptureServer(
  respond: (request: CapturedRequest) => Response | Promise<Response> = () => Response.json(SCALAR_ENVELOPE),
  tls?: TLSOptions,
): CaptureServer {
  const requests: CapturedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(tls === undefined ? {} : { tls }),
    async fetch(request) {
      const url = new URL(request.url);
      const captured: CapturedRequest = {
        method: request.method,
        pathAndQuery: `${url.pathname}${url.search}`,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      };
      requests.push(captured);
      return respond(captured);
    },
  });
  const stop = () => server.stop(true);
  return {
    url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${server.port}`,
    port: server.port ?? 0,
    requests,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
