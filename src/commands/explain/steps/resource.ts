/**
 * The metrics.k8s.io half of `explain`, after the real provider answered: walks what it recorded — which pods or
 * nodes were found, the CPU and memory PromQL (per namespace for pods, one pair for nodes), the samples each returned
 * — and says per object whether it got CPU and memory and, when not, why.
 */
import type { CompiledResourceRule } from "../../../naming/compile-rules.ts";
import { renderObjectQuery } from "../../../naming/query-builder.ts";
import type { PromQL } from "../../../naming/promql.ts";
import { formatKubernetesTime } from "../../../util/clock.ts";
import {
  errorText,
  listSome,
  prometheusUnreachable,
  responseMessage,
  runProbe,
  sampleView,
  vectorSamples,
  type Analysis,
} from "./shared.ts";
import type { ExplainStep, ObjectMatch, Probe, SampleView } from "../types.ts";
import type { RecordedQuery } from "../recording.ts";
import { objectKey, type ResourceAnalysisContext, type ResourceObject } from "./resource-context.ts";
import { objectsStep } from "./resource-objects.ts";

type Usage = "cpu" | "memory";
const USAGES: readonly Usage[] = ["cpu", "memory"];
const USAGE_TEXT: Readonly<Record<Usage, string>> = { cpu: "CPU", memory: "memory" };

/** One CPU or memory query of one namespace (pods) or of the nodes, as the provider rendered it. */
interface UsageQuery {
  readonly usage: Usage;
  readonly namespace: string | undefined;
  readonly rule: CompiledResourceRule;
  /** The label that names the object in this rule's samples. */
  readonly label: string;
  readonly sent: RecordedQuery | undefined;
  readonly samples: readonly SampleView[];
  /** For an empty result: the object label's values the query returns for any object (probed). */
  probedValues: readonly string[];
}

/** Objects, query, result and matching steps of one metrics.k8s.io request. */
export async function analyseResourceRequest(ctx: ResourceAnalysisContext): Promise<Analysis> {
  const steps: ExplainStep[] = [];
  const found = objectsStep(ctx);
  steps.push(found.step);
  if (found.objects === null || found.objects.length === 0) return { steps, unreachable: found.unreachable };

  const groups =
    ctx.request.resource === "nodes" ? [{ namespace: undefined, objects: found.objects }] : byNamespace(found.objects);
  const queries: UsageQuery[] = [];
  for (const group of groups)
    for (const usage of USAGES) queries.push(usageQuery(ctx, usage, group.namespace, group.objects));

  let unreachable: string | null = null;
  const everyResultEmpty = queries.every(
    (query) => query.sent?.error === undefined && query.sent !== undefined && query.samples.length === 0,
  );
  for (const query of queries) {
    steps.push(usageQueryStep(ctx, query));
    unreachable ??= prometheusUnreachable(query.sent);
    if (query.sent !== undefined && query.sent.error === undefined)
      steps.push(await usageResultStep(ctx, query, everyResultEmpty));
  }
  steps.push(usageMatchingStep(ctx, found.objects, queries));
  return { steps, unreachable };
}

function byNamespace(
  objects: readonly ResourceObject[],
): { namespace: string | undefined; objects: ResourceObject[] }[] {
  const groups = new Map<string, ResourceObject[]>();
  for (const object of objects) {
    const namespace = object.namespace ?? "";
    groups.set(namespace, [...(groups.get(namespace) ?? []), object]);
  }
  return [...groups].map(([namespace, members]) => ({ namespace, objects: members }));
}

/** The query the provider sends for `usage` (its exact text), and the recorded call with that text. */
function usageQuery(
  ctx: ResourceAnalysisContext,
  usage: Usage,
  namespace: string | undefined,
  objects: readonly ResourceObject[],
): UsageQuery {
  const rule = ctx.rules[usage];
  const names = objects.map((object) => object.name);
  const label = ctx.request.resource === "pods" ? rule.podLabel : rule.nodeLabel;
  const query = renderUsageQuery(ctx.request.resource, rule, namespace, names, false);
  const sent = ctx.usageQueries.find((call) => call.query === query);
  return {
    usage,
    namespace,
    rule,
    label,
    sent,
    samples: vectorSamples(sent?.result ?? null).map(sampleView),
    probedValues: [],
  };
}

/**
 * The provider's query (rules/README.md, External and resource rules); `anyName` asks for every object instead of
 * `names`.
 */
function renderUsageQuery(
  resource: "pods" | "nodes",
  rule: CompiledResourceRule,
  namespace: string | undefined,
  names: readonly string[],
  anyName: boolean,
): PromQL {
  if (resource === "nodes")
    return renderObjectQuery(rule.nodeQuery, {
      series: "",
      requirements: [],
      resourceLabel: rule.nodeLabel,
      names,
      anyName,
    });
  return renderObjectQuery(rule.containerQuery, {
    series: "",
    requirements: [],
    namespace: { label: rule.namespaceLabel, value: namespace ?? "" },
    resourceLabel: rule.podLabel,
    names,
    anyName,
    extraGroupBy: [rule.containerLabel],
  });
}

function queryTitle(query: UsageQuery): string {
  return `${USAGE_TEXT[query.usage]}${query.namespace === undefined ? " of the nodes" : `, namespace ${query.namespace}`}`;
}

function usageQueryStep(ctx: ResourceAnalysisContext, query: UsageQuery): ExplainStep {
  const template = ctx.request.resource === "pods" ? query.rule.containerQuery.source : query.rule.nodeQuery.source;
  const { sent } = query;
  if (sent === undefined) {
    const message = responseMessage(ctx.response.body);
    return {
      step: "query",
      status: "failed",
      reason: "error-response",
      summary: `${queryTitle(query)}: no query was sent (${message})`,
      hints: [],
      data: { template, promql: null, time: null, error: message },
    };
  }
  const time = formatKubernetesTime(sent.timeSeconds * 1000);
  if (sent.error !== undefined) {
    const error = errorText(sent.error);
    const lost =
      ctx.request.resource === "pods"
        ? `the server leaves out every pod of namespace ${query.namespace}`
        : "the server answers no node";
    return {
      step: "query",
      status: "failed",
      reason: "query-failed",
      summary: `${queryTitle(query)}: Prometheus failed the query (${lost}): ${error}`,
      hints: [`the rendered PromQL is ${sent.query}`],
      data: { template, promql: sent.query, time, error },
    };
  }
  return {
    step: "query",
    status: "ok",
    summary: `${queryTitle(query)}: ${sent.query}`,
    hints: [],
    data: { template, promql: sent.query, time, error: null },
  };
}

async function usageResultStep(
  ctx: ResourceAnalysisContext,
  query: UsageQuery,
  everyResultEmpty: boolean,
): Promise<ExplainStep> {
  const resultType = query.sent?.result?.resultType ?? null;
  if (resultType !== "vector") {
    return {
      step: "result",
      status: "failed",
      reason: "query-failed",
      summary: `${queryTitle(query)}: the query returned a ${resultType}; resource queries need a vector`,
      hints: ["containerQuery and nodeQuery must produce an instant vector grouped by <<.GroupBy>>"],
      data: { resultType, samples: [], probes: [] },
    };
  }
  if (query.samples.length > 0) {
    const values = distinct(query.samples.map((sample) => sample.labels[query.label] ?? "(none)"));
    return {
      step: "result",
      status: "ok",
      summary: `${queryTitle(query)}: ${query.samples.length} sample(s), ${query.label}=${listSome(values, 5)}`,
      hints: [],
      data: { resultType, samples: query.samples, probes: [] },
    };
  }
  const probes: Probe[] = [];
  const anyQuery = renderUsageQuery(ctx.request.resource, query.rule, query.namespace, [], true);
  const { probe, samples } = await runProbe(
    ctx.prometheus,
    `does the query return anything for any ${ctx.request.resource === "pods" ? "pod" : "node"}?`,
    anyQuery,
    ctx.nowMs,
  );
  probes.push(probe);
  const values = distinct(samples.map((sample) => sample.metric[query.label] ?? "(none)"));
  query.probedValues = values;
  const summary =
    (probe.samples ?? 0) > 0
      ? `${queryTitle(query)}: no samples for the requested ${ctx.request.resource}; for any ${query.label} it returns ${probe.samples} sample(s), ${query.label}=${listSome(values, 5)}`
      : `${queryTitle(query)}: no samples, not even for ${query.label}=~".+": the series are missing (not scraped, or their labels differ from what the rule maps)`;
  return {
    step: "result",
    status: everyResultEmpty ? "failed" : "warning",
    reason: "query-empty",
    summary,
    hints: [],
    data: { resultType, samples: [], probes },
  };
}

function usageMatchingStep(
  ctx: ResourceAnalysisContext,
  objects: readonly ResourceObject[],
  queries: readonly UsageQuery[],
): ExplainStep {
  const kind = ctx.request.resource;
  const served = servedUsage(ctx.response.body);
  const matches: ObjectMatch[] = objects.map((object) => {
    const key = objectKey(object);
    const value = served.get(key) ?? null;
    const notes: string[] = [];
    const counts: string[] = [];
    const own = USAGES.flatMap((usage) => {
      const query = queries.find((candidate) => candidate.usage === usage && candidate.namespace === object.namespace);
      return query === undefined
        ? []
        : [{ query, matched: query.samples.filter((sample) => sample.labels[query.label] === object.name).length }];
    });
    for (const { query, matched } of own) {
      if (matched > 0) counts.push(`${USAGE_TEXT[query.usage]} from ${matched} sample(s)`);
      else
        notes.push(
          missingUsage(
            kind,
            query,
            object.name,
            own.find((other) => other.query !== query && other.matched > 0)?.query,
          ),
        );
    }
    if (notes.length > 0) return { name: key, value, note: notes.join("; ") };
    return {
      name: key,
      value,
      note: value === null ? `${counts.join(", ")}, but the server did not serve it` : counts.join(", "),
    };
  });
  const missing = matches.filter((match) => match.value === null);
  const label = kind === "pods" ? ctx.rules.cpu.podLabel : ctx.rules.cpu.nodeLabel;
  const data = { label, objects: matches, unmatchedSamples: [] };
  if (missing.length === 0)
    return {
      step: "matching",
      status: "ok",
      summary: `every ${kind === "pods" ? "pod" : "node"} (${matches.length}) has CPU and memory usage`,
      hints: [],
      data,
    };
  const what = kind === "pods" ? "pod(s)" : "node(s)";
  const summary = `${missing.length} of ${matches.length} ${what} lack CPU or memory usage and are left out: ${listSome(missing.map((match) => match.name))}`;
  const hints = [
    `a ${kind === "pods" ? "pod" : "node"} needs both a CPU and a memory sample; kubectl top ${kind === "pods" ? "pod" : "node"} shows only those (a named one answers 404)`,
  ];
  return {
    step: "matching",
    status: missing.length === matches.length ? "failed" : "warning",
    reason: "object-missing-usage",
    summary,
    hints,
    data,
  };
}

/** Why `name` got no sample from `query`; `found` is the other usage's query when it did have a sample for `name`. */
function missingUsage(kind: "pods" | "nodes", query: UsageQuery, name: string, found: UsageQuery | undefined): string {
  const what = USAGE_TEXT[query.usage];
  const resource = kind === "pods" ? "pods" : "nodes";
  if (query.sent === undefined || query.sent.error !== undefined) return `the ${what} query failed`;
  const values =
    query.samples.length > 0
      ? distinct(
          query.samples.flatMap((sample) =>
            sample.labels[query.label] === undefined ? [] : [sample.labels[query.label] as string],
          ),
        )
      : query.probedValues;
  if (query.samples.length === 0 && values.length === 0) return `no ${what} sample: the ${what} query returned nothing`;
  if (values.length === 0) {
    return `no ${what} sample has a ${query.label} label: the query aggregates it away (group by <<.GroupBy>>) or the rule maps ${resource} to another label`;
  }
  const guess =
    found !== undefined && found.label === query.label
      ? `the ${USAGE_TEXT[found.usage]} query has one under the same label, so this ${kind === "pods" ? "pod" : "node"}'s ${what} series are missing (not scraped, or named differently)`
      : kind === "nodes"
        ? `the node label in Prometheus is probably another one (e.g. node= or instance=<address>), or the rule maps another label`
        : `the pod is not scraped for ${what}, or the rule maps pods to another label`;
  const seen = query.samples.length > 0 ? "the samples have" : "for any object the query returns";
  return `no ${what} sample with label ${query.label}=${name} (${seen} ${query.label}=${listSome(values, 5)}): ${guess}`;
}

/** `namespace/name` (pods) or `name` (nodes) -> the served usage as text, from a metrics.k8s.io body. */
function servedUsage(body: unknown): Map<string, string> {
  const out = new Map<string, string>();
  type Item = {
    metadata?: { name?: string; namespace?: string };
    usage?: { cpu?: string; memory?: string };
    containers?: { name?: string; usage?: { cpu?: string; memory?: string } }[];
  };
  const list = (body as { items?: unknown } | null)?.items;
  const items = Array.isArray(list)
    ? (list as Item[])
    : body !== null && typeof body === "object" && "metadata" in body
      ? [body as Item]
      : [];
  for (const item of items) {
    const name = item.metadata?.name;
    if (name === undefined) continue;
    const key = item.metadata?.namespace === undefined ? name : `${item.metadata.namespace}/${name}`;
    if (item.usage) out.set(key, `cpu ${item.usage.cpu}, memory ${item.usage.memory}`);
    else if (item.containers)
      out.set(
        key,
        item.containers
          .map((container) => `${container.name}: cpu ${container.usage?.cpu}, memory ${container.usage?.memory}`)
          .join("; "),
      );
  }
  return out;
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
