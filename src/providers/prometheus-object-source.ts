/**
 * The standalone-mode ResourceObjectSource (docs/api.md, Standalone mode): with no Kubernetes API, the pods of a
 * namespace are the values of the CPU rule's pod label in that namespace, and the nodes the values of its node label,
 * as found by the CPU queries with `<label>=~".+"`. Objects found this way have no labels.
 *
 * Not answerable here: pods of all namespaces (R3) and label selectors (no labels to match) are 400s. Named GETs are
 * not checked: a pod or node without samples is the same thing as an unknown one here, and the provider answers it
 * with the `podmetrics`/`nodemetrics` 404.
 */
import { renderObjectQuery } from "../naming/query-builder.ts";
import type { Logger } from "../observability/logger.ts";
import type { PromQL } from "../naming/promql.ts";
import type { QuerySource } from "../prometheus/query-cache.ts";
import { BadRequestError } from "../apimachinery/status.ts";
import type { ResourceRules } from "./resource-metrics-provider.ts";
import type { NodeRef, PodRef, ResourceObjectSource } from "./resource-object-source.ts";

export interface PrometheusObjectSourceDeps {
  /** The compiled resource rules; read per call. */
  readonly rules: () => ResourceRules;
  readonly prometheus: QuerySource;
  /** Wall clock in ms, for the queries' `time`. */
  readonly now: () => number;
  readonly logger: Logger;
}

/** 400 messages of requests standalone mode cannot answer. */
export const ALL_NAMESPACES_UNSUPPORTED = "all-namespaces pod metrics are not supported in standalone mode";
export const LABEL_SELECTOR_UNSUPPORTED = "labelSelector is not supported in standalone mode";

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** The standalone object source over the CPU rule's queries. */
export function createPrometheusObjectSource({
  rules,
  prometheus,
  now,
  logger,
}: PrometheusObjectSourceDeps): ResourceObjectSource {
  /**
   * Distinct values of `label` in the result of `query`, sorted. NB: a failing query means "no objects" (logged):
   * Prometheus errors never surface from metrics.k8s.io (metrics-server answers what it has).
   */
  async function labelValues(render: () => PromQL, label: string, context: Record<string, string>): Promise<string[]> {
    try {
      const query = render();
      const result = await prometheus.query(query, now() / 1000);
      if (result.resultType !== "vector")
        throw new Error(`query returned a ${result.resultType}, expected a vector: ${query}`);
      const values = new Set<string>();
      for (const sample of result.result) {
        const value = sample.metric[label];
        if (value !== undefined && value !== "") values.add(value);
      }
      return [...values].sort();
    } catch (error) {
      logger.error("unable to list objects from Prometheus", {
        ...context,
        error: error instanceof Error ? error.message : String(error),
      });
      return [];
    }
  }

  return {
    async listPods(namespace, labelSelector) {
      if (namespace === undefined) throw new BadRequestError(ALL_NAMESPACES_UNSUPPORTED);
      if (labelSelector !== "") throw new BadRequestError(LABEL_SELECTOR_UNSUPPORTED);
      const { cpu } = rules();
      const query = () =>
        renderObjectQuery(cpu.containerQuery, {
          series: "",
          requirements: [],
          namespace: { label: cpu.namespaceLabel, value: namespace },
          resourceLabel: cpu.podLabel,
          names: [],
          anyName: true,
          extraGroupBy: [cpu.containerLabel],
        });
      const names = await labelValues(query, cpu.podLabel, { namespace });
      return names.map((name): PodRef => ({ namespace, name, labels: NO_LABELS }));
    },
    async getPod(namespace, name) {
      return { namespace, name, labels: NO_LABELS };
    },
    async listNodes(labelSelector) {
      if (labelSelector !== "") throw new BadRequestError(LABEL_SELECTOR_UNSUPPORTED);
      const { cpu } = rules();
      const query = () =>
        renderObjectQuery(cpu.nodeQuery, {
          series: "",
          requirements: [],
          resourceLabel: cpu.nodeLabel,
          names: [],
          anyName: true,
        });
      const names = await labelValues(query, cpu.nodeLabel, { resource: "nodes" });
      return names.map((name): NodeRef => ({ name, labels: NO_LABELS }));
    },
    async getNode(name) {
      return { name, labels: NO_LABELS };
    },
  };
}
