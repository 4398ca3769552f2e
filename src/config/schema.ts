/**
 * The rules file as the user wrote it: upstream prometheus-adapter's format (rules/README.md), after strict parsing
 * and before anything is compiled. Every string keeps its YAML source text.
 */
import type { Milliseconds } from "../util/duration.ts";

export interface RulesFile {
  /** custom.metrics.k8s.io rules; empty means the group is not installed. Default `[]`. */
  readonly rules: readonly DiscoveryRule[];
  /** external.metrics.k8s.io rules; empty means the group is not installed. Default `[]`. */
  readonly externalRules: readonly DiscoveryRule[];
  /** metrics.k8s.io rules; `null` (absent) means the group is not installed. */
  readonly resourceRules: ResourceRules | null;
  /**
   * prom-adapter extension: Prometheus servers besides `--prometheus-url` (which is always the backend named
   * `default`), in the order written. Default `[]`.
   */
  readonly backends: readonly BackendConfig[];
}

/** One named Prometheus backend (`backends:`); every secret is given by file path. */
export interface BackendConfig {
  /** Unique, a DNS-1123 label, never `default`. Required. */
  readonly name: string;
  /** http or https base URL, path prefix kept; no credentials in it (use the file options). Required. */
  readonly url: string;
  /** The request namespaces it serves; null (absent) means every namespace. */
  readonly namespaces: BackendNamespaces | null;
  /** Like `--prometheus-token-file`. */
  readonly bearerTokenFile: string | undefined;
  /** Like `--prometheus-ca-file`. */
  readonly caFile: string | undefined;
  /** Like `--prometheus-client-tls-cert-file`; needs `clientKeyFile`. */
  readonly clientCertFile: string | undefined;
  /** Like `--prometheus-client-tls-key-file`. */
  readonly clientKeyFile: string | undefined;
  /** Like `--prometheus-auth-config` (kubeconfig format: token, basic auth, TLS). */
  readonly authConfigFile: string | undefined;
  /** Like `--prometheus-header`, but a rule's header of the same name never overrides them. Default `{}`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters added to every call to this backend; they win over a rule's of the same name. Default `{}`. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** A list of namespace names, or an RE2 regex matched against the whole namespace name. */
export type BackendNamespaces =
  | { readonly kind: "list"; readonly names: readonly string[] }
  | { readonly kind: "regex"; readonly pattern: string };

/** A rule of `rules` or `externalRules`. */
export interface DiscoveryRule {
  /** Prometheus series selector sent verbatim as one `match[]` of `/api/v1/series`. Required, non-empty. */
  readonly seriesQuery: string;
  /** Extra RE2 filters on the series name; all must pass. Default `[]`. */
  readonly seriesFilters: readonly SeriesFilter[];
  /** How labels map to Kubernetes resources. */
  readonly resources: ResourceMapping;
  /** How a series name becomes the API metric name. */
  readonly name: NameMapping;
  /** Go template (delimiters `<<` `>>`) producing the PromQL for a request. Required, non-empty. */
  readonly metricsQuery: string;
  /**
   * prom-adapter extension: the value answered when the query returns no sample for an object (custom metrics: a
   * named object, or a listed object under `*` in cluster mode) or no sample at all (external metrics: one item
   * without labels). Default none: upstream's answers (404, or an empty list).
   */
  readonly defaultValue: number | undefined;
  /** prom-adapter extension: extra query parameters and headers sent with this rule's queries. Default none. */
  readonly prometheus: PrometheusQueryOptions;
}

/** Per-rule additions to `/api/v1/query` calls, e.g. Thanos' `partial_response` or a tenant's `X-Scope-OrgID`. */
export interface PrometheusQueryOptions {
  /** Extra query parameters (`partial_response`, `dedup`, `max_source_resolution`, ...); never `query` or `time`. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Extra HTTP headers; they override `--prometheus-header` of the same name, never a named backend's headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The `backends:` entry whose Prometheus this rule's discovery and queries use; undefined: every backend. */
  readonly backend?: string | undefined;
}

/** Exactly one of `is` / `isNot` must be set (checked when compiling). */
export interface SeriesFilter {
  /** RE2; keeps series whose name it matches somewhere (unanchored). */
  readonly is?: string;
  /** RE2; drops series whose name it matches somewhere. */
  readonly isNot?: string;
}

export interface ResourceMapping {
  /** Label template with fields `.Group` and `.Resource`, e.g. `kube_<<.Group>>_<<.Resource>>`. Default `""` (none). */
  readonly template: string;
  /** Explicit label -> group-resource pairs, used in both directions. Default `{}`. */
  readonly overrides: Readonly<Record<string, GroupResourceReference>>;
  /** Only read for external rules: `false` ignores the URL namespace. Default `true` (`undefined` when not written). */
  readonly namespaced: boolean | undefined;
}

export interface GroupResourceReference {
  /** API group; default `""` meaning "any group" (core first). */
  readonly group: string;
  /** Resource, singular or plural, any case. Required. */
  readonly resource: string;
}

export interface NameMapping {
  /** RE2 selecting and capturing from the series name; unanchored. Default `""` (= `.*`). */
  readonly matches: string;
  /** Go `Regexp.Expand` template for the API name. Default `""` (= `$0` or `$1` by group count). */
  readonly as: string;
}

export interface ResourceRules {
  readonly cpu: ResourceRule;
  readonly memory: ResourceRule;
  /** Reported as `window` in metrics.k8s.io answers. Default 0 (a warning is logged when absent). */
  readonly window: Milliseconds;
  /** Whether `window` was written in the file. */
  readonly windowSet: boolean;
  /** prom-adapter extension: the backend every metrics.k8s.io query goes to. Default: the default backend. */
  readonly backend?: string;
}

export interface ResourceRule {
  /** Per-namespace pod query template, grouped by pod and container. Required. */
  readonly containerQuery: string;
  /** Node query template. Required. */
  readonly nodeQuery: string;
  /** Must map pods, nodes and namespaces. */
  readonly resources: ResourceMapping;
  /** Label holding the container name. Required. */
  readonly containerLabel: string;
}
