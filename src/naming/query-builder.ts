/**
 * Renders a rule's `metricsQuery` for one request (rules/README.md: Querying, External and resource rules): builds
 * `.LabelMatchers`, `.LabelValuesByName`, `.GroupBy` and `.GroupBySlice`, then executes the compiled template.
 */
import type { PromQL } from "./promql.ts";
import { NamingError } from "./errors.ts";
import { requirementsToMatchers } from "./selector-matchers.ts";
import type { Requirement } from "../apimachinery/labels/selector.ts";
import { labelMatcher } from "./promql.ts";
import type { CompiledTemplate, TemplateSchema } from "../golang/template/template.ts";

/** The fields a `metricsQuery` (and resource `containerQuery`/`nodeQuery`) template may read, in documentation order. */
export const QUERY_TEMPLATE_FIELDS: TemplateSchema = {
  Series: "string",
  LabelMatchers: "string",
  LabelValuesByName: "map",
  GroupBy: "string",
  GroupBySlice: "list",
};

export interface ObjectQueryInput {
  /** `.Series`: the discovered series name (`""` for resource rules). */
  readonly series: string;
  /** Parsed `metricLabelSelector` requirements, sorted by key. Default none. */
  readonly requirements: readonly Requirement[];
  /** Namespace label and value; omitted for cluster-scoped requests. */
  readonly namespace?: { readonly label: string; readonly value: string };
  /** The resource label and the object names in request order; no matcher when `names` is empty. */
  readonly resourceLabel: string;
  readonly names: readonly string[];
  /** Standalone `*`: match any value of the resource label (`label=~".+"`) instead of listed names. Default false. */
  readonly anyName?: boolean;
  /** Labels grouped by after the resource label (resource rules add the container label). Default none. */
  readonly extraGroupBy?: readonly string[];
}

/** Renders a custom-metric (or resource-metric) query about Kubernetes objects. Throws NamingError. */
export function renderObjectQuery(template: CompiledTemplate, input: ObjectQueryInput): PromQL {
  const { matchers, labelValuesByName } = requirementsToMatchers(input.requirements);
  if (input.namespace) {
    matchers.push(labelMatcher(input.namespace.label, "=", input.namespace.value));
    labelValuesByName[input.namespace.label] = input.namespace.value;
  }
  if (input.anyName) {
    matchers.push(labelMatcher(input.resourceLabel, "=~", ".+"));
    labelValuesByName[input.resourceLabel] = ".+";
  } else if (input.names.length > 0) {
    // NB: names are joined unescaped, as upstream does: Kubernetes names cannot hold regex metacharacters except `.`.
    const joined = input.names.join("|");
    matchers.push(labelMatcher(input.resourceLabel, input.names.length === 1 ? "=" : "=~", joined));
    labelValuesByName[input.resourceLabel] = joined;
  }
  const groupBySlice = [input.resourceLabel, ...(input.extraGroupBy ?? [])];
  return execute(template, {
    Series: input.series,
    LabelMatchers: matchers.join(","),
    LabelValuesByName: labelValuesByName,
    GroupBy: groupBySlice.join(","),
    GroupBySlice: groupBySlice,
  });
}

export interface ExternalQueryInput {
  readonly series: string;
  /** Parsed `labelSelector` requirements, sorted by key. */
  readonly requirements: readonly Requirement[];
  /** Namespace matcher, added after the requirements; omitted for `namespaced: false` rules. */
  readonly namespace?: { readonly label: string; readonly value: string };
  /** Upstream always passes `""` and `[]`; kept as inputs for the template tests. */
  readonly groupBy?: string;
  readonly groupBySlice?: readonly string[];
}

/** Renders an external-metric query. Throws NamingError. */
export function renderExternalQuery(template: CompiledTemplate, input: ExternalQueryInput): PromQL {
  const { matchers, labelValuesByName } = requirementsToMatchers(input.requirements);
  if (input.namespace) {
    matchers.push(labelMatcher(input.namespace.label, "=", input.namespace.value));
    labelValuesByName[input.namespace.label] = input.namespace.value;
  }
  return execute(template, {
    Series: input.series,
    LabelMatchers: matchers.join(","),
    LabelValuesByName: labelValuesByName,
    GroupBy: input.groupBy ?? "",
    GroupBySlice: input.groupBySlice ?? [],
  });
}

function execute(template: CompiledTemplate, data: Parameters<CompiledTemplate["execute"]>[0]): PromQL {
  const query = template.execute(data);
  if (query === "") throw new NamingError("empty query produced by metrics query template");
  return query as PromQL;
}
