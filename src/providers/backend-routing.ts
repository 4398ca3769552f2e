/**
 * The backend a registered metric's query goes to for one request, and what it is rendered with: the entry (rule,
 * series name) that backend registered, and the query extras (that rule's parameters and headers plus the backend
 * routing chose, naming/backends.ts). The default backend is never written into the extras, so single-backend
 * queries and their cache keys are exactly what they were before backends existed.
 */
import { DEFAULT_BACKEND, routeBackend, type CompiledBackend } from "../naming/backends.ts";
import type { QueryExtras } from "../naming/promql.ts";
import type { CustomMetricEntry, ExternalMetricEntry } from "../discovery/registry.ts";

/** The `backends:` section in force; read per request (rules may reload). Default: none. */
export type BackendsInForce = () => readonly CompiledBackend[];

/** A query's routing: the entry to render it with and the extras to send it with. */
export interface RoutedQuery<Entry extends CustomMetricEntry | ExternalMetricEntry> {
  /** The chosen backend's own entry (the registry's entry when it has no per-backend entries). */
  readonly entry: Entry;
  readonly extras: QueryExtras | undefined;
}

export function routeQuery<Entry extends CustomMetricEntry | ExternalMetricEntry>(
  entry: Entry,
  namespace: string | undefined,
  backends: BackendsInForce | undefined,
): RoutedQuery<Entry> {
  if (entry.backends === undefined && entry.rule.backend === undefined)
    return { entry, extras: entry.rule.queryExtras };
  const own = entry.byBackend as ReadonlyMap<string, Entry> | undefined;
  const compiled = backends?.() ?? [];
  let backend: string;
  if (own === undefined) {
    backend = routeBackend(entry.backends ?? [DEFAULT_BACKEND], entry.rule.backend, namespace, compiled);
  } else {
    // Each backend's entry comes from a rule naming that backend or none; a candidate whose rule names another
    // backend is never chosen.
    const candidates = (entry.backends ?? []).filter((name) => {
      const pinned = own.get(name)?.rule.backend;
      return own.has(name) && (pinned === undefined || pinned === name);
    });
    backend = routeBackend(candidates, undefined, namespace, compiled);
  }
  const chosen = own?.get(backend) ?? entry;
  const extras = chosen.rule.queryExtras;
  return { entry: chosen, extras: backend === DEFAULT_BACKEND ? extras : { ...extras, backend } };
}
