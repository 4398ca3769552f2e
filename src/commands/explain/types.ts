/** The report `prom-adapter explain` prints (as text) or writes (as JSON with `--output json`). */
import type { RuleFinding } from "../check/rules-report.ts";

/** The steps a request goes through, in order. */
export type StepName =
  | "request"
  | "rules"
  | "discovery"
  | "resource"
  | "metric"
  | "objects"
  | "query"
  | "result"
  | "matching"
  | "response";

/** `failed`: the data was lost here; `warning`: some of it was. Steps after a failed one are not listed. */
export type StepStatus = "ok" | "failed" | "warning";

/** Why the answer is empty or an error, named after the step that lost the data. */
export type LossReason =
  | "bad-request"
  | "rules-invalid"
  | "group-not-served"
  | "discovery-failed"
  | "resource-unknown"
  | "metric-not-registered"
  | "objects-list-failed"
  | "no-objects"
  | "selector-filtered-everything"
  | "namespace-filtered-everything"
  | "query-failed"
  | "query-empty"
  | "resource-label-aggregated-away"
  | "no-sample-for-objects"
  | "values-dropped"
  | "error-response"
  | "resource-rules-missing"
  | "object-missing-usage";

export interface ParsedRequest {
  readonly api: "custom.metrics.k8s.io" | "external.metrics.k8s.io";
  readonly version: string;
  /** Namespace from the path; undefined for cluster-scoped custom requests (and C3 namespace metrics). */
  readonly namespace: string | undefined;
  /** Custom only: the resource as written and the object name (`*` for all). */
  readonly resource: string | undefined;
  readonly name: string | undefined;
  readonly metric: string;
  /** Custom: objects' labelSelector; external: the series selector. "" when absent. */
  readonly labelSelector: string;
  /** Custom only: the series selector. "" when absent. */
  readonly metricLabelSelector: string;
}

/** A metrics.k8s.io request (what `kubectl top` asks). */
export interface ResourceRequest {
  readonly api: "metrics.k8s.io";
  readonly version: "v1beta1";
  readonly resource: "pods" | "nodes";
  /** Pods only; undefined for all namespaces (and for nodes). */
  readonly namespace: string | undefined;
  /** The object named in the path; undefined for a list. */
  readonly name: string | undefined;
  /** Raw query parameters; "" when absent. */
  readonly labelSelector: string;
  readonly fieldSelector: string;
}

export interface SampleView {
  readonly labels: Readonly<Record<string, string>>;
  /** The raw sample text Prometheus sent. */
  readonly value: string;
  /** RFC 3339. */
  readonly timestamp: string;
}

/** An extra query explain ran to find out why a result was empty (never part of the server's answer). */
export interface Probe {
  readonly question: string;
  readonly promql: string;
  /** Samples returned; null when the probe failed. */
  readonly samples: number | null;
  readonly error?: string;
}

export interface ObjectMatch {
  readonly name: string;
  /** The value served for it (Quantity), or null. */
  readonly value: string | null;
  /** Why it has no value, or the raw sample it came from. */
  readonly note: string;
}

interface StepBase {
  readonly status: StepStatus;
  /** One line saying what happened. */
  readonly summary: string;
  /** Set on a failed (or warning) step: which loss it is. */
  readonly reason?: LossReason;
  /** What to try. */
  readonly hints: readonly string[];
}

export type ExplainStep =
  | (StepBase & { readonly step: "request"; readonly data: ParsedRequest | ResourceRequest | null })
  | (StepBase & {
      readonly step: "rules";
      readonly data: { readonly file: string; readonly findings: readonly RuleFinding[] };
    })
  | (StepBase & {
      readonly step: "discovery";
      readonly data: {
        readonly since: string;
        readonly maxAge: string;
        readonly seriesSeen: number;
        /** `--discovery-mode` and what it resolves to against this Prometheus (DiscoveryReport.mode). */
        readonly mode: { readonly requested: string; readonly used: string; readonly reason: string };
        readonly registered: { readonly custom: number; readonly external: number };
        readonly rules: readonly {
          readonly id: string;
          readonly seriesQuery: string;
          readonly seriesMatched: number;
          readonly metrics: number;
          readonly error: string | null;
        }[];
      } | null;
    })
  | (StepBase & {
      readonly step: "resource";
      readonly data: {
        readonly written: string;
        readonly resolved: {
          readonly group: string;
          readonly version: string;
          readonly kind: string;
          readonly resource: string;
          readonly namespaced: boolean;
        } | null;
        readonly suggestions: readonly string[];
      };
    })
  | (StepBase & {
      readonly step: "metric";
      readonly data: {
        readonly rule: string | null;
        readonly series: string | null;
        readonly namespaced: boolean | null;
        readonly suggestions: readonly string[];
        /** The backends that registered it, in declaration order; present only when the rules declare `backends:`. */
        readonly backends?: readonly string[];
      };
    })
  | (StepBase & {
      readonly step: "objects";
      readonly data: {
        /** `kubernetes`: LISTed; `path`: named in the path; `prometheus`: standalone, from the result's labels. */
        readonly source: "kubernetes" | "path" | "prometheus";
        readonly names: readonly string[] | null;
        readonly labelSelector: string;
        readonly error: string | null;
      };
    })
  | (StepBase & {
      readonly step: "query";
      readonly data: {
        /** The rule's metricsQuery template. */
        readonly template: string;
        /** The PromQL the provider sent; null when it sent none. */
        readonly promql: string | null;
        /** Evaluation time, RFC 3339. */
        readonly time: string | null;
        readonly error: string | null;
        /** The backend the query went to; present only when the rules declare `backends:`. */
        readonly backend?: string;
      };
    })
  | (StepBase & {
      readonly step: "result";
      readonly data: {
        readonly resultType: string | null;
        readonly samples: readonly SampleView[];
        readonly probes: readonly Probe[];
      };
    })
  | (StepBase & {
      readonly step: "matching";
      readonly data: {
        readonly label: string;
        readonly objects: readonly ObjectMatch[];
        readonly unmatchedSamples: readonly SampleView[];
      };
    })
  | (StepBase & {
      readonly step: "response";
      readonly data: { readonly status: number; readonly body: unknown } | null;
    });

export interface ExplainVerdict {
  /** True when the server answers 200 with at least one value. */
  readonly ok: boolean;
  /** The step that lost the data; null when ok. */
  readonly step: StepName | null;
  readonly reason: LossReason | null;
  readonly message: string;
}

export interface ExplainReport {
  readonly path: string;
  readonly mode: "standalone" | "cluster";
  readonly prometheusUrl: string;
  /** The API server URL in cluster mode. */
  readonly kubernetes: string | null;
  readonly steps: readonly ExplainStep[];
  readonly verdict: ExplainVerdict;
  /** What the server would have logged at --v=10 while answering. */
  readonly serverLog: readonly string[];
  /** 0 values served; 1 empty or error answer; 3 Prometheus or Kubernetes unreachable. */
  readonly exitCode: number;
}
