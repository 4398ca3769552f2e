/**
 * One query source over several named backends: each query goes to the backend its `extras.backend` names (the
 * providers' routing decision), or to the default one. The set is read per query, since a reload may change it.
 */
import type { PromQL, QueryExtras } from "../naming/promql.ts";
import { DEFAULT_BACKEND } from "../naming/backends.ts";
import { PrometheusError } from "./errors.ts";
import type { QuerySource } from "./query-cache.ts";
import type { QueryResult } from "./types.ts";

/** Named backends' sources by name; `default` is the flags' Prometheus. */
export type BackendSources = () => ReadonlyMap<string, QuerySource>;

export function createRoutedQuerySource(defaultSource: QuerySource, named: BackendSources): QuerySource {
  return {
    query(query: PromQL, timeSeconds: number, signal?: AbortSignal, extras?: QueryExtras): Promise<QueryResult> {
      const backend = extras?.backend;
      if (backend === undefined || backend === DEFAULT_BACKEND)
        return defaultSource.query(query, timeSeconds, signal, extras);
      const source = named().get(backend);
      if (source === undefined) {
        const message = `network: backend "${backend}" is not configured (removed by a reload?)`;
        return Promise.reject(new PrometheusError("network", message, { endpoint: "query", url: "" }));
      }
      return source.query(query, timeSeconds, signal, extras);
    },
  };
}

/** The metrics.k8s.io source: every query to `backend()` (the `resourceRules.backend` in force), else the default. */
export function pinnedQuerySource(routed: QuerySource, backend: () => string | undefined): QuerySource {
  return {
    query(query, timeSeconds, signal) {
      const name = backend();
      return routed.query(query, timeSeconds, signal, name === undefined ? undefined : { backend: name });
    },
  };
}
