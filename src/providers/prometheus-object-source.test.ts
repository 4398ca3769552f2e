import { describe, expect, test } from "bun:test";
import { DEFAULT_RULES_NAME, DEFAULT_RULES_TEXT } from "../config/defaults.ts";
import { parseRulesText } from "../config/load.ts";
import { compileRules } from "../naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import type { QueryResult } from "../prometheus/types.ts";
import { ApiError } from "../apimachinery/status.ts";
import { createPrometheusObjectSource } from "./prometheus-object-source.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const rules = compileRules(parseRulesText(DEFAULT_RULES_TEXT, DEFAULT_RULES_NAME), () => mapper).resource!;
const NOW = 1_714_564_800_000;
const T = NOW / 1000;

function setup(answer: (query: string) => QueryResult | Error) {
  const calls: { query: string; time: number }[] = [];
  const logger = createMemoryLogger();
  const source = createPrometheusObjectSource({
    rules: () => rules,
    prometheus: {
      async query(query, time) {
        calls.push({ query, time });
        const result = answer(query);
        if (result instanceof Error) throw result;
        return result;
      },
    },
    now: () => NOW,
    logger,
  });
  return { source, calls, logs: logger.lines };
}

const vector = (...labels: Record<string, string>[]): QueryResult => ({
  resultType: "vector",
  result: labels.map((metric) => ({ metric, value: "1", timestampSeconds: T })),
});

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("the standalone object source", () => {
  test("lists the distinct pod label values of the namespace's CPU query, sorted, without labels", async () => {
    const { source, calls } = setup(() =>
      vector(
        { pod: "web-1", container: "a" },
        { pod: "web-0", container: "a" },
        { pod: "web-1", container: "b" },
        { container: "x" },
      ),
    );
    expect(await source.listPods("default", "")).toEqual([
      { namespace: "default", name: "web-0", labels: {} },
      { namespace: "default", name: "web-1", labels: {} },
    ]);
    expect(calls).toEqual([
      {
        query: 'sum(rate(container_cpu_usage_seconds_total{namespace="default",pod=~".+"}[5m])) by (pod,container)',
        time: T,
      },
    ]);
  });

  test("lists the distinct node label values of the CPU node query", async () => {
    const { source, calls } = setup(() => vector({ instance: "n2" }, { instance: "n1" }));
    expect(await source.listNodes("")).toEqual([
      { name: "n1", labels: {} },
      { name: "n2", labels: {} },
    ]);
    expect(calls.map((c) => c.query)).toEqual([
      `sum(rate(container_cpu_usage_seconds_total{instance=~".+", id='/'}[5m])) by (instance)`,
    ]);
  });

  test.each([
    [
      "pods of all namespaces",
      (s: ReturnType<typeof setup>["source"]) => s.listPods(undefined, ""),
      "all-namespaces pod metrics are not supported in standalone mode",
    ],
    [
      "a pod label selector",
      (s: ReturnType<typeof setup>["source"]) => s.listPods("default", "app=web"),
      "labelSelector is not supported in standalone mode",
    ],
    [
      "a node label selector",
      (s: ReturnType<typeof setup>["source"]) => s.listNodes("role=db"),
      "labelSelector is not supported in standalone mode",
    ],
  ])("answers %s with a 400", async (_, call, message) => {
    const { source, calls } = setup(() => vector());
    expect(await rejection(call(source))).toEqual({ code: 400, message });
    expect(calls).toEqual([]);
  });

  test("a failing or non-vector query lists nothing and is logged", async () => {
    const failing = setup(() => new Error("connection refused"));
    expect(await failing.source.listPods("default", "")).toEqual([]);
    expect(
      failing.logs.some(
        (line) => line.includes("unable to list objects from Prometheus") && line.includes("connection refused"),
      ),
    ).toBe(true);
    const scalar = setup(() => ({ resultType: "scalar", result: { value: "1", timestampSeconds: T } }));
    expect(await scalar.source.listNodes("")).toEqual([]);
  });

  test("named objects are taken as they are, without a query", async () => {
    const { source, calls } = setup(() => vector());
    expect(await source.getPod("default", "web-0")).toEqual({ namespace: "default", name: "web-0", labels: {} });
    expect(await source.getNode("n1")).toEqual({ name: "n1", labels: {} });
    expect(calls).toEqual([]);
  });
});
