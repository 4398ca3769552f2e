import { describe, expect, test } from "bun:test";
import { parseRulesText } from "../config/load.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import { createPrometheusClient } from "../prometheus/client.ts";
import { createHttpTransport } from "../prometheus/http-transport.ts";
import type { SeriesVisitor } from "../prometheus/series-stream.ts";
import type { SeriesLabels } from "../prometheus/types.ts";
import { createManualClock } from "../util/clock.ts";
import { startCaptureServer } from "../../test/support/capture-server.ts";
import { createRelister } from "./relister.ts";

const SERIES_QUERY = '{__name__=~"^http_.*",namespace!=""}';
const RULES = `rules:
- seriesQuery: '${SERIES_QUERY}'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
`;
const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compiled = compileRules(parseRulesText(RULES, "rules.yaml"), () => mapper);

/** A streaming source over fixed data: `series[match]` answers series calls, `names` answers label values. */
function fakeSource(initial: { series: Record<string, SeriesLabels[]>; names: string[] }) {
  const state = {
    ...initial,
    seriesCalls: [] as string[],
    labelValueCalls: 0,
    labelValuesGate: null as Promise<void> | null,
    failLabelValues: null as Error | null,
  };
  const answer = (match: string) => state.series[match] ?? [];
  return {
    state,
    async series(matches: readonly string[]) {
      state.seriesCalls.push(matches[0] as string);
      return answer(matches[0] as string);
    },
    async streamSeries(matches: readonly string[], _start: number, visit: SeriesVisitor) {
      state.seriesCalls.push(matches[0] as string);
      for (const { __name__, ...labels } of answer(matches[0] as string)) visit(__name__, Object.keys(labels));
      return answer(matches[0] as string).length;
    },
    async labelValues(_label: string, _start: number, _matches?: readonly string[], signal?: AbortSignal) {
      state.labelValueCalls++;
      if (state.labelValuesGate) {
        await state.labelValuesGate;
        signal?.throwIfAborted();
      }
      if (state.failLabelValues) throw state.failLabelValues;
      return state.names;
    },
  };
}

const listed = (relister: ReturnType<typeof createRelister>) =>
  relister
    .current()
    .registry.customMetrics()
    .map((entry) => `${entry.resource.resource}/${entry.metric}`);

describe("incremental discovery passes", () => {
  test("a new metric name is listed with the series query narrowed to it, and served without a full run", async () => {
    const source = fakeSource({
      series: { [SERIES_QUERY]: [{ __name__: "http_requests_total", namespace: "a", pod: "p" }] },
      names: ["http_requests_total", "up"],
    });
    const relister = createRelister({
      source,
      rules: () => compiled,
      interval: 60_000,
      clock: createManualClock(),
      logger: createMemoryLogger(),
    });
    expect(await relister.runOnce()).toBe(true);

    const narrowed = `{__name__=~"^http_.*",namespace!="",__name__=~"http_errors_total"}`;
    source.state.names = ["http_requests_total", "up", "http_errors_total"];
    source.state.series[narrowed] = [{ __name__: "http_errors_total", namespace: "a", pod: "p" }];
    source.state.seriesCalls.length = 0;
    const outcome = await relister.freshPassOnce();

    expect(outcome).toEqual({ status: "done", newNames: ["http_errors_total"], registryChanged: true });
    expect(source.state.seriesCalls).toEqual([narrowed]);
    expect(listed(relister)).toEqual([
      "namespaces/http_errors",
      "pods/http_errors",
      "namespaces/http_requests",
      "pods/http_requests",
    ]);
  });

  test("names already looked at are not listed again, whether they matched or not", async () => {
    const source = fakeSource({ series: {}, names: ["up"] });
    const relister = createRelister({
      source,
      rules: () => compiled,
      clock: createManualClock(),
      logger: createMemoryLogger(),
    });
    await relister.runOnce();
    source.state.names = ["up", "http_new_total"];
    source.state.seriesCalls.length = 0;
    expect(await relister.freshPassOnce()).toEqual({
      status: "done",
      newNames: ["http_new_total"],
      registryChanged: false,
    });
    expect(await relister.freshPassOnce()).toEqual({ status: "done", newNames: [], registryChanged: false });
    expect(source.state.seriesCalls).toHaveLength(1);
  });

  test("the freshness pass remembers the names it has seen: a name that matched is not listed again", async () => {
    const source = fakeSource({ series: {}, names: ["up"] });
    const clock = createManualClock();
    const relister = createRelister({ source, rules: () => compiled, clock, logger: createMemoryLogger() });
    await relister.runOnce();
    const narrowed = `{__name__=~"^http_.*",namespace!="",__name__=~"http_errors_total"}`;
    source.state.series[narrowed] = [{ __name__: "http_errors_total", namespace: "a", pod: "p" }];
    source.state.names = ["up", "http_errors_total"];
    source.state.seriesCalls.length = 0;
    const first = await relister.freshPassOnce();
    const second = await relister.freshPassOnce();
    const newNames = (outcome: typeof first) => outcome.status === "done" && outcome.newNames;
    expect({ first: newNames(first), second: newNames(second), seriesCalls: source.state.seriesCalls }).toEqual({
      first: ["http_errors_total"],
      second: [],
      seriesCalls: [narrowed],
    });
  });

  test("passes are skipped before the first successful run", async () => {
    const source = fakeSource({ series: {}, names: [] });
    const relister = createRelister({
      source,
      rules: () => compiled,
      clock: createManualClock(),
      logger: createMemoryLogger(),
    });
    expect(await relister.freshPassOnce()).toEqual({ status: "skipped", reason: "no successful full run yet" });
  });

  test.each([
    { name: "freshInterval 0", options: { freshInterval: 0 }, withLabelValues: true },
    {
      name: "a freshInterval not shorter than the relist interval",
      options: { freshInterval: 60_000, interval: 60_000 },
      withLabelValues: true,
    },
    { name: "a source without labelValues", options: {}, withLabelValues: false },
  ])("passes are off with $name", async ({ options, withLabelValues }) => {
    const fake = fakeSource({ series: {}, names: [] });
    const source = withLabelValues ? fake : { series: fake.series, streamSeries: fake.streamSeries };
    const relister = createRelister({
      source,
      rules: () => compiled,
      clock: createManualClock(),
      logger: createMemoryLogger(),
      ...options,
    });
    await relister.runOnce();
    expect(await relister.freshPassOnce()).toEqual({ status: "skipped", reason: "incremental passes are off" });
  });

  test("a full run that starts during a pass wins: the pass's findings are dropped", async () => {
    const source = fakeSource({ series: { [SERIES_QUERY]: [] }, names: [] });
    const relister = createRelister({
      source,
      rules: () => compiled,
      clock: createManualClock(),
      logger: createMemoryLogger(),
    });
    await relister.runOnce();
    let open: () => void = () => {};
    source.state.labelValuesGate = new Promise<void>((resolve) => (open = resolve));
    source.state.names = ["http_late_total"];
    const pass = relister.freshPassOnce();
    const run = relister.runOnce();
    open();
    expect(await pass).toEqual({ status: "skipped", reason: "a full run started meanwhile" });
    expect(await run).toBe(true);
  });

  test("a failed pass keeps the registry and is logged quietly", async () => {
    const source = fakeSource({
      series: { [SERIES_QUERY]: [{ __name__: "http_requests_total", namespace: "a", pod: "p" }] },
      names: [],
    });
    const logger = createMemoryLogger(2);
    const relister = createRelister({ source, rules: () => compiled, clock: createManualClock(), logger });
    await relister.runOnce();
    const before = relister.current();
    source.state.failLabelValues = new Error("network: connection refused");
    const outcome = await relister.freshPassOnce();
    expect(outcome.status).toBe("failed");
    expect(relister.current()).toBe(before);
    expect(
      logger.lines.some((line) => line.includes("incremental discovery failed") && line.includes("connection refused")),
    ).toBe(true);
  });
});

describe("streamed discovery against a Prometheus that answers badly", () => {
  test("a malformed series answer fails the run with a clear error and keeps the previous registry", async () => {
    let answer = '{"status":"success","data":[{"__name__":"http_requests_total","namespace":"a","pod":"p"}]}';
    await using server = startCaptureServer(({ pathAndQuery }) =>
      pathAndQuery.includes("/label/")
        ? Response.json({ status: "success", data: [] })
        : new Response(answer, { headers: { "content-type": "application/json" } }),
    );
    const logger = createMemoryLogger();
    const source = createPrometheusClient(createHttpTransport({ baseUrl: server.url }));
    const relister = createRelister({
      source,
      mode: "series",
      rules: () => compiled,
      clock: createManualClock(),
      logger,
    });
    expect(await relister.runOnce()).toBe(true);
    const before = relister.current();

    answer =
      '{"status":"success","data":[{"__name__":"http_requests_total","namespace":"a","pod":"p"},{"__name__":"http_other_total","namesp';
    expect(await relister.runOnce()).toBe(false);
    expect(relister.current()).toBe(before);
    expect(listed(relister)).toEqual(["namespaces/http_requests", "pods/http_requests"]);
    const failure = logger.lines.find((line) =>
      line.includes("discovery failed; keeping the previous metric registry"),
    );
    expect(failure).toContain("bad_response: response is not valid JSON");
    expect(failure).toContain("unexpected end of input at byte 127");
  });
});
