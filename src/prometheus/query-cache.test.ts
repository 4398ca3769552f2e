import { describe, expect, test } from "bun:test";
import { promql } from "../naming/promql.ts";
import type { QueryResult } from "./types.ts";
import { createQueryCache } from "./query-cache.ts";

const VECTOR: QueryResult = {
  resultType: "vector",
  result: [{ metric: { pod: "a" }, timestampSeconds: 1, value: "1" }],
};

/** A source whose calls stay pending until the test settles them. */
function controlledSource() {
  const calls: { query: string; time: number; resolve: (r: QueryResult) => void; reject: (e: Error) => void }[] = [];
  return {
    calls,
    source: {
      query: (query: string, time: number) =>
        new Promise<QueryResult>((resolve, reject) => {
          calls.push({ query, time, resolve, reject });
        }),
    },
  };
}

describe("the query cache", () => {
  test("50 concurrent identical queries make one Prometheus call", async () => {
    const { calls, source } = controlledSource();
    const lookups: string[] = [];
    const cache = createQueryCache({ source, now: () => 1_714_564_800_000, onLookup: (r) => lookups.push(r) });
    const pending = Array.from({ length: 50 }, () => cache.get(promql("up")));
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.time).toBe(1_714_564_800);
    calls[0]?.resolve(VECTOR);
    const results = await Promise.all(pending);
    expect(results.every((r) => r === VECTOR)).toBe(true);
    expect(lookups.filter((l) => l === "miss")).toHaveLength(1);
    expect(lookups.filter((l) => l === "coalesced")).toHaveLength(49);
  });

  test("a result is reused within the TTL and fetched again after it", async () => {
    const { calls, source } = controlledSource();
    let monotonic = 1000;
    const cache = createQueryCache({ source, now: Date.now, ttl: 5000, monotonicNow: () => monotonic });
    const first = cache.get(promql("up"));
    await Promise.resolve();
    calls[0]?.resolve(VECTOR);
    await first;
    monotonic += 4999;
    expect(await cache.get(promql("up"))).toBe(VECTOR);
    expect(calls).toHaveLength(1);
    expect(cache.size()).toBe(1);
    monotonic += 2;
    void cache.get(promql("up"));
    await Promise.resolve();
    expect(calls).toHaveLength(2);
  });

  const separateCalls =
    "the same query with different headers, different parameters, or headers vs none, makes separate Prometheus calls";
  test(separateCalls, async () => {
    const calls: string[] = [];
    const record = (query: string, extras: unknown) => calls.push(`${query} ${JSON.stringify(extras ?? {})}`);
    const cache = createQueryCache({
      source: { query: async (query, _time, _signal, extras) => (record(query, extras), VECTOR) },
      now: Date.now,
      ttl: 60_000,
      monotonicNow: () => 1000,
    });
    const tenantA = { headers: { "X-Scope-OrgID": "team-a" } };
    const tenantB = { headers: { "X-Scope-OrgID": "team-b" } };
    const stepA = { parameters: { step: "1m" } };
    const stepB = { parameters: { step: "5m" } };
    const lookups = [undefined, tenantA, tenantB, stepA, stepB, tenantA, stepB, undefined];
    for (const extras of lookups) await cache.get(promql("up"), extras);
    expect(calls).toEqual([
      "up {}",
      `up ${JSON.stringify(tenantA)}`,
      `up ${JSON.stringify(tenantB)}`,
      `up ${JSON.stringify(stepA)}`,
      `up ${JSON.stringify(stepB)}`,
    ]);
  });

  test("the same query routed to two backends makes two calls; the default backend keeps the plain key", async () => {
    const calls: string[] = [];
    const cache = createQueryCache({
      source: { query: async (_query, _time, _signal, extras) => (calls.push(extras?.backend ?? "default"), VECTOR) },
      now: Date.now,
      ttl: 60_000,
      monotonicNow: () => 1000,
    });
    const lookups = [undefined, { backend: "team-a" }, { backend: "team-b" }, { backend: "team-a" }, undefined];
    for (const extras of lookups) await cache.get(promql("up"), extras);
    expect(calls).toEqual(["default", "team-a", "team-b"]);
  });

  test("forgetting a backend drops its cached results and keeps the others'", async () => {
    const calls: string[] = [];
    const cache = createQueryCache({
      source: { query: async (_query, _time, _signal, extras) => (calls.push(extras?.backend ?? "default"), VECTOR) },
      now: Date.now,
      ttl: 60_000,
      monotonicNow: () => 1000,
    });
    const lookups = [undefined, { backend: "team-a" }, { backend: "team-b", headers: { "X-Scope-OrgID": "b" } }];
    for (const extras of lookups) await cache.get(promql("up"), extras);
    cache.forgetBackend("team-b");
    for (const extras of lookups) await cache.get(promql("up"), extras);
    expect(calls).toEqual(["default", "team-a", "team-b", "team-b"]);
  });

  test("the TTL is in milliseconds: 5000 keeps a result 5 s, not 5 ms nor 5000 s", async () => {
    // NB: lru-cache treats a start time of 0 as "no start", so the clock starts at 1000.
    let monotonic = 1000;
    let calls = 0;
    const source = { query: async () => (calls++, VECTOR) };
    const cache = createQueryCache({ source, now: Date.now, ttl: 5000, monotonicNow: () => monotonic });
    await cache.get(promql("up"));
    monotonic = 5000;
    await cache.get(promql("up"));
    const afterFourSeconds = calls;
    monotonic = 7000;
    await cache.get(promql("up"));
    expect({ afterFourSeconds, afterSixSeconds: calls }).toEqual({ afterFourSeconds: 1, afterSixSeconds: 2 });
  });

  test("different queries are different entries", async () => {
    const { calls, source } = controlledSource();
    const cache = createQueryCache({ source, now: Date.now });
    void cache.get(promql("a"));
    void cache.get(promql("b"));
    await Promise.resolve();
    expect(calls.map((c) => c.query)).toEqual(["a", "b"]);
  });

  test("errors are not cached: the next lookup calls Prometheus again", async () => {
    const { calls, source } = controlledSource();
    const cache = createQueryCache({ source, now: Date.now, ttl: 60_000 });
    const failing = cache.get(promql("up"));
    await Promise.resolve();
    calls[0]?.reject(new Error("boom"));
    expect(failing).rejects.toThrow("boom");
    await failing.catch(() => {});
    const retry = cache.get(promql("up"));
    await Promise.resolve();
    expect(calls).toHaveLength(2);
    calls[1]?.resolve(VECTOR);
    expect(await retry).toBe(VECTOR);
  });

  test("a TTL of 0 keeps nothing but still shares a call in flight", async () => {
    const { calls, source } = controlledSource();
    let monotonic = 1000;
    const cache = createQueryCache({ source, now: Date.now, ttl: 0, monotonicNow: () => monotonic });
    const a = cache.get(promql("up"));
    const b = cache.get(promql("up"));
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    calls[0]?.resolve(VECTOR);
    await Promise.all([a, b]);
    monotonic += 2;
    void cache.get(promql("up"));
    await Promise.resolve();
    expect(calls).toHaveLength(2);
  });
});
