/**
 * Turns CPU and memory query results into PodMetrics / NodeMetrics contents (rules/README.md, External and resource
 * rules; docs/api.md, Resource metrics): NaN, negative and +Inf samples count as 0; a pod or node needs both a CPU and
 * a memory result; a container seen in one result only gets 0 for the other; containers are sorted by name; the
 * timestamp is the earliest sample.
 */
import type { SeriesLabels } from "../prometheus/types.ts";
import { parseSampleValue } from "../prometheus/sample-value.ts";
import { formatGoDuration, type Milliseconds } from "../util/duration.ts";
import { quantityFromResourceUsage } from "../apimachinery/quantity.ts";

export interface UsageSample {
  readonly labels: SeriesLabels;
  /** Raw Prometheus sample text. */
  readonly value: string;
  readonly timestampMs: number;
}

export interface ContainerUsage {
  readonly name: string;
  readonly usage: { readonly cpu: string; readonly memory: string };
}

export interface PodUsage {
  readonly namespace: string;
  readonly name: string;
  /** Earliest sample time of the pod, ms. */
  readonly timestampMs: number;
  /** Go duration text, e.g. `5m0s`. */
  readonly window: string;
  readonly containers: readonly ContainerUsage[];
}

export interface NodeUsage {
  readonly name: string;
  readonly timestampMs: number;
  readonly window: string;
  readonly usage: { readonly cpu: string; readonly memory: string };
}

interface Accumulated {
  timestampMs: number;
  cpu: Map<string, number>;
  memory: Map<string, number>;
}

/**
 * Pod usage for `pods` (in that order), from per-namespace CPU and memory samples grouped by `podLabel` and
 * `containerLabel`. Pods without both results are left out.
 */
export function assemblePodUsage({
  pods,
  cpuByNamespace,
  memoryByNamespace,
  podLabel,
  containerLabel,
  window,
}: {
  pods: readonly { readonly namespace: string; readonly name: string }[];
  cpuByNamespace: ReadonlyMap<string, readonly UsageSample[]>;
  memoryByNamespace: ReadonlyMap<string, readonly UsageSample[]>;
  podLabel: string;
  containerLabel: string;
  window: Milliseconds;
}): PodUsage[] {
  const byPod = new Map<string, Accumulated>();
  const collect = (samplesByNamespace: ReadonlyMap<string, readonly UsageSample[]>, which: "cpu" | "memory") => {
    for (const [namespace, samples] of samplesByNamespace) {
      for (const sample of samples) {
        const pod = sample.labels[podLabel];
        if (pod === undefined) continue;
        const key = `${namespace}/${pod}`;
        const entry = byPod.get(key) ?? { timestampMs: sample.timestampMs, cpu: new Map(), memory: new Map() };
        entry.timestampMs = Math.min(entry.timestampMs, sample.timestampMs);
        entry[which].set(sample.labels[containerLabel] ?? "", usageValue(sample.value));
        byPod.set(key, entry);
      }
    }
  };
  collect(cpuByNamespace, "cpu");
  collect(memoryByNamespace, "memory");

  const out: PodUsage[] = [];
  for (const pod of pods) {
    const entry = byPod.get(`${pod.namespace}/${pod.name}`);
    if (!entry || entry.cpu.size === 0 || entry.memory.size === 0) continue;
    const names = [...new Set([...entry.cpu.keys(), ...entry.memory.keys()])].sort();
    out.push({
      namespace: pod.namespace,
      name: pod.name,
      timestampMs: entry.timestampMs,
      window: formatGoDuration(window),
      containers: names.map((name) => ({
        name,
        usage: {
          cpu: quantityFromResourceUsage(entry.cpu.get(name) ?? 0, "DecimalSI"),
          memory: quantityFromResourceUsage(entry.memory.get(name) ?? 0, "BinarySI"),
        },
      })),
    });
  }
  return out;
}

/** Node usage for `nodes` (in that order): the first CPU and first memory sample of each; nodes missing either are left out. */
export function assembleNodeUsage({
  nodes,
  cpu,
  memory,
  nodeLabel,
  window,
}: {
  nodes: readonly string[];
  cpu: readonly UsageSample[];
  memory: readonly UsageSample[];
  nodeLabel: string;
  window: Milliseconds;
}): NodeUsage[] {
  const first = (samples: readonly UsageSample[]) => {
    const byNode = new Map<string, UsageSample>();
    for (const sample of samples) {
      const node = sample.labels[nodeLabel];
      if (node !== undefined && !byNode.has(node)) byNode.set(node, sample);
    }
    return byNode;
  };
  const cpuByNode = first(cpu);
  const memoryByNode = first(memory);
  const out: NodeUsage[] = [];
  for (const name of nodes) {
    const cpuSample = cpuByNode.get(name);
    const memorySample = memoryByNode.get(name);
    if (!cpuSample || !memorySample) continue;
    out.push({
      name,
      timestampMs: Math.min(cpuSample.timestampMs, memorySample.timestampMs),
      window: formatGoDuration(window),
      usage: {
        cpu: quantityFromResourceUsage(usageValue(cpuSample.value), "DecimalSI"),
        memory: quantityFromResourceUsage(usageValue(memorySample.value), "BinarySI"),
      },
    });
  }
  return out;
}

/** Unparseable sample text counts as NaN, which resource usage turns into 0. */
function usageValue(text: string): number {
  try {
    return parseSampleValue(text);
  } catch {
    return Number.NaN;
  }
}
