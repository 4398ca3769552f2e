/**
 * Pass-through wrappers that remember what the real providers asked for and got: every Prometheus instant query
 * (PromQL, evaluation time, result or error), every object LIST and every metrics.k8s.io object lookup. `explain` reads them after the request ran.
 */
import type { ResourceInfo } from "../../apimachinery/rest-mapper.ts";
import type { PromQL } from "../../naming/promql.ts";
import { DEFAULT_BACKEND } from "../../naming/backends.ts";
import type { QueryResult } from "../../prometheus/types.ts";
import type { ObjectLister } from "../../providers/custom-metrics-provider.ts";
import type { ResourceObjectSource } from "../../providers/resource-object-source.ts";
import type { QuerySource } from "../../prometheus/query-cache.ts";

export interface RecordedQuery {
  readonly query: PromQL;
  /** Evaluation time, Unix seconds. */
  readonly timeSeconds: number;
  readonly result: QueryResult | null;
  readonly error: unknown;
  /** The backend it went to; recorded only when the rules declare `backends:`. */
  readonly backend?: string;
}

export interface RecordedList {
  readonly resource: ResourceInfo;
  readonly namespace: string | undefined;
  readonly labelSelector: string;
  readonly names: readonly string[] | null;
  readonly error: unknown;
}

/**
 * A QuerySource that records each call, in call order, passing the rule's extras (and routing's backend) on. With
 * `recordBackend`, each call also records the backend it went to (`default` when the extras name none).
 */
export function recordQueries(
  source: QuerySource,
  { recordBackend = false }: { recordBackend?: boolean } = {},
): QuerySource & { readonly calls: RecordedQuery[] } {
  const calls: RecordedQuery[] = [];
  return {
    calls,
    async query(query, timeSeconds, signal, extras) {
      const backend = recordBackend ? { backend: extras?.backend ?? DEFAULT_BACKEND } : {};
      try {
        const result = await source.query(query, timeSeconds, signal, extras);
        calls.push({ query, timeSeconds, result, error: undefined, ...backend });
        return result;
      } catch (error) {
        calls.push({ query, timeSeconds, result: null, error, ...backend });
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

/** One call to a metrics.k8s.io object source. */
export interface RecordedObjectLookup {
  readonly call: "listPods" | "getPod" | "listNodes" | "getNode";
  /** Pods: the namespace asked for (undefined: all namespaces). */
  readonly namespace: string | undefined;
  /** get*: the name asked for. */
  readonly name: string | undefined;
  readonly labelSelector: string;
  /** Objects found as `namespace/name` (pods) or `name` (nodes); null when the call threw. */
  readonly found: readonly string[] | null;
  readonly error: unknown;
}

/** A ResourceObjectSource that records each call, in call order. */
export function recordResourceObjects(
  source: ResourceObjectSource,
  calls: RecordedObjectLookup[] = [],
): ResourceObjectSource & { readonly calls: RecordedObjectLookup[] } {
  async function record<T>(
    base: Omit<RecordedObjectLookup, "found" | "error">,
    run: () => Promise<T>,
    names: (value: T) => string[],
  ): Promise<T> {
    try {
      const value = await run();
      calls.push({ ...base, found: names(value), error: undefined });
      return value;
    } catch (error) {
      calls.push({ ...base, found: null, error });
      throw error;
    }
  }
  const pod = (ref: { namespace: string; name: string }) => `${ref.namespace}/${ref.name}`;
  return {
    calls,
    listPods: (namespace, labelSelector) =>
      record(
        { call: "listPods", namespace, name: undefined, labelSelector },
        () => source.listPods(namespace, labelSelector),
        (pods) => pods.map(pod),
      ),
    getPod: (namespace, name) =>
      record(
        { call: "getPod", namespace, name, labelSelector: "" },
        () => source.getPod(namespace, name),
        (found) => (found === null ? [] : [pod(found)]),
      ),
    listNodes: (labelSelector) =>
      record(
        { call: "listNodes", namespace: undefined, name: undefined, labelSelector },
        () => source.listNodes(labelSelector),
        (nodes) => nodes.map((node) => node.name),
      ),
    getNode: (name) =>
      record(
        { call: "getNode", namespace: undefined, name, labelSelector: "" },
        () => source.getNode(name),
        (found) => (found === null ? [] : [found.name]),
      ),
  };
}
