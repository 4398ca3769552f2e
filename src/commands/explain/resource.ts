/**
 * `explain` of a metrics.k8s.io path (what `kubectl top` asks): reads the rules, answers the request with the real
 * resource metrics provider and object source behind the real app while recording every query and object lookup,
 * then lists the steps (request, rules, objects, query, result, matching, response).
 */
import { composeApp, OFFLINE_ENDPOINTS } from "../../app/compose.ts";
import { EMPTY_REGISTRY } from "../../discovery/registry.ts";
import type { ResourceRules } from "../../providers/resource-metrics-provider.ts";
import { createQueryCache } from "../../prometheus/query-cache.ts";
import type { Logger } from "../../observability/logger.ts";
import type { QuerySource } from "../../prometheus/query-cache.ts";
import type { BackendConfig } from "../../config/schema.ts";
import { formatPrometheusDuration } from "../../util/duration.ts";
import type { KubernetesAccess } from "../environment.ts";
import { answerThroughApp, responseStep, rulesStep, type Analysis } from "./steps/shared.ts";
import { analyseResourceRequest } from "./steps/resource.ts";
import type { ExplainStep, ResourceRequest } from "./types.ts";
import { recordQueries, recordResourceObjects, type RecordedObjectLookup } from "./recording.ts";
import { loadRulesReport } from "../check/rules-report.ts";

export interface ResourceExplainInput {
  readonly request: ResourceRequest;
  /** Path and query, as the app receives them. */
  readonly pathAndQuery: string;
  /** `--config`; undefined for the built-in default rules. */
  readonly configFile: string | undefined;
  readonly access: KubernetesAccess;
  readonly prometheus: QuerySource;
  /** The client of a named backend, for `resourceRules.backend`; throws UsageError when its files are unusable. */
  readonly backendSource?: (config: BackendConfig) => QuerySource;
  /** Receives what the server would log. */
  readonly serverLog: Logger;
  /** Wall clock in ms. */
  readonly now: () => number;
}

/** Every step of one metrics.k8s.io request, from the request to the response. */
export async function explainResourceRequest(input: ResourceExplainInput): Promise<Analysis> {
  const { request, access, serverLog, now } = input;
  const steps: ExplainStep[] = [
    { step: "request", status: "ok", summary: describeResourceRequest(request), hints: [], data: request },
  ];
  const report = await loadRulesReport(input.configFile, access.mapper, access.mapperKind);
  const resourceRules = report.compiled?.resource ?? null;
  const notServed =
    resourceRules === null
      ? {
          reason: "resource-rules-missing" as const,
          summary: `${report.file} has no \`resourceRules\`: metrics.k8s.io is not served (kubectl top says "Metrics API not available")`,
          hints: [
            "add resourceRules (cpu and memory, each with containerQuery, nodeQuery, resources and containerLabel; see rules/default.yaml)",
          ],
        }
      : null;
  steps.push(rulesStep(report, notServed, () => describeResourceRules(report.file, resourceRules as ResourceRules)));
  if (report.compiled === null) return { steps, unreachable: null };
  // `resourceRules.backend`: every query goes to that backend, as the server sends them.
  const named = report.compiled.backends.find((backend) => backend.config.name === resourceRules?.backend);
  const prometheus = named && input.backendSource ? input.backendSource(named.config) : input.prometheus;

  const objectQueries = recordQueries(prometheus);
  const usageQueries = recordQueries(prometheus);
  const objectCalls: RecordedObjectLookup[] = [];
  const app = composeApp(
    {
      served: { custom: () => false, external: () => false, resource: () => resourceRules },
      registry: () => EMPTY_REGISTRY,
      mapper: access.mapper,
      queries: createQueryCache({ source: usageQueries, ttl: 0, now }),
      prometheus: usageQueries,
      objectQueries,
      resourceObjects: access.resourceObjects,
      wrapResourceObjects: (source) => recordResourceObjects(source, objectCalls),
      now,
      logger: serverLog,
    },
    OFFLINE_ENDPOINTS,
  );
  const nowMs = now();
  const response = await answerThroughApp(app, input.pathAndQuery);

  let unreachable: string | null = null;
  if (resourceRules !== null) {
    const analysis = await analyseResourceRequest({
      request,
      rules: resourceRules,
      mode: access.resourceObjects === undefined ? "standalone" : "cluster",
      objectCalls,
      objectQueries: objectQueries.calls,
      usageQueries: usageQueries.calls,
      response,
      prometheus,
      nowMs,
    });
    steps.push(...analysis.steps);
    unreachable = analysis.unreachable;
  }
  steps.push(responseStep(response, "kubectl top prints no resources found"));
  return { steps, unreachable };
}

/** What the request asks, with the kubectl command that sends it. */
export function describeResourceRequest(request: ResourceRequest): string {
  const selectors = [
    request.labelSelector === "" ? "" : `labelSelector ${request.labelSelector}`,
    request.fieldSelector === "" ? "" : `fieldSelector ${request.fieldSelector}`,
  ].filter((part) => part !== "");
  const tail = selectors.length === 0 ? "" : `, ${selectors.join(", ")}`;
  if (request.resource === "nodes") {
    return request.name === undefined
      ? `NodeMetrics of every node (kubectl top nodes)${tail}`
      : `NodeMetrics of node ${request.name} (kubectl top node ${request.name})${tail}`;
  }
  if (request.name !== undefined)
    return `PodMetrics of pod ${request.name} in namespace ${request.namespace} (kubectl top pod ${request.name} -n ${request.namespace})${tail}`;
  if (request.namespace === undefined) return `PodMetrics of the pods in every namespace (kubectl top pods -A)${tail}`;
  return `PodMetrics of the pods in namespace ${request.namespace} (kubectl top pods -n ${request.namespace})${tail}`;
}

/** The label mapping, containerLabel and window of the resource rules, in one line. */
export function describeResourceRules(file: string, rules: ResourceRules): string {
  const mapping = (rule: ResourceRules["cpu"]) =>
    `pods ← ${rule.podLabel}, nodes ← ${rule.nodeLabel}, namespaces ← ${rule.namespaceLabel}, containerLabel ${rule.containerLabel}`;
  const cpu = mapping(rules.cpu);
  const memory = mapping(rules.memory);
  const labels = cpu === memory ? cpu : `cpu: ${cpu}; memory: ${memory}`;
  const backend = rules.backend === undefined ? "" : `; backend ${rules.backend}`;
  return `${file}: resourceRules present (${labels}; window ${formatPrometheusDuration(rules.window)}${backend})`;
}
