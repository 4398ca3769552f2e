/**
 * rules/alerts.yaml, checked with the real promtool: the file is valid, every alert has a promtool unit test that
 * fires it and one that does not (test/monitoring/alerts.promtool.yaml), a summary, a description quoting values, a
 * runbook section in docs/troubleshooting.md, and every expression reads only series /metrics exposes or the file
 * records.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { findPrometheus, prometheusSkipReason } from "../support/prometheus.ts";
import {
  ALERTS_FILE,
  alertingRules,
  exposedSeriesNames,
  metricNamesIn,
  PROMTOOL_TESTS_FILE,
  recordingRules,
  REPO_ROOT,
  TROUBLESHOOTING_FILE,
} from "./monitoring-files.ts";

const RUNBOOK_BASE = "https://github.com/prom-adapter/prom-adapter/blob/main/docs/troubleshooting.md#";
const skip = prometheusSkipReason();
if (skip) console.warn(`skipping promtool checks of rules/alerts.yaml: ${skip}`);

function promtool(args: string[]): { code: number; output: string } {
  const command = [findPrometheus()!.promtool, ...args];
  const result = Bun.spawnSync(command, { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

describe.skipIf(skip !== null)("promtool on rules/alerts.yaml", () => {
  test("promtool check rules accepts the file", () => {
    const { code, output } = promtool(["check", "rules", ALERTS_FILE]);
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining("SUCCESS") });
  });

  test("promtool test rules passes every unit test", () => {
    const { code, output } = promtool(["test", "rules", PROMTOOL_TESTS_FILE]);
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining("SUCCESS") });
  });
});

describe("the alerts", () => {
  const alerts = alertingRules();
  const names = alerts.map((rule) => rule.alert!);

  test("cover the failures the issue lists", () => {
    expect(names.sort()).toEqual(
      [
        "PromAdapterUnavailable",
        "PromAdapterDown",
        "PromAdapterNotReady",
        "PromAdapterDiscoveryFailing",
        "PromAdapterDiscoveryStale",
        "PromAdapterPrometheusErrors",
        "PromAdapterPrometheusSlow",
        "PromAdapterReviewErrors",
        "PromAdapterRequestsRefused",
        "PromAdapterConfigReloadFailed",
        "PromAdapterRequestErrors",
      ].sort(),
    );
  });

  test("each has a unit test where it fires and one where it does not", () => {
    interface AlertTest {
      alertname: string;
      exp_alerts?: unknown[];
    }
    interface TestFile {
      rule_files: string[];
      tests: { alert_rule_test?: AlertTest[] }[];
    }
    const file = parseYaml(readFileSync(PROMTOOL_TESTS_FILE, "utf8")) as TestFile;
    expect(file.rule_files).toEqual(["../../rules/alerts.yaml"]);
    const cases = file.tests.flatMap((group) => group.alert_rule_test ?? []);
    for (const name of names) {
      const mine = cases.filter((entry) => entry.alertname === name);
      const fires = mine.some((entry) => (entry.exp_alerts ?? []).length > 0);
      const silent = mine.some((entry) => (entry.exp_alerts ?? []).length === 0);
      expect({ name, fires, silent }).toEqual({ name, fires: true, silent: true });
    }
    expect(cases.filter((entry) => !names.includes(entry.alertname))).toEqual([]);
  });

  test("each has a severity, a summary, a description with values and a runbook section in troubleshooting.md", () => {
    const headings = new Set(
      readFileSync(TROUBLESHOOTING_FILE, "utf8")
        .split("\n")
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => githubAnchor(line.replace(/^#+ /, ""))),
    );
    for (const rule of alerts) {
      const { summary = "", description = "", runbook_url: runbook = "" } = rule.annotations ?? {};
      const alert = rule.alert;
      const severity = rule.labels?.severity;
      expect({ alert, severity }).toEqual({ alert, severity: expect.stringMatching(/^(critical|warning)$/) });
      expect(summary.length).toBeGreaterThan(10);
      // absent() has neither a value nor labels to quote; every other description names the replica or the value.
      const quotes = /\{\{ \$(value|labels)/.test(description);
      if (!rule.expr.startsWith("absent(")) expect({ alert, quotes }).toEqual({ alert, quotes: true });
      expect(runbook).toStartWith(RUNBOOK_BASE);
      const anchor = runbook.slice(RUNBOOK_BASE.length);
      expect({ alert, anchor, section: headings.has(anchor) }).toEqual({ alert, anchor, section: true });
      expect(anchor).toBe(rule.alert!.toLowerCase());
    }
  });

  test("every expression reads only series /metrics exposes, up, or series the file records", () => {
    const known = new Set([...exposedSeriesNames(), "up", ...recordingRules().map((rule) => rule.record!)]);
    for (const rule of [...recordingRules(), ...alerts]) {
      const names = metricNamesIn(rule.expr);
      expect(names.length).toBeGreaterThan(0);
      const name = rule.record ?? rule.alert;
      expect({ name, unknown: names.filter((candidate) => !known.has(candidate)) }).toEqual({ name, unknown: [] });
    }
  });

  test('every expression selects job="prom-adapter", directly or through a recording rule', () => {
    const recorded = new Set(recordingRules().map((rule) => rule.record!));
    for (const rule of [...recordingRules(), ...alerts]) {
      const readsRaw = metricNamesIn(rule.expr).some((name) => !recorded.has(name));
      const name = rule.record ?? rule.alert;
      if (readsRaw) expect({ name, job: rule.expr.includes('job="prom-adapter"') }).toEqual({ name, job: true });
    }
  });
});

describe("metricNamesIn", () => {
  test("finds metric names and skips functions, keywords, labels, strings, ranges and grouping clauses", () => {
    expect(
      metricNamesIn(
        'sum by (namespace, api) (rate(a_total{job="x", code=~"5.."}[5m])) / on (api) group_left b:rec' +
          " or absent(up == 1) and c > bool 0",
      ),
    ).toEqual(["a_total", "b:rec", "c", "up"]);
    const quantile = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{pod=~"$pod"}[$__rate_interval])))';
    expect(metricNamesIn(quantile)).toEqual(["x_bucket"]);
  });
});
