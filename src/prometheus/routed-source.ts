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

/** What a named backend sends with every call (`backends[].headers` and `.parameters`). */
export interface BackendExtras {
  readonly headers: Readonly<Record<string, string>>;
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * A named backend's source: its own headers and parameters win over a rule's of the same name (header names
 * compared case-insensitively), so a rule naming no backend cannot set the tenant (`X-Scope-OrgID`) of the backend
 * routing sends it to. The default backend is not wrapped: there a rule's headers override `--prometheus-header`.
 */
export function backendExtrasWin(source: QuerySource, own: BackendExtras): QuerySource {
  const ownHeaders = new Set(Object.keys(own.headers).map((name) => name.toLowerCase()));
  const ownParameters = new Set(Object.keys(own.parameters));
  if (ownHeaders.size === 0 && ownParameters.size === 0) return source;
  const without = <V>(record: Readonly<Record<string, V>> | undefined, drop: (name: string) => boolean) =>
    record === undefined ? undefined : Object.fromEntries(Object.entries(record).filter(([name]) => !drop(name)));
  return {
    query(query, timeSeconds, signal, extras) {
      if (extras === undefined) return source.query(query, timeSeconds, signal, extras);
      const headers = without(extras.headers, (name) => ownHeaders.has(name.toLowerCase()));
      const parameters = without(extras.parameters, (name) => ownParameters.has(name));
      const kept: QueryExtras = {
        ...extras,
        ...(headers === undefined ? {} : { headers }),
        ...(parameters === undefined ? {} : { parameters }),
      };
      return source.query(query, timeSeconds, signal, kept);
    },
  };
}
