import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createPrometheusClient } from "../prometheus/client.ts";
import { createHttpTransport } from "../prometheus/http-transport.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../../test/support/prometheus.ts";
import { restrictToNames, SelectorShapeError, withMatcher } from "./name-restricted-selector.ts";
import { announceSkip } from "../../test/support/skip.ts";

// NB: bun 1.4.5 does not apply bunfig's [test] timeout; starting Prometheus needs more than the default 5 s on slow machines.
setDefaultTimeout(30_000);

describe("narrowing a series selector to metric names", () => {
  test.each([
    {
      name: "braces only",
      selector: '{namespace!="",__name__!~"^container_.*"}',
      names: ["a", "b"],
      expected: '{namespace!="",__name__!~"^container_.*",__name__=~"a|b"}',
    },
    { name: "empty braces", selector: "{}", names: ["a"], expected: '{__name__=~"a"}' },
    {
      name: "a trailing comma",
      selector: '{ namespace!="", }',
      names: ["a"],
      expected: '{namespace!="",__name__=~"a"}',
    },
    {
      name: "braces inside quoted values",
      selector: '{path="}{",q=\'a"}\',r=`}`}',
      names: ["a"],
      expected: '{path="}{",q=\'a"}\',r=`}`,__name__=~"a"}',
    },
    {
      name: "regex characters in names",
      selector: '{job!=""}',
      names: ["a.b", "c:d"],
      expected: '{job!="",__name__=~"a\\\\.b|c:d"}',
    },
    {
      name: "a metric name that is listed",
      selector: 'http_requests_total{job="x"}',
      names: ["other", "http_requests_total"],
      expected: 'http_requests_total{job="x"}',
    },
    { name: "a bare metric name that is listed", selector: "up", names: ["up"], expected: "up" },
    { name: "a metric name that is not listed", selector: 'up{job="x"}', names: ["down"], expected: null },
    { name: "no names", selector: "{}", names: [], expected: null },
  ])("$name", ({ selector, names, expected }) => {
    expect(restrictToNames(selector, names)).toBe(expected);
  });

  test.each(["", "sum(up)", '{a="b"} or up', '{a="b"', "{a={}}"])("%p cannot be read", (selector) => {
    expect(() => restrictToNames(selector, ["a"])).toThrow(SelectorShapeError);
  });
});

describe("adding a matcher to a series selector", () => {
  test.each([
    { selector: '{namespace!="",__name__=~"^app_.*"}', expected: '{namespace!="",__name__=~"^app_.*",pod!=""}' },
    { selector: "{}", expected: '{pod!=""}' },
    { selector: '{ namespace!="", }', expected: '{namespace!="",pod!=""}' },
    { selector: 'up{job="x"}', expected: 'up{job="x",pod!=""}' },
    { selector: "up", expected: 'up{pod!=""}' },
    { selector: '{path="}{"}', expected: '{path="}{",pod!=""}' },
  ])("$selector", ({ selector, expected }) => {
    expect(withMatcher(selector, 'pod!=""')).toBe(expected);
  });

  test.each(["", "sum(up)", '{a="b"} or up', '{a="b"'])("%p cannot be read", (selector) => {
    expect(() => withMatcher(selector, 'pod!=""')).toThrow(SelectorShapeError);
  });
});

const skipReason = prometheusSkipReason();
announceSkip("narrowed selectors against a real Prometheus", skipReason);
describe.skipIf(skipReason !== null)("narrowed selectors against a real Prometheus", () => {
  let prometheus: RunningPrometheus;
  const now = Math.floor(Date.now() / 1000) - 10;
  beforeAll(async () => {
    prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        { name: "app_a", labels: { namespace: "x", pod: "p1" }, samples: [[now, 1]] },
        { name: "app_a", labels: { namespace: "", pod: "p2" }, samples: [[now, 1]] },
        { name: "app_b", labels: { namespace: "y", pod: "p1" }, samples: [[now, 1]] },
        { name: "app_c", labels: { namespace: "y", pod: "p1" }, samples: [[now, 1]] },
        { name: "container_cpu", labels: { namespace: "x", pod: "p1" }, samples: [[now, 1]] },
      ]),
    });
  });
  afterAll(() => prometheus?.stop());

  test("select exactly the original selector's series that have one of the names", async () => {
    const client = createPrometheusClient(createHttpTransport({ baseUrl: prometheus.url }));
    const selector = '{namespace!="",__name__!~"^container_.*"}';
    const names = ["app_a", "container_cpu", "app_c", "never_seen"];
    const all = await client.series([selector], now - 60);
    const narrowed = await client.series([restrictToNames(selector, names) as string], now - 60);
    const key = (labels: Record<string, string>) => JSON.stringify(labels);
    expect(narrowed.map(key).sort()).toEqual(
      all
        .filter((labels) => names.includes(labels.__name__ ?? ""))
        .map(key)
        .sort(),
    );
    expect(narrowed.length).toBe(2);
  });
});
