/** What the metrics.k8s.io analysis reads, and the objects it reasons about. */
import type { ResourceRules } from "../../../providers/resource-metrics-provider.ts";
import type { QuerySource } from "../../../prometheus/query-cache.ts";
import type { RecordedObjectLookup, RecordedQuery } from "../recording.ts";
import type { ResourceRequest } from "../types.ts";

/** What the metrics.k8s.io analysis reads. */
export interface ResourceAnalysisContext {
  readonly request: ResourceRequest;
  readonly rules: ResourceRules;
  readonly mode: "standalone" | "cluster";
  /** The object source's calls (one per request). */
  readonly objectCalls: readonly RecordedObjectLookup[];
  /** Standalone: the CPU queries the Prometheus object source listed objects with. */
  readonly objectQueries: readonly RecordedQuery[];
  /** The provider's CPU and memory queries. */
  readonly usageQueries: readonly RecordedQuery[];
  readonly response: { readonly status: number; readonly body: unknown };
  /** Prometheus, for probes (not recorded). */
  readonly prometheus: QuerySource;
  readonly nowMs: number;
}

/** A pod (namespace set) or node the provider asked usage for. */
export interface ResourceObject {
  readonly namespace: string | undefined;
  readonly name: string;
}

/** `namespace/name` for pods, `name` for nodes. */
export function objectKey(object: ResourceObject): string {
  return object.namespace === undefined ? object.name : `${object.namespace}/${object.name}`;
}
