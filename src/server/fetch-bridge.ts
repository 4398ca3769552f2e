/**
 * Converts between node:http messages and Fetch `Request`/`Response`, for the HTTPS listener in `serve.ts`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Where the listener is bound; the authority used when the request has no usable Host header. */
export interface ListenerAddress {
  host: string;
  port: number;
}

// NB: Elysia finds the path with `url.indexOf("/", 11)`, which assumes at least three characters of authority after
// "https://"; shorter or malformed Host headers (and userinfo or paths smuggled into one) fall back to the listener's
// own address so routing never goes wrong.
const USABLE_HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]{3,})(?::[0-9]{1,5})?$/;

/** The Host header names no valid authority (`new URL` rejects it: `[:]`, `[1]`, a port over 65535); answered 400. */
export class MalformedHostError extends Error {
  override readonly name = "MalformedHostError";
}

/**
 * A Fetch `Request` for `incoming`: method, `https://<Host><target>` URL, every header line (repeated ones joined by
 * Fetch rules; see raw-headers.ts for the raw lines), the body streamed for methods other than GET and HEAD, and a
 * signal that aborts when the client goes away before the response is complete. Throws MalformedHostError.
 */
export function toFetchRequest(incoming: IncomingMessage, listener: ListenerAddress, signal: AbortSignal): Request {
  const method = incoming.method ?? "GET";
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) headers.append(raw[index]!, raw[index + 1]!);
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(urlOf(incoming, listener), {
    method,
    headers,
    signal,
    ...(hasBody ? { body: bodyStreamOf(incoming), duplex: "half" } : {}),
  });
}

function urlOf(incoming: IncomingMessage, listener: ListenerAddress): string {
  const hostHeader = incoming.headers.host;
  const authority =
    hostHeader !== undefined && USABLE_HOST_HEADER.test(hostHeader) ? hostHeader : listenerAuthority(listener);
  if (!URL.canParse(`https://${authority}/`)) {
    throw new MalformedHostError(`malformed Host header ${JSON.stringify(hostHeader)}`);
  }
  const target = incoming.url ?? "/";
  if (target.startsWith("/")) return `https://${authority}${target}`;
  // Absolute-form ("https://other/path") or asterisk-form targets: keep only the path and query.
  try {
    const parsed = new URL(target);
    return `https://${authority}${parsed.pathname}${parsed.search}`;
  } catch {
    return `https://${authority}/`;
  }
}

function listenerAuthority({ host, port }: ListenerAddress): string {
  const name = host === "" || host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return name.includes(":") ? `[${name}]:${port}` : `${name}:${port}`;
}

function bodyStreamOf(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  const chunks = incoming[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    cancel() {
      // The handler does not want the rest; drain it so the connection stays usable.
      incoming.resume();
    },
  });
}

/**
 * Writes `response` to `outgoing`: status, headers and the body streamed with backpressure (none for HEAD). A body
 * that fits in one chunk goes out with a Content-Length. Rejects if the body stream fails midway; the caller then
 * has to destroy the connection since the status line is already sent.
 */
export async function writeFetchResponse(outgoing: ServerResponse, response: Response, method: string): Promise<void> {
  outgoing.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") outgoing.setHeader(name, value);
  }
  setHardeningHeaders(outgoing);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outgoing.setHeader("set-cookie", cookies);
  if (method === "HEAD" || response.body === null) {
    if (method === "HEAD") await response.body?.cancel();
    outgoing.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    const first = await reader.read();
    if (first.done) {
      outgoing.end();
      return;
    }
    const second = await reader.read();
    if (second.done) {
      if (!outgoing.hasHeader("content-length")) outgoing.setHeader("content-length", first.value.byteLength);
      outgoing.end(first.value);
      return;
    }
    await writeChunk(outgoing, first.value);
    await writeChunk(outgoing, second.value);
    while (!outgoing.destroyed) {
      const chunk = await reader.read();
      if (chunk.done) break;
      await writeChunk(outgoing, chunk.value);
    }
    outgoing.end();
  } finally {
    // NB: stops a streaming body whose client went away; a no-op after the stream ended.
    reader.cancel().catch(() => {});
  }
}

/**
 * The headers kube-apiserver's filters put on responses: `Cache-Control: no-cache, private` unless the handler set
 * one (k8s.io/apiserver WithCacheControl: every answer is behind authentication), and `X-Content-Type-Options:
 * nosniff` (kube-apiserver sets it on its health and plain-text answers; here on all of them).
 */
export function setHardeningHeaders(outgoing: ServerResponse): void {
  if (!outgoing.hasHeader("cache-control")) outgoing.setHeader("cache-control", "no-cache, private");
  outgoing.setHeader("x-content-type-options", "nosniff");
}

function writeChunk(outgoing: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (outgoing.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      outgoing.off("drain", done);
      outgoing.off("close", done);
      resolve();
    };
    outgoing.on("drain", done);
    outgoing.on("close", done);
  });
}
