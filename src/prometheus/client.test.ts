import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startCaptureServer } from "../../test/support/capture-server.ts";
import {
  freePort,
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../../test/support/prometheus.ts";
import { createPrometheusClient, formatSeconds } from "./client.ts";
import { PrometheusError } from "./errors.ts";
import { createHttpTransport, type HttpTransportOptions } from "./http-transport.ts";
import { promql } from "../naming/promql.ts";
import type { QueryResult } from "./types.ts";
import { announceSkip } from "../../test/support/skip.ts";

// NB: bun 1.4.5 does not apply bunfig's [test] timeout; starting Prometheus needs more than the default 5 s on slow machines.
setDefaultTimeout(30_000);

const skipReason = prometheusSkipReason();
announceSkip("real-Prometheus client tests", skipReason);

function clientFor(baseUrl: string, options: Partial<HttpTransportOptions> = {}) {
  return createPrometheusClient(createHttpTransport({ baseUrl, ...options }));
}

async function rejection(promise: Promise<unknown>): Promise<PrometheusError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof PrometheusError)) throw new Error(`expected a PrometheusError, got ${String(error)}`);
  return error;
}

describe("formatSeconds", () => {
  test.each([
    { name: "whole seconds", seconds: 1714564800, expected: "1714564800" },
    { name: "milliseconds", seconds: 1714564800.123, expected: "1714564800.123" },
    { name: "trailing zeros dropped", seconds: 1714564800.5, expected: "1714564800.5" },
    { name: "rounded to milliseconds", seconds: 1714564800.12345, expected: "1714564800.123" },
    { name: "rounding up into the next second", seconds: 1714564800.9996, expected: "1714564801" },
    { name: "zero", seconds: 0, expected: "0" },
    { name: "negative", seconds: -1.5, expected: "-1.5" },
    { name: "large values without exponent", seconds: 1e12, expected: "1000000000000" },
  ])("formatSeconds writes $name like Go's model.Time", ({ seconds, expected }) => {
    expect(formatSeconds(seconds)).toBe(expected);
  });

  test("refuses NaN and infinities", () => {
    expect(() => formatSeconds(Number.NaN)).toThrow(RangeError);
    expect(() => formatSeconds(Infinity)).toThrow(RangeError);
  });
});

describe("request shape (capture server)", () => {
  test("series sends every match[] and start, sorted by key, and no end", async () => {
    await using server = startCaptureServer(() => Response.json({ status: "success", data: [] }));
    await clientFor(server.url).series(['up{job="a b"}', '{__name__=~"x|y"}'], 1714564800.123);
    expect(server.requests.map(({ method, pathAndQuery }) => ({ method, pathAndQuery }))).toEqual([
      {
        method: "GET",
        pathAndQuery:
          "/api/v1/series?match%5B%5D=up%7Bjob%3D%22a+b%22%7D&match%5B%5D=%7B__name__%3D~%22x%7Cy%22%7D&start=1714564800.123",
      },
    ]);
  });

  test("query sends query and time and no timeout parameter", async () => {
    await using server = startCaptureServer();
    await clientFor(server.url).query(promql("sum(rate(x[1m]))"), 1714564800);
    expect(server.requests.map(({ pathAndQuery }) => pathAndQuery)).toEqual([
      "/api/v1/query?query=sum%28rate%28x%5B1m%5D%29%29&time=1714564800",
    ]);
  });

  test("verb POST sends the same parameters as a form body", async () => {
    await using server = startCaptureServer();
    await clientFor(server.url, { verb: "POST" }).query(promql("up"), 1714564800);
    expect(
      server.requests.map(({ method, pathAndQuery, body, headers }) => ({
        method,
        pathAndQuery,
        body,
        type: headers["content-type"],
      })),
    ).toEqual([
      {
        method: "POST",
        pathAndQuery: "/api/v1/query",
        body: "query=up&time=1714564800",
        type: "application/x-www-form-urlencoded",
      },
    ]);
  });

  test("a GET whose URL would exceed 8192 bytes goes as POST; one of exactly 8192 bytes stays GET", async () => {
    await using server = startCaptureServer();
    const client = clientFor(server.url);
    const prefixLength = `${server.url}/api/v1/query?query=`.length + "&time=1".length;
    await client.query(promql("x".repeat(8192 - prefixLength)), 1);
    await client.query(promql("x".repeat(8193 - prefixLength)), 1);
    expect(
      server.requests.map(({ method, pathAndQuery }) => ({ method, length: server.url.length + pathAndQuery.length })),
    ).toEqual([
      { method: "GET", length: 8192 },
      { method: "POST", length: server.url.length + "/api/v1/query".length },
    ]);
  });

  test("maxGetUrlBytes moves the GET limit", async () => {
    await using server = startCaptureServer();
    await clientFor(server.url, { maxGetUrlBytes: 10 }).query(promql("up"), 1);
    expect(server.requests.map(({ method }) => method)).toEqual(["POST"]);
  });

  test.each([
    { name: "keeps the path prefix of the base URL", base: "/prefix", path: "/prefix/api/v1/query" },
    { name: "ignores a trailing slash of the base URL", base: "/a/b/", path: "/a/b/api/v1/query" },
    { name: "collapses doubled slashes like Go's path.Join", base: "//a//b", path: "/a/b/api/v1/query" },
    {
      name: "drops the query string and fragment of the base URL, as upstream does",
      base: "/p?tenant=x#frag",
      path: "/p/api/v1/query",
    },
  ])("$name", async ({ base, path }) => {
    await using server = startCaptureServer();
    await clientFor(`${server.url}${base}`).query(promql("up"), 1);
    expect(server.requests.map(({ pathAndQuery }) => pathAndQuery.split("?")[0])).toEqual([path]);
  });

  test("a response of the wrong shape is a bad_response naming the offending part", async () => {
    await using server = startCaptureServer(() =>
      Response.json({
        status: "success",
        data: { resultType: "vector", result: [{ metric: { a: 1 }, value: [1, "2"] }] },
      }),
    );
    const error = await rejection(clientFor(server.url).query(promql("up"), 1));
    expect({ kind: error.kind, message: error.message, url: error.url }).toEqual({
      kind: "bad_response",
      message: "bad_response: query result[0].metric.a: expected a string, got number",
      url: `${server.url}/api/v1/query`,
    });
  });

  test.each([
    {
      name: "an unknown resultType",
      data: { resultType: "histogram", result: [] },
      message: 'bad_response: query data: unknown resultType "histogram"',
    },
    {
      name: "a sample without a value pair",
      data: { resultType: "scalar", result: [1] },
      message: 'bad_response: query result: expected [<seconds>, "<value>"], got [1]',
    },
    {
      name: "a native histogram sample",
      data: { resultType: "vector", result: [{ metric: {}, histogram: [1, {}] }] },
      message: "bad_response: query result[0]: native histogram samples are not supported",
    },
  ])("rejects $name", async ({ data, message }) => {
    await using server = startCaptureServer(() => Response.json({ status: "success", data }));
    expect((await rejection(clientFor(server.url).query(promql("up"), 1))).message).toBe(message);
  });

  test("series data that is not a list of label sets is a bad_response", async () => {
    await using server = startCaptureServer(() => Response.json({ status: "success", data: { not: "a list" } }));
    expect((await rejection(clientFor(server.url).series(["up"], 1))).message).toBe(
      "bad_response: series data: expected a list, got object",
    );
  });
});

describe.skipIf(skipReason !== null)("against a real Prometheus", () => {
  const now = Math.floor(Date.now() / 1000);
  let prometheus: RunningPrometheus;
  let prefixed: RunningPrometheus;

  beforeAll(async () => {
    const openMetrics = openMetricsText([
      {
        name: "http_requests_total",
        type: "counter",
        labels: { namespace: "default", pod: "web-1" },
        samples: [
          [now - 60, 10],
          [now - 5, 42],
        ],
      },
      { name: "queue_depth", labels: { queue: "a" }, samples: [[now - 3, 7.5]] },
      { name: "old_metric", labels: { pod: "gone" }, samples: [[now - 3600, 1]] },
      { name: "special", labels: { case: "nan" }, samples: [[now - 3, Number.NaN]] },
      { name: "special", labels: { case: "inf" }, samples: [[now - 3, Infinity]] },
      { name: "special", labels: { case: "minus_inf" }, samples: [[now - 3, -Infinity]] },
    ]);
    [prometheus, prefixed] = await Promise.all([
      startPrometheus({ openMetrics }),
      startPrometheus({ openMetrics, routePrefix: "/prefix" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([prometheus?.stop(), prefixed?.stop()]);
  });

  test("series returns the label sets of the series with samples at or after start", async () => {
    const client = clientFor(prometheus.url);
    const match = ['{__name__=~"http_requests_total|old_metric"}'];
    expect(await client.series(match, now - 120)).toEqual([
      { __name__: "http_requests_total", namespace: "default", pod: "web-1" },
    ]);
    const sinceTwoHours = await client.series(match, now - 7200);
    expect(sinceTwoHours.map((labels) => labels.__name__).sort()).toEqual(["http_requests_total", "old_metric"]);
  });

  test("series with several match[] returns the union", async () => {
    const series = await clientFor(prometheus.url).series(["queue_depth", 'special{case="nan"}'], now - 120);
    expect(series.map((labels) => labels.__name__).sort()).toEqual(["queue_depth", "special"]);
  });

  test.each<{ name: string; query: string; expected: (time: number) => QueryResult }>([
    {
      name: "a vector",
      query: "queue_depth",
      expected: (time) => ({
        resultType: "vector",
        result: [{ metric: { __name__: "queue_depth", queue: "a" }, timestampSeconds: time, value: "7.5" }],
      }),
    },
    {
      name: "a scalar",
      query: "scalar(queue_depth)",
      expected: (time) => ({ resultType: "scalar", result: { timestampSeconds: time, value: "7.5" } }),
    },
    {
      name: "a matrix",
      query: "http_requests_total[2m]",
      expected: () => ({
        resultType: "matrix",
        result: [
          {
            metric: { __name__: "http_requests_total", namespace: "default", pod: "web-1" },
            values: [
              { timestampSeconds: now - 60, value: "10" },
              { timestampSeconds: now - 5, value: "42" },
            ],
          },
        ],
      }),
    },
    {
      name: "a string",
      query: '"hello"',
      expected: (time) => ({ resultType: "string", result: { timestampSeconds: time, value: "hello" } }),
    },
  ])("query returns $name", async ({ query, expected }) => {
    const time = now + 0.25;
    expect(await clientFor(prometheus.url).query(promql(query), time)).toEqual(expected(time));
  });

  test("query keeps NaN and infinities as the raw sample text", async () => {
    const result = await clientFor(prometheus.url).query(promql("special"), now);
    if (result.resultType !== "vector") throw new Error(`expected a vector, got ${result.resultType}`);
    expect(Object.fromEntries(result.result.map(({ metric, value }) => [metric.case, value]))).toEqual({
      nan: "NaN",
      inf: "+Inf",
      minus_inf: "-Inf",
    });
  });

  test("POST gives the same answers as GET", async () => {
    const get = clientFor(prometheus.url, { verb: "GET" });
    const post = clientFor(prometheus.url, { verb: "POST" });
    expect(await post.query(promql("http_requests_total"), now)).toEqual(
      await get.query(promql("http_requests_total"), now),
    );
    expect(await post.series(["queue_depth"], now - 120)).toEqual(await get.series(["queue_depth"], now - 120));
  });

  test("a query longer than 8 KiB is answered (sent as POST)", async () => {
    const alternatives = Array.from({ length: 2000 }, (_, index) => `q${index}`).join("|");
    const query = `queue_depth{queue=~"${alternatives}|a"}`;
    expect(query.length).toBeGreaterThan(8192);
    const result = await clientFor(prometheus.url).query(promql(query), now);
    expect(result.resultType === "vector" ? result.result.map(({ value }) => value) : result).toEqual(["7.5"]);
  });

  test("a Prometheus served under a route prefix is reached through the prefixed base URL", async () => {
    expect(prefixed.url.endsWith("/prefix")).toBe(true);
    for (const base of [prefixed.url, `${prefixed.url}/`]) {
      expect(await clientFor(base).series(["queue_depth"], now - 120)).toEqual([
        { __name__: "queue_depth", queue: "a" },
      ]);
    }
    const error = await rejection(clientFor(`http://127.0.0.1:${prefixed.port}`).query(promql("queue_depth"), now));
    expect(error.message).toBe("bad_response: unknown response code 404");
  });

  test("bad PromQL is an api error `bad_data: <Prometheus' message>`", async () => {
    const error = await rejection(clientFor(prometheus.url).query(promql("sum(("), now));
    expect({
      kind: error.kind,
      errorType: error.errorType,
      statusCode: error.statusCode,
      endpoint: error.endpoint,
    }).toEqual({
      kind: "api",
      errorType: "bad_data",
      statusCode: 400,
      endpoint: "query",
    });
    expect(error.message).toStartWith('bad_data: invalid parameter "query": 1:');
  });

  test("a paused Prometheus times out with kind timeout", async () => {
    const paused = await startPrometheus();
    try {
      paused.pause();
      const client = createPrometheusClient(createHttpTransport({ baseUrl: paused.url }), { queryTimeoutMs: 200 });
      const error = await rejection(client.query(promql("up"), now));
      expect({ kind: error.kind, message: error.message }).toEqual({
        kind: "timeout",
        message: "timeout: no complete response within 200 ms",
      });
    } finally {
      await paused.stop();
    }
  });

  test("a killed Prometheus refuses connections: kind network", async () => {
    const doomed = await startPrometheus();
    await doomed.kill();
    const error = await rejection(clientFor(doomed.url).series(["up"], now));
    expect(error.kind).toBe("network");
    expect(error.message).toStartWith("network: ");
  });
});

describe("without Prometheus", () => {
  test("a port nobody listens on gives kind network with the endpoint and URL", async () => {
    const port = await freePort();
    const error = await rejection(clientFor(`http://127.0.0.1:${port}/p`).query(promql("up"), 1));
    expect({ kind: error.kind, endpoint: error.endpoint, url: error.url }).toEqual({
      kind: "network",
      endpoint: "query",
      url: `http://127.0.0.1:${port}/p/api/v1/query`,
    });
    expect(error.message).toContain("ECONNREFUSED");
  });
});
