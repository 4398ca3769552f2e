import { describe, expect, test } from "bun:test";
import { parseRulesText } from "../config/load.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import type { SeriesLabels } from "../prometheus/types.ts";
import { createManualClock } from "../util/clock.ts";
import { createRelister } from "./relister.ts";

const RULES = `rules:
- seriesQuery: '{__name__=~"^http_.*",namespace!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
- seriesQuery: '{__name__=~"^http_.*",namespace!=""}'
  resources: {template: <<.Resource>>}
  seriesFilters: [{isNot: _total$}]
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compiled = compileRules(parseRulesText(RULES, "rules.yaml"), () => mapper);

/** A series source whose answers the test releases one by one. */
function pendingSource() {
  const calls: {
    matches: readonly string[];
    start: number;
    resolve: (s: SeriesLabels[]) => void;
    reject: (e: Error) => void;
  }[] = [];
  return {
    calls,
    series: (matches: readonly string[], start: number) =>
      new Promise<SeriesLabels[]>((resolve, reject) => {
        calls.push({ matches, start, resolve, reject });
      }),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const metricNames = (relister: ReturnType<typeof createRelister>) =>
  relister
    .current()
    .registry.customMetrics()
    .map((e) => `${e.resource.resource}/${e.metric}`);

describe("the relister", () => {
  test("one series call per distinct seriesQuery, starting max-age ago", async () => {
    const source = pendingSource();
    const clock = createManualClock(1_714_564_800_000);
    const relister = createRelister({
      source,
      rules: () => compiled,
      interval: 60_000,
      maxAge: 120_000,
      clock,
      logger: createMemoryLogger(),
    });
    const run = relister.runOnce();
    await tick();
    expect(source.calls.map((c) => [c.matches, c.start])).toEqual([
      [['{__name__=~"^http_.*",namespace!=""}'], 1_714_564_680],
    ]);
    source.calls[0]?.resolve([
      { __name__: "http_requests_total", namespace: "a", pod: "p1" },
      { __name__: "http_requests_total", namespace: "a", pod: "p2" },
      { __name__: "http_inflight", namespace: "a", pod: "p1" },
    ]);
    expect(await run).toBe(true);
    expect(metricNames(relister)).toEqual([
      "namespaces/http_inflight",
      "pods/http_inflight",
      "namespaces/http_requests",
      "pods/http_requests",
    ]);
    expect(relister.current().seriesSeen).toBe(3);
  });

  test("is not ready before the first success, and a failed run keeps the previous registry", async () => {
    const source = pendingSource();
    const logger = createMemoryLogger();
    const relister = createRelister({ source, rules: () => compiled, clock: createManualClock(), logger });
    expect(relister.ready()).toBe(false);

    const first = relister.runOnce();
    await tick();
    source.calls[0]?.reject(new Error("connection refused"));
    expect(await first).toBe(false);
    expect(relister.ready()).toBe(false);

    const second = relister.runOnce();
    await tick();
    source.calls[1]?.resolve([{ __name__: "http_requests_total", namespace: "a", pod: "p1" }]);
    expect(await second).toBe(true);
    expect(relister.ready()).toBe(true);
    const before = relister.current();

    const third = relister.runOnce();
    await tick();
    source.calls[2]?.reject(new Error("bad_response: unknown response code 502"));
    expect(await third).toBe(false);
    expect(relister.current()).toBe(before);
    expect(relister.ready()).toBe(true);
    expect(
      logger.lines.filter((l) => l.includes("discovery failed; keeping the previous metric registry")),
    ).toHaveLength(2);
  });

  test("a run asked for while one is in flight joins it instead of overlapping", async () => {
    const source = pendingSource();
    const relister = createRelister({
      source,
      rules: () => compiled,
      clock: createManualClock(),
      logger: createMemoryLogger(),
    });
    const a = relister.runOnce();
    const b = relister.runOnce();
    await tick();
    expect(source.calls).toHaveLength(1);
    source.calls[0]?.resolve([]);
    expect(await a).toBe(true);
    expect(await b).toBe(true);
  });

  test("an empty registry after discovery still counts as ready", async () => {
    const source = pendingSource();
    const relister = createRelister({
      source,
      rules: () => compiled,
      clock: createManualClock(),
      logger: createMemoryLogger(),
    });
    const run = relister.runOnce();
    await tick();
    source.calls[0]?.resolve([]);
    await run;
    expect(relister.ready()).toBe(true);
    expect(metricNames(relister)).toEqual([]);
  });
});

describe("the relist loop", () => {
  test("after a failed run it retries within about a second instead of waiting the whole interval", async () => {
    let calls = 0;
    let secondCall: () => void = () => {};
    const retried = new Promise<void>((resolve) => (secondCall = resolve));
    const relister = createRelister({
      source: {
        series: async () => {
          calls++;
          if (calls === 1) throw new Error("connection refused");
          secondCall();
          return [];
        },
      },
      rules: () => compiled,
      interval: 3_600_000,
      freshInterval: 0,
      clock: createManualClock(),
      logger: createMemoryLogger(),
    });
    relister.start();
    await retried;
    relister.stop();
    expect(calls).toBe(2);
  });
});
