import { describe, expect, test } from "bun:test";
import { createMemoryLogger } from "../observability/logger.ts";
import { createSelfMetrics } from "../observability/self-metrics.ts";
import { ApiError } from "../apimachinery/status.ts";
import { createRequestHandler, routeLabels } from "./request-handler.ts";

const request = (path: string, headers: Record<string, string> = {}) =>
  new Request(`https://127.0.0.1:6443${path}`, { headers });

describe("the request handler", () => {
  test("beyond maxInFlight requests get 429 with Retry-After, and the next one is served again", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const handler = createRequestHandler({
      // The first two calls wait; a later one that reaches the app answers at once, so a wrong bound fails fast.
      handle: async () => {
        if (calls++ < 2) await gate;
        return new Response("ok");
      },
      metrics: createSelfMetrics({ processMetrics: false }),
      logger: createMemoryLogger(),
      maxInFlight: 2,
    });
    const first = handler(request("/healthz"));
    const second = handler(request("/healthz"));
    const third = await handler(request("/healthz"));
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("1");
    expect(((await third.json()) as { reason: string }).reason).toBe("TooManyRequests");
    release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect((await handler(request("/healthz"))).status).toBe(200);
  });

  test("the in-flight bound is exact: with maxInFlight 1 and one in flight, the next gets 429 at once", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const handler = createRequestHandler({
      // Only the first call waits; any later call that reaches the app answers at once (so a wrong bound fails fast).
      handle: async () => (calls++ === 0 ? (await gate, new Response("held")) : new Response("let through")),
      metrics: createSelfMetrics({ processMetrics: false }),
      logger: createMemoryLogger(),
      maxInFlight: 1,
    });
    const held = handler(request("/healthz"));
    const over = await handler(request("/healthz"));
    release();
    expect({ over: over.status, held: (await held).status }).toEqual({ over: 429, held: 200 });
  });

  test("Retry-After is set on 429 only, never on other error answers", async () => {
    const answers = [404, 500, 503, 429].map((code) => {
      const handler = createRequestHandler({
        handle: async () => {
          throw new ApiError(code, "InternalError", "failed");
        },
        metrics: createSelfMetrics({ processMetrics: false }),
        logger: createMemoryLogger(),
      });
      return handler(request("/apis")).then((response) => [response.status, response.headers.get("retry-after")]);
    });
    expect(await Promise.all(answers)).toEqual([
      [404, null],
      [500, null],
      [503, null],
      [429, "1"],
    ]);
  });

  test("a refused security check answers its Status and never reaches the app", async () => {
    let reached = false;
    const handler = createRequestHandler({
      handle: async () => ((reached = true), new Response("ok")),
      security: async () => {
        throw new ApiError(401, "Unauthorized", "Unauthorized");
      },
      metrics: createSelfMetrics({ processMetrics: false }),
      logger: createMemoryLogger(),
    });
    const response = await handler(request("/apis"));
    expect(response.status).toBe(401);
    expect(await response.text()).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}\n',
    );
    expect(reached).toBe(false);
  });

  test("requests are counted by route shape and logged at --v=2 without credentials", async () => {
    const metrics = createSelfMetrics({ processMetrics: false });
    const logger = createMemoryLogger(2);
    const handler = createRequestHandler({ handle: async () => new Response("{}", { status: 404 }), metrics, logger });
    await handler(
      request("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?metricLabelSelector=a%3Db", {
        authorization: "Bearer s3cr3t-token",
      }),
    );
    const text = await metrics.text();
    expect(text).toContain(
      'prom_adapter_requests_total{api="custom.metrics.k8s.io",version="v1beta2",route="namespaced-object",code="404"} 1',
    );
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain(
      'method=GET path="/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?metricLabelSelector=a%3Db" code=404',
    );
    expect(logger.lines.join("\n")).not.toContain("s3cr3t");
  });

  test.each([
    ["/healthz", { api: "", version: "", route: "health" }],
    ["/metrics", { api: "", version: "", route: "metrics" }],
    ["/apis", { api: "", version: "", route: "discovery" }],
    ["/apis/custom.metrics.k8s.io/v1beta1", { api: "custom.metrics.k8s.io", version: "v1beta1", route: "discovery" }],
    [
      "/apis/custom.metrics.k8s.io/v1beta1/nodes/n1/temp",
      { api: "custom.metrics.k8s.io", version: "v1beta1", route: "cluster-object" },
    ],
    [
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/metrics/m",
      { api: "custom.metrics.k8s.io", version: "v1beta1", route: "namespace-metric" },
    ],
    [
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue",
      { api: "external.metrics.k8s.io", version: "v1beta1", route: "external" },
    ],
    [
      "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods",
      { api: "metrics.k8s.io", version: "v1beta1", route: "pods-list" },
    ],
    ["/apis/metrics.k8s.io/v1beta1/nodes/n1", { api: "metrics.k8s.io", version: "v1beta1", route: "nodes-get" }],
    ["/apis/x/v1/namespaces/%zz/pods", { api: "", version: "", route: "invalid" }],
  ])("%s is labelled %o", (path, labels) => {
    expect(routeLabels("GET", new URL(`https://h${path}`))).toEqual(labels);
  });
});
