/** Terminal output of `prom-adapter explain`: numbered steps with tables, the verdict, then the server's log. */
import type { ExplainReport, ExplainStep, StepStatus } from "./types.ts";
import { formatLabels, formatTable } from "../table.ts";

const STATUS_TEXT: Readonly<Record<StepStatus, string>> = { ok: "ok", failed: "FAILED", warning: "warning" };

export function formatExplainText(report: ExplainReport): string {
  const out: string[] = [];
  out.push(`explain ${report.path}`);
  out.push(
    `mode: ${report.mode}${report.kubernetes === null ? "" : ` (Kubernetes API ${report.kubernetes})`}; Prometheus ${report.prometheusUrl}`,
    "",
  );
  report.steps.forEach((step, index) => {
    out.push(
      `${String(index + 1).padStart(2)}. ${step.step.padEnd(9)}  ${STATUS_TEXT[step.status].padEnd(7)}  ${step.summary}`,
    );
    const details = stepDetails(step);
    if (details !== "") out.push(details.trimEnd());
    for (const hint of step.hints) out.push(`      hint: ${hint}`);
  });
  out.push("");
  const verdict = report.verdict;
  out.push(
    verdict.ok
      ? `verdict: ok — ${verdict.message}`
      : `verdict: lost at step "${verdict.step}" (${verdict.reason}): ${verdict.message}`,
  );
  if (report.serverLog.length > 0) out.push("", "server log (--v=10):", ...report.serverLog.map((line) => `  ${line}`));
  return `${out.join("\n")}\n`;
}

const INDENT = 6;

function stepDetails(step: ExplainStep): string {
  switch (step.step) {
    case "rules":
      return step.data.findings
        .filter((finding) => finding.severity === "error")
        .map(
          (finding) =>
            `${" ".repeat(INDENT)}${finding.line > 0 ? `${finding.file}:${finding.line}:${finding.column}: ` : ""}${finding.path}: ${finding.message}\n`,
        )
        .join("");
    case "discovery":
      if (step.data === null || step.data.rules.length === 0) return "";
      return formatTable(
        ["RULE", "SERIES", "METRICS", "SERIES QUERY"],
        step.data.rules.map((rule) => [
          rule.id,
          rule.error === null ? String(rule.seriesMatched) : "error",
          String(rule.metrics),
          rule.seriesQuery,
        ]),
        INDENT,
      );
    case "query":
      return step.data.promql === null
        ? ""
        : `${" ".repeat(INDENT)}metricsQuery: ${step.data.template}\n${step.data.time === null ? "" : `${" ".repeat(INDENT)}evaluated at ${step.data.time}\n`}`;
    case "result": {
      const parts: string[] = [];
      if (step.data.samples.length > 0) {
        parts.push(
          formatTable(
            ["LABELS", "VALUE", "TIMESTAMP"],
            step.data.samples.map((sample) => [formatLabels(sample.labels), sample.value, sample.timestamp]),
            INDENT,
          ),
        );
      }
      if (step.data.probes.length > 0) {
        parts.push(
          formatTable(
            ["PROBE", "SAMPLES", "PROMQL"],
            step.data.probes.map((probe) => [
              probe.question,
              probe.samples === null ? `error: ${probe.error ?? ""}` : String(probe.samples),
              probe.promql,
            ]),
            INDENT,
          ),
        );
      }
      return parts.join("");
    }
    case "matching": {
      const parts: string[] = [];
      if (step.data.objects.length > 0) {
        parts.push(
          formatTable(
            ["OBJECT", "VALUE", "NOTE"],
            step.data.objects.map((object) => [object.name, object.value ?? "-", object.note]),
            INDENT,
          ),
        );
      }
      if (step.data.unmatchedSamples.length > 0) {
        parts.push(`${" ".repeat(INDENT)}samples matching no requested object:\n`);
        parts.push(
          formatTable(
            ["LABELS", "VALUE"],
            step.data.unmatchedSamples.map((sample) => [formatLabels(sample.labels), sample.value]),
            INDENT + 2,
          ),
        );
      }
      return parts.join("");
    }
    case "response": {
      if (step.data === null) return "";
      const body = typeof step.data.body === "string" ? step.data.body : JSON.stringify(step.data.body, null, 2);
      return `${body
        .split("\n")
        .map((line) => `${" ".repeat(INDENT)}${line}`)
        .join("\n")}\n`;
    }
    default:
      return "";
  }
}
