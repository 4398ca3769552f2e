/**
 * A proxy in front of a real Prometheus that can be told to misbehave: answer 5xx, HTML, truncated JSON, a huge
 * body, or never answer. Used to check that every Prometheus fault becomes a quick Status error and is recovered from.
 * Two modes play an old or partial backend on the label endpoints (`/api/v1/labels`, `/api/v1/label/<l>/values`)
 * only: `reject-label-match` answers 400 `bad_data` when they carry `match[]`, `ignore-label-match` drops `match[]`.
 */
export type ProxyMode =
  | "pass"
  | "502"
  | "html"
  | "truncated"
  | "huge"
  | "hang"
  | "reject-label-match"
  | "ignore-label-match";

const LABEL_ENDPOINT = /\/api\/v1\/(labels|label\/[^/]+\/values)$/;

export interface FaultyProxy {
  readonly url: string;
  setMode(mode: ProxyMode): void;
  /** Requests seen so far (path with query string, headers, POST body). */
  requests(): readonly { readonly url: string; readonly headers: Headers; readonly body: string }[];
  /**
   * In "pass" mode: delay every answer by `latencyMs` (plus up to `jitterMs`) and answer 503 to a `failureRate`
   * fraction of requests. Default none.
   */
  setTrouble(trouble: { latencyMs?: number; jitterMs?: number; failureRate?: number }): void;
  /** Forwards to another upstream from now on (a restarted Prometheus on a new port). */
  setUpstream(url: string): void;
  stop(): Promise<void>;
}

export function startFaultyProxy(initialUpstream: string): FaultyProxy {
  let upstream = initialUpstream;
  let mode: ProxyMode = "pass";
  let trouble = { latencyMs: 0, jitterMs: 0, failureRate: 0 };
  const seen: { url: string; headers: Headers; body: string }[] = [];
  const hanging = new Set<() => void>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const requestBody = request.method === "POST" ? await request.clone().text() : "";
      seen.push({ url: `${url.pathname}${url.search}`, headers: request.headers, body: requestBody });
      const labelMatch =
        LABEL_ENDPOINT.test(url.pathname) &&
        (url.searchParams.has("match[]") || new URLSearchParams(requestBody).has("match[]"));
      if (labelMatch && mode === "reject-label-match") {
        const body = '{"status":"error","errorType":"bad_data","error":"match[] is not supported on this endpoint"}';
        return new Response(body, { status: 400, headers: { "content-type": "application/json" } });
      }
      if (labelMatch && mode === "ignore-label-match") {
        url.searchParams.delete("match[]");
        return fetch(`${upstream}${url.pathname}${url.search}`, { headers: { "accept-encoding": "identity" } });
      }
      switch (mode) {
        case "502":
          return new Response("upstream connect error", { status: 502 });
        case "html":
          return new Response("<html><body>Login required</body></html>", {
            status: 200,
            headers: { "content-type": "text/html" },
          });
        case "truncated":
          return new Response('{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"w', {
            headers: { "content-type": "application/json" },
          });
        case "huge": {
          const chunk = new TextEncoder().encode(`${" ".repeat(1 << 20)}`);
          let sent = 0;
          return new Response(
            new ReadableStream({
              pull(controller) {
                if (sent++ > 400) controller.close();
                else controller.enqueue(chunk);
              },
            }),
            { headers: { "content-type": "application/json" } },
          );
        }
        case "hang":
          return new Promise<Response>((resolve) => hanging.add(() => resolve(new Response("late", { status: 503 }))));
        default: {
          const delay = trouble.latencyMs + Math.random() * trouble.jitterMs;
          if (delay > 0) await Bun.sleep(delay);
          if (Math.random() < trouble.failureRate)
            return new Response('{"status":"error","errorType":"unavailable","error":"injected"}', { status: 503 });
          const body = request.method === "POST" ? await request.text() : undefined;
          const headers = new Headers(request.headers);
          headers.delete("accept-encoding");
          let answer: Response;
          try {
            answer = await fetch(`${upstream}${url.pathname}${url.search}`, { method: request.method, headers, body });
          } catch {
            // The upstream is down (killed): answer like a load balancer in front of it.
            return new Response("upstream connect error", { status: 502 });
          }
          // NB: fetch has already decoded the body; pass it on without the upstream's encoding headers.
          return new Response(await answer.arrayBuffer(), {
            status: answer.status,
            headers: { "content-type": answer.headers.get("content-type") ?? "application/json" },
          });
        }
      }
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests: () => seen,
    setTrouble(next) {
      trouble = { latencyMs: next.latencyMs ?? 0, jitterMs: next.jitterMs ?? 0, failureRate: next.failureRate ?? 0 };
    },
    setUpstream(url) {
      upstream = url;
    },
    setMode(next) {
      mode = next;
      if (next !== "hang") for (const release of hanging) release();
      if (next !== "hang") hanging.clear();
    },
    async stop() {
      for (const release of hanging) release();
      await server.stop(true);
    },
  };
}
