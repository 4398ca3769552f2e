/**
 * The PromQL prom-adapter sends for `namespaces/<ns>/pods/{*}/<metric>` (every pod) under its default rules, rendered with the
 * adapter's own code, so the "direct to Prometheus" floor runs exactly the same query.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseRulesText } from "../../src/config/load.ts";
import { compileRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";
import { renderCustomMetricQuery } from "../../src/providers/custom-metrics-provider.ts";
import { buildMetricRegistry } from "../../src/discovery/registry.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compiled = compileRules(
  parseRulesText(readFileSync(join(import.meta.dir, "..", "..", "rules", "default.yaml"), "utf8"), "default.yaml"),
  () => mapper,
);

/** The distinct series queries of the default rules (what discovery lists). */
export const DEFAULT_SERIES_QUERIES: readonly string[] = compiled.seriesQueries;

/** The query for all pods of `namespace` for `metric` (a gauge of the data set). */
export function podsQuery(namespace: string, metric: string): string {
  const shape = { name: metric, labelNames: ["instance", "job", "namespace", "pod"] };
  const { registry } = buildMetricRegistry(
    compiled.custom.map((rule) => ({ rule, series: [shape] })),
    [],
  );
  const entry = registry.customMetric(mapper.resolve({ group: "", resource: "pods" }), true, metric);
  if (entry === undefined) throw new Error(`the default rules do not serve pods/${metric}`);
  return renderCustomMetricQuery(entry, { namespace, names: null, requirements: [] }).query;
}

/** The adapter path for all pods of `namespace`. */
export function podsPath(namespace: string, metric: string): string {
  return `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${namespace}/pods/*/${metric}`;
}
