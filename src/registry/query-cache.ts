/**
 * Short-lived cache of Prometheus instant-query results (spec api.md §10): keyed by the rendered PromQL, a few
 * seconds of TTL, concurrent identical queries coalesced into one call through lru-cache's `fetchMethod`, errors
 * never cached. Bounded by entry count and by total samples held.
 */
import { LRUCache } from "lru-cache";
import type { PromQL, QueryResult } from "../prometheus/types.ts";
import type { Milliseconds } from "../util/duration.ts";

export interface QuerySource {
  query(query: PromQL, timeSeconds: number, signal?: AbortSignal): Promise<QueryResult>;
}

export interface QueryCacheOptions {
  readonly source: QuerySource;
  /** How long a result is reused, in ms. Default 5000. `0` disables caching (coalescing still applies). */
  readonly ttl?: Milliseconds;
  /** Most results kept. Default 10000. */
  readonly maxEntries?: number;
  /** Most samples kept across all results (a memory bound). Default 1,000,000. */
  readonly maxSamples?: number;
  /** Wall clock in ms, for the `time` parameter. */
  readonly now: () => number;
  /** Monotonic clock in ms that drives the TTL; default `performance.now`. Tests inject one and advance it. */
  readonly monotonicNow?: () => number;
  /** Observes each lookup: `hit` (served from cache), `miss` (queried Prometheus), `coalesced` (joined a call in flight). */
  readonly onLookup?: (result: "hit" | "miss" | "coalesced") => void;
}

export interface QueryCache {
  /** The result of `query` evaluated at about now: from cache, from a call in flight, or from a new call. */
  get(query: PromQL): Promise<QueryResult>;
  /** Results currently cached. */
  size(): number;
  clear(): void;
}

export function createQueryCache({
  source,
  ttl = 5000,
  maxEntries = 10_000,
  maxSamples = 1_000_000,
  now,
  monotonicNow,
  onLookup,
}: QueryCacheOptions): QueryCache {
  const cache = new LRUCache<PromQL, QueryResult>({
    max: maxEntries,
    maxSize: maxSamples,
    sizeCalculation: (result) => Math.max(1, sampleCount(result)),
    // NB: lru-cache needs a positive ttl; with ttl 0 each result lives 1 ms, so only calls in flight are shared.
    ttl: Math.max(1, ttl),
    allowStale: false,
    // Read the clock on every lookup instead of caching it for 1 ms (cheap, and exact for injected clocks).
    ttlResolution: 0,
    ...(monotonicNow ? { perf: { now: monotonicNow } } : {}),
    // Errors are never cached: a rejected fetch removes its entry.
    fetchMethod: (query, _stale, { signal }) => source.query(query, now() / 1000, signal),
  });

  return {
    async get(query) {
      const status: LRUCache.Status<PromQL, QueryResult> = {};
      const result = await cache.fetch(query, { status });
      onLookup?.(status.fetch === "hit" ? "hit" : status.fetch === "inflight" ? "coalesced" : "miss");
      if (result === undefined) throw new Error("query cache: fetch returned no result");
      return result;
    },
    size: () => cache.size,
    clear: () => cache.clear(),
  };
}

function sampleCount(result: QueryResult): number {
  return result.resultType === "vector" || result.resultType === "matrix" ? result.result.length : 1;
}
