/**
 * Reads what prom-adapter ships for watching itself (rules/alerts.yaml, dashboards/prom-adapter.json) and lists the
 * PromQL in them, for the monitoring tests. Also the metric names prom-adapter's /metrics exposes, from its own
 * prom-client registry, and a small extractor of the metric names a PromQL expression reads.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { createSelfMetrics } from "../../src/observability/self-metrics.ts";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const ALERTS_FILE = join(REPO_ROOT, "rules", "alerts.yaml");
export const DASHBOARD_FILE = join(REPO_ROOT, "dashboards", "prom-adapter.json");
export const PROMTOOL_TESTS_FILE = join(import.meta.dir, "alerts.promtool.yaml");
export const TROUBLESHOOTING_FILE = join(REPO_ROOT, "docs", "troubleshooting.md");

/** One rule of a Prometheus rules file: a recording rule (`record`) or an alerting rule (`alert`). */
export interface PrometheusRule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly PrometheusRule[];
}

export function alertRuleGroups(): RuleGroup[] {
  return (parseYaml(readFileSync(ALERTS_FILE, "utf8")) as { groups: RuleGroup[] }).groups;
}

export function recordingRules(): PrometheusRule[] {
  return alertRuleGroups().flatMap((group) => group.rules.filter((rule) => rule.record !== undefined));
}

export function alertingRules(): PrometheusRule[] {
  return alertRuleGroups().flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined));
}

/** One query of a panel. */
export interface DashboardTarget {
  readonly expr: string;
  readonly refId: string;
  readonly datasource?: { readonly uid?: string };
}

/** The parts of a Grafana dashboard the tests read. */
export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly DashboardTarget[];
  readonly panels?: readonly DashboardPanel[];
}

export interface DashboardVariable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query: string };
  readonly datasource?: { readonly uid?: string };
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly DashboardPanel[];
  readonly templating: { readonly list: readonly DashboardVariable[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as Dashboard;
}

/** Every panel, rows and the panels of collapsed rows included. */
export function allPanels(board: Dashboard): DashboardPanel[] {
  return board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** The query of a `query` variable: `label_values(<selector>, <label>)`. */
export function variableQuery(variable: DashboardVariable): string {
  const query = variable.query;
  return typeof query === "string" ? query : (query?.query ?? "");
}

/** `label_values(metric{matchers}, label)` split into the series selector and the label; null for anything else. */
export function parseLabelValues(query: string): { selector: string; label: string } | null {
  const match = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query.trim());
  return match ? { selector: match[1]!.trim(), label: match[2]! } : null;
}

/**
 * Replaces Grafana's variables in an expression with the values given (`$namespace`, `${pod}`, `$__rate_interval`).
 * Throws when a variable is left without a value, so a new variable cannot slip through untested.
 */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for Grafana variable ${whole} in ${expr}`);
    return value;
  });
}

/** Names of the series prom-adapter's /metrics serves (histograms as their _bucket, _sum and _count series). */
export function exposedSeriesNames(): Set<string> {
  const metrics = createSelfMetrics();
  const names = new Set<string>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    else if (type === "summary") for (const suffix of ["", "_sum", "_count"]) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan"]);
const GROUPING_KEYWORDS = ["by", "without", "on", "ignoring", "group_left", "group_right"];

/**
 * The metric names a PromQL expression reads. NB: a lexical approximation, enough for the expressions we write
 * (Prometheus 2.42 has no parse endpoint and promtool no parse command): strings, label matchers, range and
 * grouping clauses are removed, then every identifier that is not a function call or keyword is a metric name.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1]!;
    if (!PROMQL_KEYWORDS.has(name.toLowerCase()) && !GROUPING_KEYWORDS.includes(name.toLowerCase())) names.add(name);
  }
  return [...names].sort();
}
