/** What the custom and external halves of `explain` share: the context of one explained request and small helpers. */
import type { CompiledRules } from "../../../naming/compile-rules.ts";
import type { PromQL } from "../../../naming/promql.ts";
import type { QueryResult, VectorSample } from "../../../prometheus/types.ts";
import type { QuerySource } from "../../../prometheus/query-cache.ts";
import { formatKubernetesTime } from "../../../util/clock.ts";
import { isUnreachable, type DiscoveryReport } from "../../check/discovery-report.ts";
import type { KubernetesAccess } from "../../environment.ts";
import type { ExplainStep, ParsedRequest, Probe, SampleView } from "../types.ts";
import type { RecordedList, RecordedQuery } from "../recording.ts";
import { KubernetesHttpError } from "../../../kubernetes/errors.ts";
import type { RulesReport } from "../../check/rules-report.ts";

/** Everything known after the real app answered the request. */
export interface AnalysisContext {
  readonly request: ParsedRequest;
  readonly compiled: CompiledRules;
  readonly discovery: DiscoveryReport;
  readonly access: KubernetesAccess;
  /** Prometheus, for probes (not recorded, never cached). */
  readonly prometheus: QuerySource;
  /** The provider's queries and LISTs, in call order. */
  readonly queries: readonly RecordedQuery[];
  readonly lists: readonly RecordedList[];
  /** The app's answer. */
  readonly response: { readonly status: number; readonly body: unknown };
  readonly nowMs: number;
  /** `--metrics-max-age` as written back (e.g. `1m`). */
  readonly maxAge: string;
}

export interface Analysis {
  readonly steps: ExplainStep[];
  /** Set when a backend could not be reached while answering (exit code 3). */
  readonly unreachable: string | null;
}

export function sampleView(sample: VectorSample): SampleView {
  return {
    labels: sample.metric,
    value: sample.value,
    timestamp: formatKubernetesTime(sample.timestampSeconds * 1000),
  };
}

/** The samples of a vector result; [] for other result types. */
export function vectorSamples(result: QueryResult | null): readonly VectorSample[] {
  return result?.resultType === "vector" ? result.result : [];
}

/** Runs one diagnostic query at `nowMs`. */
export async function runProbe(
  source: QuerySource,
  question: string,
  query: PromQL,
  nowMs: number,
): Promise<{ probe: Probe; samples: readonly VectorSample[] }> {
  try {
    const result = await source.query(query, nowMs / 1000);
    const samples = vectorSamples(result);
    return { probe: { question, promql: query, samples: samples.length }, samples };
  } catch (error) {
    return { probe: { question, promql: query, samples: null, error: errorText(error) }, samples: [] };
  }
}

/** An error's message followed by its causes' (`a: b: c`), without repeats. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  for (
    let current: unknown = error;
    current !== undefined && current !== null && parts.length < 4;
    current = (current as { cause?: unknown }).cause
  ) {
    const message = current instanceof Error ? current.message : String(current);
    if (!parts.includes(message)) parts.push(message);
    if (!(current instanceof Error)) break;
  }
  return parts.join(": ");
}

/** Why a query the provider sent failed to reach Prometheus, or null when Prometheus answered (even with an error). */
export function prometheusUnreachable(query: RecordedQuery | undefined): string | null {
  return query !== undefined && isUnreachable(query.error) ? `Prometheus: ${errorText(query.error)}` : null;
}

/**
 * Why a LIST failed to reach the API server, or null when it answered. NB: the object lister wraps an HTTP failure as
 * `GET <path>: <status>` and a connection failure as the fetch error itself; only the latter is "unreachable".
 */
export function kubernetesUnreachable(list: Pick<RecordedList, "error"> | undefined): string | null {
  if (list === undefined || list.error === undefined) return null;
  const cause = (list.error as { cause?: unknown }).cause;
  if (cause === undefined || cause instanceof KubernetesHttpError) return null;
  return `Kubernetes API: ${errorText(list.error)}`;
}

/** Lists at most `limit` items, then "and N more". */
export function listSome(items: readonly string[], limit = 10): string {
  if (items.length <= limit) return items.join(", ");
  return `${items.slice(0, limit).join(", ")} and ${items.length - limit} more`;
}

/** describedObject.name -> value of a MetricValueList body (either version); empty for anything else. */
export function servedValues(body: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return out;
  for (const item of items as { describedObject?: { name?: unknown }; value?: unknown }[]) {
    if (typeof item.describedObject?.name === "string" && typeof item.value === "string")
      out.set(item.describedObject.name, item.value);
  }
  return out;
}

/** The `message` of a Status body, or a short description of the body. */
export function responseMessage(body: unknown): string {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : JSON.stringify(body);
}

/** The query step of the custom and external halves. */
export type QueryStep = Extract<ExplainStep, { step: "query" }>;

/**
 * The query step from what the provider sent: failed when no query went out (the answer's message says why) or when
 * Prometheus failed it (`unreachable` set when it could not be reached), ok otherwise. `plannedPromql` is shown when
 * nothing was sent.
 */
export function queryStep(
  sent: RecordedQuery | undefined,
  { template, plannedPromql, responseBody }: { template: string; plannedPromql: string | null; responseBody: unknown },
): { step: QueryStep; failed: boolean; unreachable: string | null } {
  if (sent === undefined) {
    const error = responseMessage(responseBody);
    return {
      step: {
        step: "query",
        status: "failed",
        reason: "error-response",
        summary: `no query was sent: ${error}`,
        hints: [],
        data: { template, promql: plannedPromql, time: null, error },
      },
      failed: true,
      unreachable: null,
    };
  }
  const time = formatKubernetesTime(sent.timeSeconds * 1000);
  const backend = sent.backend === undefined ? {} : { backend: sent.backend };
  const to = sent.backend === undefined ? "" : ` (sent to backend ${sent.backend})`;
  if (sent.error !== undefined) {
    return {
      step: {
        step: "query",
        status: "failed",
        reason: "query-failed",
        summary: `Prometheus failed the query${to}: ${errorText(sent.error)}`,
        hints: [`the rendered PromQL is ${sent.query}`],
        data: { template, promql: sent.query, time, error: errorText(sent.error), ...backend },
      },
      failed: true,
      unreachable: prometheusUnreachable(sent),
    };
  }
  return {
    step: {
      step: "query",
      status: "ok",
      summary: `${sent.query}${to}`,
      hints: [],
      data: { template, promql: sent.query, time, error: null, ...backend },
    },
    failed: false,
    unreachable: null,
  };
}

/** Answers `pathAndQuery` through the real app, as the server would; the body parsed as JSON when it is JSON. */
export async function answerThroughApp(
  app: { handle(request: Request): Promise<Response> },
  pathAndQuery: string,
): Promise<{ status: number; body: unknown }> {
  const answer = await app.handle(
    new Request(`http://prom-adapter.invalid${pathAndQuery}`, { headers: { accept: "application/json" } }),
  );
  const text = await answer.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: answer.status, body };
}

/**
 * The response step: the status and message of an error, the object of a single-object answer, or the number of
 * items of a list, where an empty list is a warning and `emptyListMeaning` says what the client then shows.
 */
export function responseStep(response: { status: number; body: unknown }, emptyListMeaning: string): ExplainStep {
  const body = response.body as { kind?: unknown; items?: unknown; metadata?: { name?: unknown } } | null;
  const kind = typeof body?.kind === "string" ? body.kind : "";
  if (response.status !== 200) {
    return {
      step: "response",
      status: "failed",
      reason: "error-response",
      summary: `${response.status} ${responseMessage(response.body)}`,
      hints: [],
      data: response,
    };
  }
  if (!Array.isArray(body?.items)) {
    return {
      step: "response",
      status: "ok",
      summary: `200 ${kind} ${String(body?.metadata?.name ?? "")}`,
      hints: [],
      data: response,
    };
  }
  const count = body.items.length;
  return {
    step: "response",
    status: count === 0 ? "warning" : "ok",
    summary: `200 ${kind} with ${count} item(s)${count === 0 ? `: an empty list (${emptyListMeaning})` : ""}`,
    hints: [],
    data: response,
  };
}

/** Why the rules do not serve the request's API group: a failed rules step's reason, summary and hints. */
export interface GroupNotServed {
  readonly reason: "group-not-served" | "resource-rules-missing";
  readonly summary: string;
  readonly hints: readonly string[];
}

/**
 * The rules step: the rules file is invalid (the server would not start), or does not serve the request's group
 * (`notServed`), or serves it (`servedSummary`). The file's warnings are hints in every case.
 */
export function rulesStep(
  report: RulesReport,
  notServed: GroupNotServed | null,
  servedSummary: () => string,
): ExplainStep {
  const warnings = report.findings
    .filter((finding) => finding.severity === "warning")
    .map((finding) => `${finding.path}: ${finding.message}`);
  const data = { file: report.file, findings: report.findings };
  if (report.compiled === null) {
    return {
      step: "rules",
      status: "failed",
      reason: "rules-invalid",
      summary: `${report.file} is invalid: the server would not start (run prom-adapter check for details)`,
      hints: warnings,
      data,
    };
  }
  if (notServed !== null) {
    return {
      step: "rules",
      status: "failed",
      reason: notServed.reason,
      summary: notServed.summary,
      hints: [...notServed.hints, ...warnings],
      data,
    };
  }
  return { step: "rules", status: "ok", summary: servedSummary(), hints: warnings, data };
}

/** `" (backends default, team-a)"` for a metric registered with `backends:` declared; "" otherwise. */
export function fromBackends(entry: { readonly backends?: readonly string[] }): string {
  return entry.backends === undefined ? "" : ` (backends ${entry.backends.join(", ")})`;
}

/** The metric step's `backends` field: present only when the rules declare `backends:`. */
export function backendsOf(entry: { readonly backends?: readonly string[] }): { backends?: readonly string[] } {
  return entry.backends === undefined ? {} : { backends: entry.backends };
}
