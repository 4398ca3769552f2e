/**
 * Pass-through wrappers that remember what the real providers asked for and got: every Prometheus instant query
 * (PromQL, evaluation time, result or error) and every object LIST. `explain` reads them after the request ran.
 */
import type { ResourceInfo } from "../naming/rest-mapper.ts";
import type { PromQL, QueryResult } from "../prometheus/types.ts";
import type { ObjectLister } from "../providers/custom-metrics-provider.ts";
import type { QuerySource } from "../registry/query-cache.ts";

export interface RecordedQuery {
  readonly query: PromQL;
  /** Evaluation time, Unix seconds. */
  readonly timeSeconds: number;
  readonly result: QueryResult | null;
  readonly error: unknown;
}

export interface RecordedList {
  readonly resource: ResourceInfo;
  readonly namespace: string | undefined;
  readonly labelSelector: string;
  readonly names: readonly string[] | null;
  readonly error: unknown;
}

/** A QuerySource that records each call, in call order. */
export function recordQueries(source: QuerySource): QuerySource & { readonly calls: RecordedQuery[] } {
  const calls: RecordedQuery[] = [];
  return {
    calls,
    async query(query, timeSeconds, signal) {
      try {
        const result = await source.query(query, timeSeconds, signal);
        calls.push({ query, timeSeconds, result, error: undefined });
        return result;
      } catch (error) {
        calls.push({ query, timeSeconds, result: null, error });
        throw error;
      }
    },
  };
}

/** An ObjectLister that records each LIST, in call order. */
export function recordLists(lister: ObjectLister): ObjectLister & { readonly calls: RecordedList[] } {
  const calls: RecordedList[] = [];
  return {
    calls,
    async listNames(resource, namespace, labelSelector) {
      try {
        const names = await lister.listNames(resource, namespace, labelSelector);
        calls.push({ resource, namespace, labelSelector, names, error: undefined });
        return names;
      } catch (error) {
        calls.push({ resource, namespace, labelSelector, names: null, error });
        throw error;
      }
    },
  };
}
