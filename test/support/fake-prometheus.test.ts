import { describe, expect, test } from "bun:test";
import type { PromQL } from "../../src/naming/promql.ts";
import { PrometheusError, type PrometheusErrorKind } from "../../src/prometheus/errors.ts";
import type { QueryResult } from "../../src/prometheus/types.ts";
import { createFakePrometheus, prometheusFailure } from "./fake-prometheus.ts";

const T = 1_714_564_800;
const q = (text: string) => text as PromQL;
const HTTP = '{__name__=~"^http_.*",pod!=""}';
const QUEUE = '{__name__="queue_depth"}';
const SERIES = {
  [HTTP]: [
    { __name__: "http_requests_total", namespace: "default", pod: "web-0" },
    { __name__: "http_errors_total", namespace: "other", pod: "web-1" },
  ],
  [QUEUE]: [{ __name__: "queue_depth", queue: "orders", namespace: "default" }],
};

describe("fake Prometheus queries", () => {
  test("a query in the table gets its answer; a list of samples is a vector", async () => {
    const scalar: QueryResult = { resultType: "scalar", result: { value: "1", timestampSeconds: T } };
    const sample = { metric: { pod: "a" }, value: "2", timestampSeconds: T };
    const prometheus = createFakePrometheus({ queries: { "scalar(x)": scalar, x: [sample] } });
    expect(await prometheus.query(q("scalar(x)"), T)).toEqual(scalar);
    expect(await prometheus.query(q("x"), T)).toEqual({ resultType: "vector", result: [sample] });
  });

  test("a query missing from the table gets an empty vector by default", async () => {
    expect(await createFakePrometheus().query(q("up"), T)).toEqual({ resultType: "vector", result: [] });
  });

  test("with unknownQuery reject, a query missing from the table is an api error naming it", async () => {
    const prometheus = createFakePrometheus({ unknownQuery: "reject" });
    const error = await prometheus.query(q("up"), T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusError);
    expect(error).toMatchObject({ kind: "api", message: "execution: unexpected query up" });
  });

  test("an error in the table is what the call rejects with", async () => {
    const failure = prometheusFailure("timeout");
    const prometheus = createFakePrometheus({ queries: { up: failure } });
    expect(await prometheus.query(q("up"), T).catch((e: unknown) => e)).toBe(failure);
  });

  test("every query is recorded with its time and extras, failed ones too", async () => {
    const prometheus = createFakePrometheus({ queries: { down: prometheusFailure("network") } });
    await prometheus.query(q("up"), T);
    const extras = { parameters: { dedup: "true" }, headers: {} };
    await prometheus.query(q("down"), T + 1, undefined, extras).catch(() => {});
    expect(prometheus.calls).toEqual([
      { endpoint: "query", query: "up", timeSeconds: T },
      { endpoint: "query", query: "down", timeSeconds: T + 1, extras },
    ]);
    expect<readonly unknown[]>(prometheus.queryCalls).toEqual(prometheus.calls);
    expect(prometheus.queries()).toEqual(["up", "down"]);
  });

  test("an aborted signal rejects with its reason, after the call is recorded", async () => {
    const prometheus = createFakePrometheus();
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    const rejected = await prometheus.query(q("up"), T, controller.signal).catch((e: unknown) => e);
    expect((rejected as Error).message).toBe("gone");
    expect(prometheus.queries()).toEqual(["up"]);
  });
});

describe("fake Prometheus series and label values", () => {
  test("series answers the selectors' label sets in selector order; unknown selectors match nothing", async () => {
    const prometheus = createFakePrometheus({ series: SERIES });
    const found = await prometheus.series([QUEUE, "{nothing}", HTTP], T);
    expect(found.map((labels) => labels.__name__)).toEqual(["queue_depth", "http_requests_total", "http_errors_total"]);
    expect(prometheus.calls).toEqual([{ endpoint: "series", matches: [QUEUE, "{nothing}", HTTP], startSeconds: T }]);
    expect(prometheus.queryCalls).toEqual([]);
  });

  test("streamSeries visits each series' name and other label names, and resolves with the count", async () => {
    const prometheus = createFakePrometheus({ series: SERIES });
    const seen: [string | undefined, string[]][] = [];
    const count = await prometheus.streamSeries([HTTP], T, (name, labels) => seen.push([name, [...labels]]));
    expect(count).toBe(2);
    expect(seen).toEqual([
      ["http_requests_total", ["namespace", "pod"]],
      ["http_errors_total", ["namespace", "pod"]],
    ]);
  });

  test("a series error rejects the calls that match it; label values without matches still answer", async () => {
    const failure = prometheusFailure("bad_response", { endpoint: "series" });
    const prometheus = createFakePrometheus({ series: { "{a}": failure, [QUEUE]: SERIES[QUEUE] } });
    expect(await prometheus.series(["{a}"], T).catch((e: unknown) => e)).toBe(failure);
    expect(await prometheus.streamSeries(["{a}"], T, () => {}).catch((e: unknown) => e)).toBe(failure);
    expect(await prometheus.labelValues("queue", T, ["{a}"]).catch((e: unknown) => e)).toBe(failure);
    expect(await prometheus.labelValues("queue", T)).toEqual(["orders"]);
  });

  test("label values come from the series tables, distinct and sorted; matches narrow them", async () => {
    const prometheus = createFakePrometheus({ series: SERIES });
    expect(await prometheus.labelValues("namespace", T)).toEqual(["default", "other"]);
    const names = ["http_errors_total", "http_requests_total", "queue_depth"];
    expect(await prometheus.labelValues("__name__", T)).toEqual(names);
    expect(await prometheus.labelValues("pod", T, [QUEUE])).toEqual([]);
    const last = { endpoint: "label values" as const, label: "pod", matches: [QUEUE], startSeconds: T };
    expect(prometheus.calls.at(-1)).toEqual(last);
  });

  test("label names are the union over the matching series, sorted; without matches every table's", async () => {
    const prometheus = createFakePrometheus({ series: SERIES });
    expect(await prometheus.labelNames([QUEUE], T)).toEqual(["__name__", "namespace", "queue"]);
    expect(await prometheus.labelNames([], T)).toEqual(["__name__", "namespace", "pod", "queue"]);
    expect(prometheus.calls.at(-1)).toEqual({ endpoint: "label names", matches: [], startSeconds: T });
  });
});

describe("prometheusFailure", () => {
  test.each<[PrometheusErrorKind, string, number | undefined, string | undefined]>([
    ["network", "network: connection refused", undefined, undefined],
    ["timeout", "timeout: no complete response within 10000 ms", undefined, undefined],
    ["api", "execution: query processing would load too many samples into memory", 422, "execution"],
    ["bad_response", "bad_response: unknown response code 502", 502, undefined],
    ["too_large", "too_large: response body exceeds 67108864 bytes", 200, undefined],
  ])("a %s failure has the real client's message prefix, status and errorType", (kind, message, status, type) => {
    const url = "http://prometheus.test:9090/api/v1/query";
    const expected = { kind, message, statusCode: status, errorType: type, endpoint: "query", url };
    expect(prometheusFailure(kind)).toMatchObject(expected);
  });

  test("the detail replaces the typical text after the prefix", () => {
    const error = prometheusFailure("api", { detail: "bad", endpoint: "series" });
    expect(error).toMatchObject({ message: "execution: bad", endpoint: "series" });
  });
});
