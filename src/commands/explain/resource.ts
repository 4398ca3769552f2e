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
import { formatPrometheusDuration } from "../../util/duration.ts";
import type { KubernetesAccess } from "../environment.ts";
import { answerThroughApp, responseMessage, type Analysis } from "./steps/shared.ts";
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
  /** Receives what the server would log. */
  readonly serverLog: Logger;
  /** Wall clock in ms. */
  readonly now: () => number;
}

/** Every step of one metrics.k8s.io request, from the request to the response. */
export async function explainResourceRequest(input: ResourceExplainInput): Promise<Analysis> {
  const { request, access, prometheus, serverLog, now } = input;
  const steps: ExplainStep[] = [{ step: "request", status: "ok", summary: describeResourceRequest(request), hints: [], data: request }];
  const report = await loadRulesReport(input.configFile, access.mapper, access.mapperKind);
  const compiled = report.compiled;
  const warnings = report.findings.filter((finding) => finding.severity === "warning").map((finding) => `${finding.path}: ${finding.message}`);
  const data = { file: report.file, findings: report.findings };
  if (compiled === null) {
    steps.push({ step: "rules", status: "failed", reason: "rules-invalid", summary: `${report.file} is invalid: the server would not start (run prom-adapter check for details)`, hints: warnings, data });
    return { steps, unreachable: null };
  }
  const resourceRules = compiled.resource;
  steps.push(
    resourceRules === null
      ? {
          step: "rules",
          status: "failed",
          reason: "resource-rules-missing",
          summary: `${report.file} has no \`resourceRules\`: metrics.k8s.io is not served (kubectl top says "Metrics API not available")`,
          hints: ["add resourceRules (cpu and memory, each with containerQuery, nodeQuery, resources and containerLabel; see rules/default.yaml)", ...warnings],
          data,
        }
      : { step: "rules", status: "ok", summary: describeResourceRules(report.file, resourceRules), hints: warnings, data },
  );

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
  steps.push(resourceResponseStep(response));
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
    return request.name === undefined ? `NodeMetrics of every node (kubectl top nodes)${tail}` : `NodeMetrics of node ${request.name} (kubectl top node ${request.name})${tail}`;
  }
  if (request.name !== undefined) return `PodMetrics of pod ${request.name} in namespace ${request.namespace} (kubectl top pod ${request.name} -n ${request.namespace})${tail}`;
  if (request.namespace === undefined) return `PodMetrics of the pods in every namespace (kubectl top pods -A)${tail}`;
  return `PodMetrics of the pods in namespace ${request.namespace} (kubectl top pods -n ${request.namespace})${tail}`;
}

/** The label mapping, containerLabel and window of the resource rules, in one line. */
export function describeResourceRules(file: string, rules: ResourceRules): string {
  const mapping = (rule: ResourceRules["cpu"]) => `pods ← ${rule.podLabel}, nodes ← ${rule.nodeLabel}, namespaces ← ${rule.namespaceLabel}, containerLabel ${rule.containerLabel}`;
  const cpu = mapping(rules.cpu);
  const memory = mapping(rules.memory);
  const labels = cpu === memory ? cpu : `cpu: ${cpu}; memory: ${memory}`;
  return `${file}: resourceRules present (${labels}; window ${formatPrometheusDuration(rules.window)})`;
}

function resourceResponseStep(response: { status: number; body: unknown }): ExplainStep {
  const body = response.body as { kind?: unknown; items?: unknown; metadata?: { name?: unknown } } | null;
  const kind = typeof body?.kind === "string" ? body.kind : "";
  if (response.status !== 200) {
    return { step: "response", status: "failed", reason: "error-response", summary: `${response.status} ${responseMessage(response.body)}`, hints: [], data: response };
  }
  if (!Array.isArray(body?.items)) return { step: "response", status: "ok", summary: `200 ${kind} ${String(body?.metadata?.name ?? "")}`, hints: [], data: response };
  const count = body.items.length;
  return {
    step: "response",
    status: count === 0 ? "warning" : "ok",
    summary: `200 ${kind} with ${count} item(s)${count === 0 ? ": an empty list (kubectl top prints no resources found)" : ""}`,
    hints: [],
    data: response,
  };
}
