/**
 * `prom-adapter explain <api path>`: answers one custom- or external-metrics request with the server's own pipeline
 * (rules, one discovery run, the real providers behind the real app) while recording every query and LIST, then
 * prints each step — rule and series, objects, rendered PromQL, raw samples, matching, final response — and names
 * the step that lost the data. metrics.k8s.io paths (`kubectl top`) go to explain-resource.ts, which needs no
 * discovery run.
 */
import { composeApp, OFFLINE_ENDPOINTS, servedBy } from "../../app/compose.ts";
import { createMemoryLogger } from "../../observability/logger.ts";
import type { Options } from "../../options.ts";
import { ApiError } from "../../apimachinery/status.ts";
import { parseSeriesSelector } from "../../providers/series-selector.ts";
import { createQueryCache } from "../../prometheus/query-cache.ts";
import { createRoutedQuerySource } from "../../prometheus/routed-source.ts";
import type { PrometheusClient } from "../../prometheus/client.ts";
import { PrometheusConfigError } from "../../prometheus/errors.ts";
import { prometheusForBackend } from "../../app/prometheus-connection.ts";
import type { BackendConfig } from "../../config/schema.ts";
import { rulesForBackend } from "../../discovery/backend-relisters.ts";
import { DEFAULT_BACKEND } from "../../naming/backends.ts";
import { discoverBackends } from "../check/backends-report.ts";
import { formatPrometheusDuration } from "../../util/duration.ts";
import { discoverOnce, isUnreachable, type DiscoveryReport } from "../check/discovery-report.ts";
import {
  connectKubernetes,
  connectPrometheus,
  standaloneAccess,
  UnreachableError,
  UsageError,
  type KubernetesAccess,
} from "../environment.ts";
import { answerThroughApp, responseStep, rulesStep, type Analysis } from "./steps/shared.ts";
import { analyseCustomRequest } from "./steps/custom.ts";
import { analyseExternalRequest } from "./steps/external.ts";
import { explainResourceRequest } from "./resource.ts";
import { parseExplainPath, type ExplainTarget } from "./request.ts";
import type { ExplainReport, ExplainStep, ExplainVerdict, ParsedRequest } from "./types.ts";
import { EXIT_OK, EXIT_PROBLEMS, EXIT_UNREACHABLE } from "../exit-codes.ts";
import { recordLists, recordQueries } from "./recording.ts";
import { loadRulesReport } from "../check/rules-report.ts";

export interface ExplainInput {
  readonly options: Options;
  /** The request path with its query string, e.g. `/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*\/x`. */
  readonly path: string;
  /** Wall clock in ms; default Date.now. */
  readonly now?: () => number;
  /** Environment ($KUBECONFIG, $HOME: a standalone run's default kubeconfig); default none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Explains one request. Throws UsageError (not a metric path, unusable Prometheus credentials) and UnreachableError
 * (Prometheus or Kubernetes cannot be reached before the request runs).
 */
export async function runExplain({ options, path, now = Date.now, env = {} }: ExplainInput): Promise<ExplainReport> {
  const target = parseExplainPath(path);
  const serverLog = createMemoryLogger(10);
  const access: KubernetesAccess = options.standalone
    ? await standaloneAccess(options.kubernetes.kubeconfig, env, serverLog)
    : await connectKubernetes(options.kubernetes.kubeconfig, serverLog);
  const prometheus = connectPrometheus(options);
  const steps: ExplainStep[] = [];
  const finish = (verdict: ExplainVerdict, unreachable: string | null = null): ExplainReport => ({
    path,
    mode: options.standalone ? "standalone" : "cluster",
    prometheusUrl: options.prometheusUrl,
    kubernetes: access.server ?? null,
    steps,
    verdict: unreachable === null ? verdict : { ...verdict, message: `${verdict.message} (${unreachable})` },
    serverLog: serverLog.lines,
    exitCode: unreachable !== null ? EXIT_UNREACHABLE : verdict.ok ? EXIT_OK : EXIT_PROBLEMS,
  });

  if (target.resource !== undefined) {
    const analysis = await explainResourceRequest({
      request: target.resource,
      pathAndQuery: target.pathAndQuery,
      configFile: options.configFile,
      access,
      prometheus,
      backendSource: (config) => connectBackend(config, options),
      serverLog,
      now,
    });
    steps.push(...analysis.steps);
    return finish(lostAt(steps), analysis.unreachable);
  }
  steps.push(requestStep(target));
  const rules = await loadRulesReport(options.configFile, access.mapper, access.mapperKind);
  const compiled = rules.compiled;
  const request = target.request;
  const served =
    compiled !== null &&
    request !== null &&
    (request.api === "custom.metrics.k8s.io" ? compiled.custom.length > 0 : compiled.external.length > 0);
  const groupRules = request?.api === "external.metrics.k8s.io" ? "`externalRules`" : "`rules`";
  const notServed =
    request !== null && !served && compiled !== null
      ? {
          reason: "group-not-served" as const,
          summary: `${rules.file} has no ${groupRules}: ${request.api} is not served`,
          hints: [],
        }
      : null;
  steps.push(
    rulesStep(
      rules,
      notServed,
      () => `${rules.file}: ${compiled?.custom.length} rules, ${compiled?.external.length} externalRules`,
    ),
  );
  if (compiled === null) return finish(lostAt(steps));

  let discovery: DiscoveryReport;
  // With `backends:`, the default backend discovers with the rules not pinned elsewhere, as the server's loop does.
  const multiBackend = compiled.backends.length > 0;
  const defaultRules = multiBackend ? rulesForBackend(compiled, DEFAULT_BACKEND) : compiled;
  try {
    discovery = await discoverOnce(prometheus, defaultRules, options.maxAge, now(), options.discoveryMode);
  } catch (error) {
    if (isUnreachable(error))
      throw new UnreachableError(`cannot list series from ${options.prometheusUrl}: ${(error as Error).message}`);
    throw error;
  }
  const maxAge = formatPrometheusDuration(options.maxAge);
  const kind = request?.api === "external.metrics.k8s.io" ? "external" : "custom";
  const refused = discovery.rules.filter((rule) => rule.error !== null);
  const relevantSeries = discovery.rules
    .filter((rule) => rule.kind === kind)
    .reduce((sum, rule) => sum + rule.seriesMatched, 0);
  steps.push({
    step: "discovery",
    status: refused.length > 0 ? "failed" : relevantSeries === 0 ? "warning" : "ok",
    ...(refused.length > 0 ? { reason: "discovery-failed" as const } : {}),
    summary:
      refused.length > 0
        ? `Prometheus refused the seriesQuery of ${refused.map((rule) => rule.id).join(", ")}: the server's discovery fails and it never becomes ready`
        : `${discovery.seriesSeen} series since ${new Date(discovery.sinceMs).toISOString()} (--metrics-max-age ${maxAge}): ` +
          `${discovery.registry.customMetrics().length} custom and ${discovery.registry.externalMetrics().length} external metrics registered; ` +
          `discovery mode ${discovery.mode.used} (--discovery-mode=${discovery.mode.requested}: ${discovery.mode.reason})`,
    hints: refused.map((rule) => `${rule.id}: ${rule.error}`),
    data: {
      since: new Date(discovery.sinceMs).toISOString(),
      maxAge,
      seriesSeen: discovery.seriesSeen,
      mode: discovery.mode,
      registered: {
        custom: discovery.registry.customMetrics().length,
        external: discovery.registry.externalMetrics().length,
      },
      rules: discovery.rules
        .filter((rule) => rule.kind === kind)
        .map((rule) => ({
          id: rule.id,
          seriesQuery: rule.seriesQuery,
          seriesMatched: rule.seriesMatched,
          metrics: rule.metrics.length,
          error: rule.error,
        })),
    },
  });
  if (refused.length > 0) return finish(lostAt(steps));

  // Named backends: discovered too, their registries merged with the default's, queries routed as the server does.
  let named: ReadonlyMap<string, PrometheusClient> = new Map();
  if (multiBackend) {
    const backends = await discoverBackends(compiled, discovery.registry, options, now());
    discovery = { ...discovery, registry: backends.registry };
    named = backends.clients;
  }

  // The real providers and app, with every query and LIST recorded.
  const nowMs = now();
  const queries = recordQueries(multiBackend ? createRoutedQuerySource(prometheus, () => named) : prometheus, {
    recordBackend: multiBackend,
  });
  const lists = access.objects ? recordLists(access.objects) : undefined;
  const app = composeApp(
    {
      served: servedBy(() => compiled),
      registry: () => discovery.registry,
      mapper: access.mapper,
      queries: createQueryCache({ source: queries, ttl: 0, now }),
      prometheus: queries,
      objects: lists,
      resourceObjects: access.resourceObjects,
      now,
      logger: serverLog,
      backends: () => compiled.backends,
    },
    OFFLINE_ENDPOINTS,
  );
  const response = await answerThroughApp(app, target.pathAndQuery);

  let analysis: Analysis = { steps: [], unreachable: null };
  if (request !== null && served && selectorProblem(request) === null) {
    const ctx = {
      request,
      compiled,
      discovery,
      access,
      prometheus,
      queries: queries.calls,
      lists: lists?.calls ?? [],
      response,
      nowMs,
      maxAge,
    };
    analysis =
      request.api === "custom.metrics.k8s.io" ? await analyseCustomRequest(ctx) : await analyseExternalRequest(ctx);
  }
  steps.push(...analysis.steps);
  steps.push(responseStep(response, "an HPA reports that no metrics were returned"));
  return finish(lostAt(steps), analysis.unreachable);
}

/** A named backend's client, as the server builds it; UsageError when its credential files are unusable. */
function connectBackend(config: BackendConfig, options: Options): PrometheusClient {
  try {
    return prometheusForBackend(config, options).client;
  } catch (error) {
    if (error instanceof PrometheusConfigError) throw new UsageError(`backends: ${config.name}: ${error.message}`);
    throw error;
  }
}

/** The request step: what the path asks for, or why the server refuses it (bad path or selector). */
function requestStep(target: ExplainTarget): ExplainStep {
  if (target.refusal !== null) {
    return {
      step: "request",
      status: "failed",
      reason: "bad-request",
      summary: `the server answers ${target.refusal.code} for this path: ${target.refusal.message}`,
      hints: [
        "custom metrics: /apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name or *}/{metric}; external: /apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}; " +
          "resource metrics: /apis/metrics.k8s.io/v1beta1/{nodes,nodes/NAME,pods,namespaces/NS/pods,namespaces/NS/pods/NAME}",
      ],
      data: null,
    };
  }
  const request = target.request as ParsedRequest;
  const problem = selectorProblem(request);
  if (problem !== null)
    return {
      step: "request",
      status: "failed",
      reason: "bad-request",
      summary: `the server answers 400: ${problem}`,
      hints: [],
      data: request,
    };
  return { step: "request", status: "ok", summary: describeRequest(request), hints: [], data: request };
}

function describeRequest(request: ParsedRequest): string {
  const selectors = [
    request.labelSelector === "" ? "" : `labelSelector ${request.labelSelector}`,
    request.metricLabelSelector === "" ? "" : `metricLabelSelector ${request.metricLabelSelector}`,
  ].filter((part) => part !== "");
  const tail = selectors.length === 0 ? "" : `, ${selectors.join(", ")}`;
  if (request.api === "external.metrics.k8s.io")
    return `external metric ${request.metric} in namespace ${request.namespace}${tail}`;
  const where = request.namespace === undefined ? "" : ` in namespace ${request.namespace}`;
  return `custom metric ${request.metric} of ${request.resource} ${JSON.stringify(request.name)}${where} (${request.version})${tail}`;
}

/** The message of the 400 the provider answers for an unparsable selector, or null. */
function selectorProblem(request: ParsedRequest): string | null {
  try {
    if (request.api === "custom.metrics.k8s.io")
      parseSeriesSelector(request.metricLabelSelector, "metricLabelSelector");
    else parseSeriesSelector(request.labelSelector, "labelSelector");
    return null;
  } catch (error) {
    if (error instanceof ApiError) return error.message;
    throw error;
  }
}

/** The verdict: the first failed step, else a warning-free 200 with values. */
function lostAt(steps: readonly ExplainStep[]): ExplainVerdict {
  const failed = steps.find((step) => step.status === "failed");
  if (failed)
    return { ok: false, step: failed.step, reason: failed.reason ?? "error-response", message: failed.summary };
  const response = steps.find((step) => step.step === "response");
  if (response?.status === "warning")
    return { ok: false, step: "response", reason: "query-empty", message: response.summary };
  const partial = steps.find((step) => step.status === "warning");
  return {
    ok: true,
    step: null,
    reason: null,
    message: partial ? `values served, with a warning: ${partial.summary}` : (response?.summary ?? "ok"),
  };
}
