/** Terminal output of `prom-adapter check`: findings, then (with Prometheus) per-rule and per-metric tables and notes. */
import type { CheckReport } from "./check.ts";
import { formatFinding } from "./rules-report.ts";
import { formatTable } from "../table.ts";

export function formatCheckText(report: CheckReport): string {
  const out: string[] = [];
  const mapper =
    report.mapper === "cluster"
      ? `REST mapper: API discovery of ${report.kubernetes}`
      : "REST mapper: built-in table (pass --kubeconfig for the cluster's)";
  const errors = report.findings.filter((finding) => finding.severity === "error").length;
  const warnings = report.findings.length - errors;
  if (report.valid && report.rules) {
    const parts = [
      `${report.rules.custom} rules`,
      `${report.rules.external} externalRules`,
      ...(report.rules.resourceRules ? ["resourceRules"] : []),
    ];
    out.push(`${report.file}: valid (${parts.join(", ")}${warnings > 0 ? `; ${warnings} warning(s)` : ""}); ${mapper}`);
  } else {
    out.push(`${report.file}: INVALID: ${errors} error(s)${warnings > 0 ? `, ${warnings} warning(s)` : ""}; ${mapper}`);
  }
  for (const finding of report.findings) out.push(formatFinding(finding));

  const discovery = report.discovery;
  if (discovery) {
    out.push(
      "",
      `Discovery against ${discovery.prometheusUrl}: ${discovery.seriesSeen} series since ${discovery.since} (--metrics-max-age ${discovery.maxAge}); ` +
        `${discovery.registered.custom} custom and ${discovery.registered.external} external metrics registered`,
      `Discovery mode: ${discovery.mode.used} (--discovery-mode=${discovery.mode.requested}: ${discovery.mode.reason})`,
      "",
    );
    out.push(
      formatTable(
        ["RULE", "SERIES", "SHAPES", "METRICS", "SKIPPED", "SERIES QUERY"],
        discovery.rules.map((rule) => [
          rule.id,
          rule.error === null ? String(rule.seriesMatched) : "error",
          String(rule.shapes),
          String(rule.metrics.length),
          String(rule.skipped.length),
          rule.seriesQuery,
        ]),
      ).trimEnd(),
    );
    const metricRows = discovery.rules.flatMap((rule) =>
      rule.metrics.map((metric) => [
        metric.metric,
        metric.resource ?? "(external)",
        metric.resource === null
          ? metric.namespaced
            ? "per namespace"
            : "any namespace"
          : metric.namespaced
            ? "namespaced"
            : "cluster",
        metric.series,
        rule.id,
        metric.overriddenBy === null ? "" : `overridden by ${metric.overriddenBy}`,
      ]),
    );
    if (metricRows.length > 0)
      out.push("", formatTable(["METRIC", "RESOURCE", "SCOPE", "SERIES", "RULE", "NOTE"], metricRows).trimEnd());
    if (discovery.notes.length > 0) out.push("", "Notes:", ...discovery.notes.map((note) => `  - ${note}`));
  }
  const backends = report.backends;
  if (backends) {
    out.push(
      "",
      formatTable(
        ["BACKEND", "URL", "SERIES", "CUSTOM", "EXTERNAL", "ERROR"],
        backends.backends.map((backend) => [
          backend.name,
          backend.url,
          String(backend.seriesSeen),
          String(backend.registered.custom),
          String(backend.registered.external),
          backend.error ?? "",
        ]),
      ).trimEnd(),
    );
    const rows = backends.metrics.map((metric) => [
      metric.metric,
      metric.resource ?? "(external)",
      metric.backends.join(","),
      metric.pinnedTo !== null
        ? `rule: ${metric.pinnedTo}`
        : metric.backends.length === 1
          ? "only backend"
          : metric.ambiguous
            ? `by namespace; ambiguous: ${metric.backends[0]}`
            : "by namespace",
    ]);
    if (rows.length > 0) out.push("", formatTable(["METRIC", "RESOURCE", "BACKENDS", "ROUTING"], rows).trimEnd());
    if (backends.notes.length > 0) out.push("", "Backend notes:", ...backends.notes.map((note) => `  - ${note}`));
  }
  return `${out.join("\n")}\n`;
}
