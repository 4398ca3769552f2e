import { describe, expect, test } from "bun:test";
import { promql, type QueryExtras } from "../naming/promql.ts";
import { PrometheusError } from "./errors.ts";
import type { QuerySource } from "./query-cache.ts";
import { createRoutedQuerySource, pinnedQuerySource } from "./routed-source.ts";
import type { QueryResult } from "./types.ts";

/** A source answering a scalar holding its name, recording the extras it received. */
function named(name: string) {
  const extras: (QueryExtras | undefined)[] = [];
  const source: QuerySource = {
    async query(_query, timeSeconds, _signal, received) {
      extras.push(received);
      return { resultType: "string", result: { timestampSeconds: timeSeconds, value: name } } as QueryResult;
    },
  };
  return { source, extras };
}
const answer = async (source: QuerySource, extras?: QueryExtras) =>
  ((await source.query(promql("up"), 1, undefined, extras)) as { result: { value: string } }).result.value;

describe("routing queries to backends", () => {
  const fallback = named("default");
  const teamA = named("team-a");
  const routed = createRoutedQuerySource(fallback.source, () => new Map([["team-a", teamA.source]]));

  test("a query goes to the backend its extras name, with the rule's extras; none or `default` is the default", async () => {
    expect(await answer(routed, { backend: "team-a", parameters: { dedup: "true" } })).toBe("team-a");
    expect(teamA.extras.at(-1)).toEqual({ backend: "team-a", parameters: { dedup: "true" } });
    expect(await answer(routed)).toBe("default");
    expect(await answer(routed, { backend: "default" })).toBe("default");
  });

  test("a backend no longer configured fails like an unreachable Prometheus", async () => {
    const failure = routed.query(promql("up"), 1, undefined, { backend: "gone" });
    await expect(failure).rejects.toBeInstanceOf(PrometheusError);
    await expect(failure).rejects.toThrow('network: backend "gone" is not configured (removed by a reload?)');
  });

  test("metrics.k8s.io queries go to the resourceRules backend in force, read per query", async () => {
    let backend: string | undefined = "team-a";
    const pinned = pinnedQuerySource(routed, () => backend);
    expect(await answer(pinned)).toBe("team-a");
    backend = undefined;
    expect(await answer(pinned)).toBe("default");
  });
});
