/**
 * Short-lived cache of Prometheus instant-query results (docs/api.md, Caches): keyed by the rendered PromQL (and a
 * rule's extra parameters and headers, when it has any), a few
 * seconds of TTL, concurrent identical queries coalesced into one call through lru-cache's `fetchMethod`, errors
 * never cached. Bounded by entry count and by total samples held.
 */
import { LRUCache } from "lru-cache";
import { checkSampleValues } from "./sample-value.ts";
import type { PromQL, QueryExtras } from "../naming/promql.ts";
import type { QueryResult } from "./types.ts";
import type { Milliseconds } from "../util/duration.ts";

export interface QuerySource {
  query(query: PromQL, timeSeconds: number, signal?: AbortSignal, extras?: QueryExtras): Promise<QueryResult>;
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
  /**
   * The result of `query` (with a rule's `extras`) evaluated at about now: from cache, from a call in flight, or
   * from a new call.
   */
  get(query: PromQL, extras?: QueryExtras): Promise<QueryResult>;
  /** Results currently cached. */
  size(): number;
  clear(): void;
}

/** The cache's owner's view: the cache, and dropping a backend's results. */
interface OwnedQueryCache extends QueryCache {
  /** Drops every result of the named backend `backend` (a reload changed or removed its connection). */
  forgetBackend(backend: string): void;
}

export function createQueryCache({
  source,
  ttl = 5000,
  maxEntries = 10_000,
  maxSamples = 1_000_000,
  now,
  monotonicNow,
  onLookup,
}: QueryCacheOptions): OwnedQueryCache {
  const cache = new LRUCache<string, QueryResult, QueryExtras>({
    max: maxEntries,
    maxSize: maxSamples,
    sizeCalculation: (result) => Math.max(1, sampleCount(result)),
    // NB: lru-cache needs a positive ttl; with ttl 0 each result lives 1 ms, so only calls in flight are shared.
    ttl: Math.max(1, ttl),
    allowStale: false,
    // Read the clock on every lookup instead of caching it for 1 ms (cheap, and exact for injected clocks).
    ttlResolution: 0,
    ...(monotonicNow ? { perf: { now: monotonicNow } } : {}),
    // Errors are never cached: a rejected fetch removes its entry. A result with a sample value that is not a float
    // is such an error (UnparsableSampleError), so it is not kept for the TTL either.
    fetchMethod: async (key, _stale, { signal, context }) => {
      const query = queryOf(key);
      const result = await source.query(query, now() / 1000, signal, context);
      checkSampleValues(result, query);
      return result;
    },
  });

  return {
    async get(query, extras) {
      const status: LRUCache.Status<string, QueryResult, QueryExtras> = {};
      const result = await cache.fetch(keyOf(query, extras), { status, context: extras ?? NO_EXTRAS });
      onLookup?.(status.fetch === "hit" ? "hit" : status.fetch === "inflight" ? "coalesced" : "miss");
      if (result === undefined) throw new Error("query cache: fetch returned no result");
      return result;
    },
    size: () => cache.size,
    clear: () => cache.clear(),
    forgetBackend(backend) {
      for (const key of [...cache.keys()]) if (backendOf(key) === backend) cache.delete(key);
    },
  };
}

// NB: the key is the query alone when there are no extras (the common case); otherwise the query, a NUL and the
// extras as JSON. A rendered query never holds a raw NUL (values are Go-quoted), so the split is unambiguous.
// A named backend (never the default one) is part of the key: the same query to two backends is two results.
function keyOf(query: PromQL, extras: QueryExtras | undefined): string {
  if (!extras || (isEmpty(extras.parameters) && isEmpty(extras.headers) && extras.backend === undefined)) return query;
  const parts = [extras.parameters ?? {}, extras.headers ?? {}];
  return `${query}\u0000${JSON.stringify(extras.backend === undefined ? parts : [...parts, extras.backend])}`;
}

const NO_EXTRAS: QueryExtras = {};

/** The named backend a key holds (its extras' third part), else undefined. */
function backendOf(key: string): string | undefined {
  const cut = key.indexOf("\u0000");
  if (cut < 0) return undefined;
  const parts = JSON.parse(key.slice(cut + 1)) as unknown[];
  return typeof parts[2] === "string" ? parts[2] : undefined;
}

function queryOf(key: string): PromQL {
  const cut = key.indexOf("\u0000");
  return (cut < 0 ? key : key.slice(0, cut)) as PromQL;
}

function isEmpty(record: Readonly<Record<string, string>> | undefined): boolean {
  return record === undefined || Object.keys(record).length === 0;
}

function sampleCount(result: QueryResult): number {
  return result.resultType === "vector" || result.resultType === "matrix" ? result.result.length : 1;
}
