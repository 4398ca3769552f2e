/**
 * metrics.k8s.io without HTTP (docs/api.md, Resource metrics): find the pods or nodes, query CPU and memory for them
 * and assemble PodMetrics / NodeMetrics contents.
 *
 * Pods: one CPU and one memory query per namespace, all running concurrently and evaluated at one shared `time`;
 * a namespace whose queries fail loses its pods and the rest is answered. Nodes: one CPU and one memory query for
 * all of them. A pod or node without both CPU and memory data is left out (logged at --v=1).
 *
 * NB: these queries go straight to Prometheus (a QuerySource), not through the 5 s QueryCache: the cache evaluates
 * each query at its own "now", which would break the one shared `time` per request that upstream uses.
 */
import { parseLabelSelectorParameter } from "../apimachinery/labels/selector.ts";
import type { CompiledResourceRule, CompiledRules } from "../naming/compile-rules.ts";
import { renderObjectQuery } from "../naming/query-builder.ts";
import type { Logger } from "../observability/logger.ts";
import { checkSampleValues } from "../prometheus/sample-value.ts";
import type { PromQL } from "../naming/promql.ts";
import type { QuerySource } from "../prometheus/query-cache.ts";
import { BadRequestError, NotFoundError } from "../apimachinery/status.ts";
import {
  FieldSelectorError,
  fieldSelectorMatches,
  parseFieldSelector,
  type FieldRequirement,
} from "../apimachinery/fields.ts";
import {
  assembleNodeUsage,
  assemblePodUsage,
  type NodeUsage,
  type PodUsage,
  type UsageSample,
} from "./resource-metrics-assembly.ts";
import type { NodeRef, PodRef, ResourceObjectSource } from "./resource-object-source.ts";
import { compareStrings } from "../util/compare.ts";

/** The compiled `resourceRules` (present whenever metrics.k8s.io is served). */
export type ResourceRules = NonNullable<CompiledRules["resource"]>;

/** One PodMetrics: usage plus the object's metadata. */
export interface PodMetricsValue extends PodUsage {
  /** `metadata.labels`, keys sorted; `{}` when none. */
  readonly labels: Readonly<Record<string, string>>;
  /** Answer time in ms (upstream's `creationTimestamp`). */
  readonly creationTimestampMs: number;
}

/** One NodeMetrics: usage plus the object's metadata. */
export interface NodeMetricsValue extends NodeUsage {
  readonly labels: Readonly<Record<string, string>>;
  readonly creationTimestampMs: number;
}

/** Selectors of a list request, raw as they arrived (`""` when absent). */
export interface ListSelectors {
  readonly labelSelector: string;
  readonly fieldSelector: string;
}

export interface ResourceMetricsProviderDeps {
  /** The compiled resource rules; read per request (rules may reload). */
  readonly rules: () => ResourceRules;
  readonly objects: ResourceObjectSource;
  /** Prometheus instant queries (the client); see the NB above on why not the QueryCache. */
  readonly prometheus: QuerySource;
  /** Wall clock in ms: the queries' `time` and the answers' `creationTimestamp`. */
  readonly now: () => number;
  readonly logger: Logger;
}

export interface ResourceMetricsProvider {
  /** R3 (namespace undefined) and R4; sorted by namespace, then name. Throws ApiError (400 for bad selectors). */
  listPods(namespace: string | undefined, selectors: ListSelectors): Promise<PodMetricsValue[]>;
  /** R5; throws NotFoundError for an unknown pod or one without data. */
  getPod(namespace: string, name: string): Promise<PodMetricsValue>;
  /** R1; sorted by name. */
  listNodes(selectors: ListSelectors): Promise<NodeMetricsValue[]>;
  /** R2; throws NotFoundError for an unknown node or one without data. */
  getNode(name: string): Promise<NodeMetricsValue>;
}

const METRICS_GROUP = "metrics.k8s.io";
// Fixed label names the samples are normalised to, so CPU and memory rules may use different labels.
const POD = "pod";
const CONTAINER = "container";
const NODE = "node";

/** The resource metrics provider; see the file comment for the query plan. */
export function createResourceMetricsProvider({
  rules,
  objects,
  prometheus,
  now,
  logger,
}: ResourceMetricsProviderDeps): ResourceMetricsProvider {
  /** Runs one query; samples keep only the labels in `labels` (normalised name -> rule's label), renamed. */
  async function usageSamples(
    query: PromQL,
    timeSeconds: number,
    labels: Readonly<Record<string, string>>,
  ): Promise<UsageSample[]> {
    const result = await prometheus.query(query, timeSeconds);
    if (result.resultType !== "vector")
      throw new Error(`query returned a ${result.resultType}, expected a vector: ${query}`);
    // A value that is not a float fails the query, like an unreachable Prometheus (logged, the objects skipped).
    checkSampleValues(result, query);
    return result.result.map((sample) => {
      const normalised: Record<string, string> = {};
      for (const [as, label] of Object.entries(labels)) {
        const value = sample.metric[label];
        if (value !== undefined) normalised[as] = value;
      }
      return { labels: normalised, value: sample.value, timestampMs: sample.timestampSeconds * 1000 };
    });
  }

  /** CPU and memory samples of the pods of one namespace; null (logged) when either query fails. */
  async function namespaceSamples(
    config: ResourceRules,
    namespace: string,
    names: readonly string[],
    timeSeconds: number,
  ) {
    const run = (rule: CompiledResourceRule) => {
      const query = renderObjectQuery(rule.containerQuery, {
        series: "",
        requirements: [],
        namespace: { label: rule.namespaceLabel, value: namespace },
        resourceLabel: rule.podLabel,
        names,
        extraGroupBy: [rule.containerLabel],
      });
      return usageSamples(query, timeSeconds, { [POD]: rule.podLabel, [CONTAINER]: rule.containerLabel });
    };
    try {
      const [cpu, memory] = await Promise.all([run(config.cpu), run(config.memory)]);
      return { cpu, memory };
    } catch (error) {
      logger.error("unable to fetch metrics for pods in namespace, skipping its pods", {
        namespace,
        error: errorText(error),
      });
      return null;
    }
  }

  async function podMetrics(pods: readonly PodRef[]): Promise<PodMetricsValue[]> {
    if (pods.length === 0) return [];
    const config = rules();
    const timeMs = now();
    const namesByNamespace = new Map<string, string[]>();
    for (const pod of pods)
      namesByNamespace.set(pod.namespace, [...(namesByNamespace.get(pod.namespace) ?? []), pod.name]);

    const results = await Promise.all(
      [...namesByNamespace].map(
        async ([namespace, names]) =>
          [namespace, await namespaceSamples(config, namespace, names, timeMs / 1000)] as const,
      ),
    );
    const cpuByNamespace = new Map<string, readonly UsageSample[]>();
    const memoryByNamespace = new Map<string, readonly UsageSample[]>();
    for (const [namespace, samples] of results) {
      if (samples === null) continue;
      cpuByNamespace.set(namespace, samples.cpu);
      memoryByNamespace.set(namespace, samples.memory);
    }

    const usage = assemblePodUsage({
      pods,
      cpuByNamespace,
      memoryByNamespace,
      podLabel: POD,
      containerLabel: CONTAINER,
      window: config.window,
    });
    logMissingPods(pods, usage, cpuByNamespace, memoryByNamespace);
    const byKey = new Map(pods.map((pod) => [`${pod.namespace}/${pod.name}`, pod]));
    return usage.map((value) => ({
      ...value,
      labels: sortedLabels(byKey.get(`${value.namespace}/${value.name}`)?.labels ?? {}),
      creationTimestampMs: timeMs,
    }));
  }

  function logMissingPods(
    pods: readonly PodRef[],
    usage: readonly PodUsage[],
    cpuByNamespace: ReadonlyMap<string, readonly UsageSample[]>,
    memoryByNamespace: ReadonlyMap<string, readonly UsageSample[]>,
  ): void {
    if (!logger.enabled(1) || usage.length === pods.length) return;
    const answered = new Set(usage.map((pod) => `${pod.namespace}/${pod.name}`));
    const seen = (samples: readonly UsageSample[] | undefined, name: string) =>
      samples?.some((sample) => sample.labels[POD] === name) ?? false;
    for (const pod of pods) {
      if (answered.has(`${pod.namespace}/${pod.name}`) || !cpuByNamespace.has(pod.namespace)) continue;
      const missing = [
        seen(cpuByNamespace.get(pod.namespace), pod.name) ? "" : "CPU",
        seen(memoryByNamespace.get(pod.namespace), pod.name) ? "" : "memory",
      ];
      logger.info(1, "no resource metrics for pod, leaving it out", {
        pod: `${pod.namespace}/${pod.name}`,
        missing: missing.filter(Boolean).join(","),
      });
    }
  }

  async function nodeMetrics(nodes: readonly NodeRef[]): Promise<NodeMetricsValue[]> {
    if (nodes.length === 0) return [];
    const config = rules();
    const timeMs = now();
    const names = nodes.map((node) => node.name);
    const run = (rule: CompiledResourceRule) => {
      const query = renderObjectQuery(rule.nodeQuery, {
        series: "",
        requirements: [],
        resourceLabel: rule.nodeLabel,
        names,
      });
      return usageSamples(query, timeMs / 1000, { [NODE]: rule.nodeLabel });
    };
    let cpu: UsageSample[];
    let memory: UsageSample[];
    try {
      [cpu, memory] = await Promise.all([run(config.cpu), run(config.memory)]);
    } catch (error) {
      logger.error("unable to fetch node metrics", { error: errorText(error) });
      return [];
    }
    const usage = assembleNodeUsage({ nodes: names, cpu, memory, nodeLabel: NODE, window: config.window });
    if (logger.enabled(1) && usage.length < names.length) {
      const answered = new Set(usage.map((node) => node.name));
      for (const name of names) {
        if (answered.has(name)) continue;
        const missing = [
          cpu.some((s) => s.labels[NODE] === name) ? "" : "CPU",
          memory.some((s) => s.labels[NODE] === name) ? "" : "memory",
        ];
        logger.info(1, "no resource metrics for node, leaving it out", {
          node: name,
          missing: missing.filter(Boolean).join(","),
        });
      }
    }
    const labelsByName = new Map(nodes.map((node) => [node.name, node.labels]));
    return usage.map((value) => ({
      ...value,
      labels: sortedLabels(labelsByName.get(value.name) ?? {}),
      creationTimestampMs: timeMs,
    }));
  }

  return {
    async listPods(namespace, selectors) {
      const fields = parseSelectors(selectors);
      const pods = (await objects.listPods(namespace, selectors.labelSelector))
        .filter((pod) => fieldSelectorMatches(fields, pod))
        .sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
      return podMetrics(pods);
    },
    async getPod(namespace, name) {
      const pod = await objects.getPod(namespace, name);
      if (pod === null) throw new NotFoundError(`pods "${name}" not found`, { name, kind: "pods" });
      const [value] = await podMetrics([pod]);
      if (value === undefined) {
        const id = `${namespace}/${name}`;
        throw new NotFoundError(`podmetrics.${METRICS_GROUP} "${id}" not found`, {
          name: id,
          group: METRICS_GROUP,
          kind: "podmetrics",
        });
      }
      return value;
    },
    async listNodes(selectors) {
      const fields = parseSelectors(selectors);
      const nodes = (await objects.listNodes(selectors.labelSelector))
        .filter((node) => fieldSelectorMatches(fields, { name: node.name }))
        .sort((a, b) => compareStrings(a.name, b.name));
      return nodeMetrics(nodes);
    },
    async getNode(name) {
      const node = await objects.getNode(name);
      if (node === null) throw new NotFoundError(`nodes "${name}" not found`, { name, kind: "nodes" });
      const [value] = await nodeMetrics([node]);
      if (value === undefined) {
        throw new NotFoundError(`nodemetrics.${METRICS_GROUP} "${name}" not found`, {
          name,
          group: METRICS_GROUP,
          kind: "nodemetrics",
        });
      }
      return value;
    },
  };
}

/** Validates both selectors (400 on errors) and returns the parsed field selector. */
function parseSelectors({ labelSelector, fieldSelector }: ListSelectors): FieldRequirement[] {
  parseLabelSelectorParameter(labelSelector);
  try {
    return parseFieldSelector(fieldSelector);
  } catch (error) {
    if (error instanceof FieldSelectorError)
      throw new BadRequestError(`unable to parse fieldSelector: ${error.message}`);
    throw error;
  }
}

function sortedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  // NB: Go's encoding/json prints map keys in byte order.
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => compareStrings(a, b)));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
