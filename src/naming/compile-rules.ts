/**
 * Compiles a loaded rules file once, before the server listens: regexes, templates, resource associations. Every
 * error is reported with the file, line, column, rule path and field (rules/README.md); warnings are returned.
 */
import { ConfigError, type ConfigIssue, type WarningCode } from "../config/errors.ts";
import type { LoadedRules } from "../config/load.ts";
import type { BackendConfig, DiscoveryRule, ResourceRule } from "../config/schema.ts";
import { compileBackends, overlappingBackends, type CompiledBackend } from "./backends.ts";
import type { QueryExtras } from "./promql.ts";
import type { Milliseconds } from "../util/duration.ts";
import { NamingError } from "./errors.ts";
import { createMetricNamer, type MetricNamer } from "./metric-namer.ts";
import { QUERY_TEMPLATE_FIELDS } from "./query-builder.ts";
import { compileTemplate, TemplateCompileError, type CompiledTemplate } from "../golang/template/template.ts";
import {
  createResourceConverter,
  type ResourceConverter,
  type ResourceConverterOptions,
} from "./resource-converter.ts";
import type { RestMapper } from "../apimachinery/rest-mapper.ts";

/** A compiled entry of `rules` or `externalRules`. */
export interface CompiledDiscoveryRule {
  /** Where it came from, e.g. `rules[3]`; used in logs and by `check`/`explain`. */
  readonly id: string;
  readonly namer: MetricNamer;
  readonly resources: ResourceConverter;
  readonly metricsQuery: CompiledTemplate;
  /** External rules only: false when `resources.namespaced: false` (the URL namespace is ignored). */
  readonly namespaced: boolean;
  /** `defaultValue`: answered when the query has no sample for an object (custom) or none at all (external). */
  readonly defaultValue: number | undefined;
  /** The rule's `prometheus:` parameters and headers; undefined when it has none. */
  readonly queryExtras: QueryExtras | undefined;
  /** `prometheus.backend`: the only backend this rule discovers and queries from; undefined: every backend. */
  readonly backend?: string | undefined;
}

export interface CompiledResourceRule {
  readonly containerQuery: CompiledTemplate;
  readonly nodeQuery: CompiledTemplate;
  readonly resources: ResourceConverter;
  readonly containerLabel: string;
  /** Labels for pods, nodes and namespaces, resolved at startup. */
  readonly podLabel: string;
  readonly nodeLabel: string;
  readonly namespaceLabel: string;
}

export interface CompiledRules {
  readonly custom: readonly CompiledDiscoveryRule[];
  readonly external: readonly CompiledDiscoveryRule[];
  readonly resource: {
    readonly cpu: CompiledResourceRule;
    readonly memory: CompiledResourceRule;
    readonly window: Milliseconds;
    /** `resourceRules.backend`: where every metrics.k8s.io query goes; undefined: the default backend. */
    readonly backend?: string;
  } | null;
  /** Distinct `seriesQuery` strings across custom and external rules: one series call each per relist. */
  readonly seriesQueries: readonly string[];
  /** Things that load but probably do not do what the author meant, located like errors. */
  readonly warnings: readonly ConfigIssue[];
  /** The `backends:` section, compiled, in file order (the `default` backend, from the flags, is not in it). */
  readonly backends: readonly CompiledBackend[];
}

export interface CompileOptions {
  /**
   * What an override naming a resource the mapper does not know is: `error` (default; the mapper is the cluster's),
   * or `warn` (standalone without a cluster: the built-in table cannot know CRDs), which drops the override with an
   * `unknown-resource` warning so that the series only it would associate are skipped.
   */
  readonly unknownResources?: "error" | "warn";
}

/** Compiles every rule; throws ConfigError listing every problem. `mapper` is read on each use (it may refresh). */
export function compileRules(
  { rules, source, warnings: loadWarnings = [] }: LoadedRules,
  mapper: () => RestMapper,
  { unknownResources = "error" }: CompileOptions = {},
): CompiledRules {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [...loadWarnings];
  const report = (path: string, message: string, offset?: number) => {
    const { line, column } = source.positionOf(path, offset);
    issues.push({ file: source.file, line, column, path, message });
  };
  const warn = (path: string, code: WarningCode, message: string, offset?: number, hint?: string) => {
    const { line, column } = source.positionOf(path, offset);
    warnings.push({ file: source.file, line, column, path, message, code, ...(hint === undefined ? {} : { hint }) });
  };
  const converterOptions = (path: string): ResourceConverterOptions => {
    if (unknownResources === "error") return {};
    return {
      onUnknownOverride: (label, detail) =>
        warn(
          join(path, `resources.overrides.${label}`),
          "unknown-resource",
          `unknown resource ${detail}: label "${label}" is not associated with it, ` +
            "so metrics only it would give are skipped",
          undefined,
          "the built-in table knows common resources only: pass --kubeconfig (or have $KUBECONFIG or ~/.kube/config) " +
            "to use the cluster's resources, CRDs included",
        ),
    };
  };
  /** A literal `{{` in a `<< >>` template (Helm or plain Go-template habit) reaches PromQL unchanged. */
  const warnBraces = (path: string, template: string) => {
    const at = template.indexOf("{{");
    if (at < 0) return;
    const message = "`{{` is literal text here (template delimiters are << and >>): it reaches PromQL unchanged";
    warn(path, "template-literal-braces", message, at);
  };
  /** Runs one compile step; on failure records the issue at `<path>.<field>` and returns null. */
  function attempt<T>(path: string, field: string, step: () => T): T | null {
    try {
      return step();
    } catch (error) {
      if (error instanceof NamingError) report(join(path, error.field || field), error.message);
      else if (error instanceof TemplateCompileError) report(join(path, field), error.detail, error.offset);
      else throw error;
      return null;
    }
  }

  function discoveryRule(rule: DiscoveryRule, path: string, external: boolean): CompiledDiscoveryRule | null {
    const namer = attempt(path, "name", () => createMetricNamer(rule));
    const resources = attempt(path, "resources", () =>
      createResourceConverter(rule.resources, mapper, converterOptions(path)),
    );
    const metricsQuery = attempt(path, "metricsQuery", () => compileTemplate(rule.metricsQuery, QUERY_TEMPLATE_FIELDS));
    for (const warning of namer?.warnings ?? []) warn(join(path, "name.as"), "name-as-group-name", warning);
    if (!external && rule.resources.namespaced !== undefined) {
      const message = "has no effect in `rules`; it is only read for `externalRules`";
      warn(join(path, "resources.namespaced"), "namespaced-has-no-effect", message);
    }
    if (metricsQuery) warnBraces(join(path, "metricsQuery"), rule.metricsQuery);
    if (rule.name.as.includes("<<")) {
      const at = rule.name.as.indexOf("<<");
      const message =
        "`<< >>` in name.as is never expanded (name.as takes regex references such as $1 or ${1}): " +
        "the metric name keeps it literally";
      warn(join(path, "name.as"), "name-as-template", message, at);
    }
    if (!external && resources) warnNamespacedWithoutNamespaceLabel(rule, path);
    const namespaced = rule.resources.namespaced !== false;
    if (external && namespaced && resources) {
      attempt(path, "resources", () => {
        try {
          resources.labelForResource({ group: "", resource: "namespaces" });
        } catch (error) {
          throw new NamingError(
            `${(error as Error).message}; an external rule must map the namespaces resource (an override such as \`namespace: {resource: namespace}\` or a template), or set \`resources: {namespaced: false}\``,
          );
        }
      });
    }
    const { backend } = rule.prometheus;
    if (backend !== undefined && backend !== "default" && !declaredBackends.has(backend))
      report(join(path, "prometheus.backend"), `unknown backend "${backend}" (not "default" nor in \`backends\`)`);
    if (!namer || !resources || !metricsQuery) return null;
    const { parameters, headers } = rule.prometheus;
    const hasExtras = Object.keys(parameters).length > 0 || Object.keys(headers).length > 0;
    return {
      id: path,
      namer,
      resources,
      metricsQuery,
      namespaced,
      defaultValue: rule.defaultValue,
      queryExtras: hasExtras ? { parameters, headers } : undefined,
      ...(backend === undefined ? {} : { backend }),
    };
  }

  /** A custom rule whose override resources are all namespaced but that maps no namespace label cannot be queried. */
  function warnNamespacedWithoutNamespaceLabel(rule: DiscoveryRule, path: string): void {
    const { overrides, template } = rule.resources;
    const references = Object.values(overrides);
    if (template !== "" || references.length === 0) return;
    const infos = references.map((reference) => {
      try {
        return mapper().resolve(reference);
      } catch {
        return null;
      }
    });
    if (infos.some((info) => info === null || !info.namespaced)) return;
    warn(
      join(path, "resources.overrides"),
      "namespaced-without-namespace-label",
      "every resource of this rule is namespaced, but no label maps the namespaces resource: " +
        "every query for its metrics fails (add e.g. `namespace: {resource: namespace}`)",
    );
  }

  function resourceRule(rule: ResourceRule, path: string): CompiledResourceRule | null {
    const resources = attempt(path, "resources", () =>
      createResourceConverter(rule.resources, mapper, converterOptions(path)),
    );
    const containerQuery = attempt(path, "containerQuery", () =>
      compileTemplate(rule.containerQuery, QUERY_TEMPLATE_FIELDS),
    );
    const nodeQuery = attempt(path, "nodeQuery", () => compileTemplate(rule.nodeQuery, QUERY_TEMPLATE_FIELDS));
    if (containerQuery) warnBraces(join(path, "containerQuery"), rule.containerQuery);
    if (nodeQuery) warnBraces(join(path, "nodeQuery"), rule.nodeQuery);
    if (!resources) return null;
    const labelFor = (resource: string) =>
      attempt(path, "resources", () => resources.labelForResource({ group: "", resource }));
    const podLabel = labelFor("pods");
    const nodeLabel = labelFor("nodes");
    const namespaceLabel = labelFor("namespaces");
    if (!containerQuery || !nodeQuery || podLabel === null || nodeLabel === null || namespaceLabel === null)
      return null;
    return {
      containerQuery,
      nodeQuery,
      resources,
      containerLabel: rule.containerLabel,
      podLabel,
      nodeLabel,
      namespaceLabel,
    };
  }

  const declaredBackends = new Set(rules.backends.map((backend: BackendConfig) => backend.name));
  const backends = compileBackends(rules.backends, (path, message) => report(path, message));
  const sharedRules = [...rules.rules, ...rules.externalRules].some((rule) => rule.prometheus.backend === undefined);
  if (sharedRules) {
    for (const { later, earlier, index } of overlappingBackends(backends)) {
      warn(
        `backends[${index}]`,
        "backend-routing-ambiguous",
        `backends "${earlier}" and "${later}" can serve the same namespaces: a metric both register is ` +
          `routed to "${earlier}" (declared first) for those namespaces`,
        undefined,
        "give them disjoint `namespaces`, or pin rules to one with `prometheus: {backend: ...}`",
      );
    }
  }
  const custom = rules.rules.map((rule, index) => discoveryRule(rule, `rules[${index}]`, false));
  const external = rules.externalRules.map((rule, index) => discoveryRule(rule, `externalRules[${index}]`, true));
  let resource: CompiledRules["resource"] = null;
  if (rules.resourceRules) {
    const cpu = resourceRule(rules.resourceRules.cpu, "resourceRules.cpu");
    const memory = resourceRule(rules.resourceRules.memory, "resourceRules.memory");
    if (!rules.resourceRules.windowSet) {
      const message = "no `window` set: metrics.k8s.io answers will report a window of 0s";
      warn("resourceRules", "resource-window-unset", message);
    }
    const backend = rules.resourceRules.backend;
    if (backend !== undefined && backend !== "default" && !declaredBackends.has(backend))
      report("resourceRules.backend", `unknown backend "${backend}" (not "default" nor in \`backends\`)`);
    if (cpu && memory)
      resource = { cpu, memory, window: rules.resourceRules.window, ...(backend === undefined ? {} : { backend }) };
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const compiledCustom = custom as CompiledDiscoveryRule[];
  const compiledExternal = external as CompiledDiscoveryRule[];
  const seriesQueries = [...new Set([...compiledCustom, ...compiledExternal].map((rule) => rule.namer.seriesQuery))];
  return { custom: compiledCustom, external: compiledExternal, resource, seriesQueries, warnings, backends };
}

function join(path: string, field: string): string {
  return field === "" ? path : `${path}.${field}`;
}
