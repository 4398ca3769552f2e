/**
 * A stand-in for three podinfo pods behind one local HTTP server, for the demo: each simulated pod serves real HTTP
 * requests sent by a built-in load generator at about 0.9 per second, and `/metrics` exposes podinfo's counter with
 * the labels a Prometheus Operator ServiceMonitor's relabelling would add:
 *
 *   http_requests_total{namespace="default",pod="podinfo-7cd8684594-vcrcj",service="podinfo",container="podinfod",endpoint="http-metrics",status="200"} 541
 *
 * Routes: `GET /metrics`; `GET /pods/<pod name>` (one request for that pod); `GET /` (one request for the next pod,
 * round robin), so `curl` in a loop adds load.
 *
 * The pods are taken to have been under that load for a while before the demo starts: {@link PodinfoSim.history}
 * gives the counters' past as OpenMetrics text for promtool, so rate() over the default 5m window has data at once
 * instead of after five minutes of scraping; the live counters continue from where that history ends.
 */

/** Options of {@link startPodinfoSim}. */
export interface PodinfoSimOptions {
  readonly namespace?: string;
  /** Pod names and the requests per second the load generator sends to each. Default: three pods at 0.85, 0.9, 0.95. */
  readonly pods?: readonly { readonly name: string; readonly requestsPerSecond: number }[];
  /** How long (seconds) the pods have been under that load when the simulation starts. Default 600. */
  readonly historySeconds?: number;
  /** Wall clock in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/** A running simulation started by {@link startPodinfoSim}. */
export interface PodinfoSim {
  /** `127.0.0.1:<port>`, for a Prometheus scrape target. */
  readonly target: string;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly namespace: string;
  readonly pods: readonly string[];
  /**
   * The counters' values every `intervalSeconds` over the history, up to the second the simulation started, as
   * OpenMetrics text (timestamps in seconds). `targetLabels` are the labels Prometheus adds when it
   * scrapes (`job`, `instance`), so the history and the live scrapes form one series.
   */
  history(targetLabels: Readonly<Record<string, string>>, intervalSeconds: number): string;
  /** Requests served live (not counting the history) per pod. */
  served(): Readonly<Record<string, number>>;
  /** Stops the load generator and the server. */
  stop(): Promise<void>;
}

const DEFAULT_PODS = [
  { name: "podinfo-7cd8684594-vcrcj", requestsPerSecond: 0.85 },
  { name: "podinfo-7cd8684594-2xq7m", requestsPerSecond: 0.9 },
  { name: "podinfo-7cd8684594-h9tdl", requestsPerSecond: 0.95 },
] as const;

/** Starts the server on a free 127.0.0.1 port and the load generator. */
export function startPodinfoSim({
  namespace = "default",
  pods = DEFAULT_PODS,
  historySeconds = 600,
  now = Date.now,
}: PodinfoSimOptions = {}): PodinfoSim {
  const startedSeconds = Math.floor(now() / 1000);
  const historyEnd = (rate: number) => Math.floor(rate * historySeconds);
  const served = new Map<string, number>(pods.map((pod) => [pod.name, 0]));
  const labels = (pod: string) =>
    `namespace="${namespace}",pod="${pod}",service="podinfo",container="podinfod",endpoint="http-metrics",status="200"`;
  let nextPod = 0;

  const serve = (pod: string) => {
    served.set(pod, (served.get(pod) ?? 0) + 1);
    return Response.json({ hostname: pod, message: "greetings from podinfo (simulated)" });
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === "/metrics") {
        const lines = [
          "# HELP http_requests_total The total number of HTTP requests.",
          "# TYPE http_requests_total counter",
        ];
        for (const pod of pods)
          lines.push(
            `http_requests_total{${labels(pod.name)}} ${historyEnd(pod.requestsPerSecond) + (served.get(pod.name) ?? 0)}`,
          );
        return new Response(`${lines.join("\n")}\n`, {
          headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
        });
      }
      if (pathname === "/") return serve(pods[nextPod++ % pods.length]!.name);
      const pod = /^\/pods\/([^/]+)$/.exec(pathname)?.[1];
      if (pod !== undefined && served.has(pod)) return serve(pod);
      return new Response("not found\n", { status: 404 });
    },
  });
  const url = `http://127.0.0.1:${server.port}`;

  // NB: one timer per pod at its own rate; each tick is a real HTTP request, counted by the handler above.
  const timers = pods.map((pod) =>
    setInterval(() => {
      fetch(`${url}/pods/${pod.name}`).then(
        (response) => response.body?.cancel(),
        () => {},
      );
    }, 1000 / pod.requestsPerSecond),
  );

  return {
    target: `127.0.0.1:${server.port}`,
    url,
    namespace,
    pods: pods.map((pod) => pod.name),
    history(targetLabels, intervalSeconds) {
      const extra = Object.entries(targetLabels)
        .map(([name, value]) => `,${name}="${value}"`)
        .join("");
      const lines = ["# HELP http_requests The total number of HTTP requests.", "# TYPE http_requests counter"];
      for (const pod of pods) {
        // The pod started `historySeconds` before the simulation; the last sample is the live counter's start value.
        // NB: nothing later than now: Prometheus drops scraped samples older than the newest backfilled one.
        for (let age = historySeconds; age >= 0; age -= intervalSeconds) {
          const elapsed = historySeconds - age;
          lines.push(
            `http_requests_total{${labels(pod.name)}${extra}} ${Math.floor(pod.requestsPerSecond * elapsed)} ${startedSeconds - age}`,
          );
        }
      }
      lines.push("# EOF");
      return `${lines.join("\n")}\n`;
    },
    served: () => Object.fromEntries(served),
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await server.stop(true);
    },
  };
}
