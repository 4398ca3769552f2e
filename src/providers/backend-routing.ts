/**
 * The query extras of a registered metric for one request: its rule's parameters and headers, plus the backend that
 * routing (naming/backends.ts) chose. The default backend is never written into the extras, so single-backend
 * queries and their cache keys are exactly what they were before backends existed.
 */
import { DEFAULT_BACKEND, routeBackend, type CompiledBackend } from "../naming/backends.ts";
import type { QueryExtras } from "../naming/promql.ts";
import type { CustomMetricEntry, ExternalMetricEntry } from "../discovery/registry.ts";

/** The `backends:` section in force; read per request (rules may reload). Default: none. */
export type BackendsInForce = () => readonly CompiledBackend[];

export function routedExtras(
  entry: CustomMetricEntry | ExternalMetricEntry,
  namespace: string | undefined,
  backends: BackendsInForce | undefined,
): QueryExtras | undefined {
  const extras = entry.rule.queryExtras;
  if (entry.backends === undefined && entry.rule.backend === undefined) return extras;
  const backend = routeBackend(entry.backends ?? [DEFAULT_BACKEND], entry.rule.backend, namespace, backends?.() ?? []);
  return backend === DEFAULT_BACKEND ? extras : { ...extras, backend };
}
