/**
 * `prom-adapter check --standalone` on rules files shaped like the ones users bring (fixtures/, each naming the
 * kind of source it imitates): the exact accept / warn / error lines, and the stable warning codes of --output json.
 */
import { describe, expect, test } from "bun:test";
import { join, relative } from "node:path";
import { runSubcommand } from "../../src/commands/cli.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const FIXTURES = relative(process.cwd(), join(import.meta.dir, "fixtures"));
/** No kubeconfig anywhere: the built-in resource table, as a standalone run on a laptop without one. */
const NO_KUBECONFIG_ENV = { HOME: join(REPO_ROOT, "does-not-exist") };

async function check(file: string, output: "text" | "json" = "text"): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const code = await runSubcommand(["check", "--standalone", "--config", join(FIXTURES, file), "--output", output], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: () => {},
    env: NO_KUBECONFIG_ENV,
  });
  return { code, stdout };
}

const MAPPER = "REST mapper: built-in table (pass --kubeconfig for the cluster's)";

describe("check on configs shaped like real ones", () => {
  const cases: [file: string, exitCode: number, lines: string[]][] = [
    ["trailing-document.yaml", 0, [`F/trailing-document.yaml: valid (1 rules, 0 externalRules); ${MAPPER}`]],
    [
      "two-documents.yaml",
      1,
      [
        `F/two-documents.yaml: INVALID: 1 error(s); ${MAPPER}`,
        "F/two-documents.yaml:7:1: error: only one YAML document is allowed",
      ],
    ],
    ["merge-keys.yaml", 0, [`F/merge-keys.yaml: valid (3 rules, 0 externalRules); ${MAPPER}`]],
    [
      "merge-keys-unknown-field.yaml",
      1,
      [
        `F/merge-keys-unknown-field.yaml: INVALID: 4 error(s); ${MAPPER}`,
        'F/merge-keys-unknown-field.yaml:6:3: error: rules[0]: unknown field "metricQuery"',
        '  hint: did you mean "metricsQuery"?',
        "F/merge-keys-unknown-field.yaml:4:3: error: rules[0].metricsQuery: required field is missing or empty",
        'F/merge-keys-unknown-field.yaml:6:3: error: rules[1]: unknown field "metricQuery"',
        '  hint: did you mean "metricsQuery"?',
        "F/merge-keys-unknown-field.yaml:7:3: error: rules[1].metricsQuery: required field is missing or empty",
      ],
    ],
    [
      "quoted-query.yaml",
      1,
      [
        `F/quoted-query.yaml: INVALID: 1 error(s); ${MAPPER}`,
        "F/quoted-query.yaml:5:70: error: Unexpected scalar at node end",
        '      metricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[2m])) by (<<.GroupBy>>)"',
        `    ${" ".repeat(69)}^`,
        '  hint: the value starts with a quote; inner quotes must be escaped (\\"), or use single quotes or a block scalar (|)',
      ],
    ],
    [
      "crd-override.yaml",
      0,
      [
        `F/crd-override.yaml: valid (1 rules, 0 externalRules; 1 warning(s)); ${MAPPER}`,
        "F/crd-override.yaml:7:16: warning: rules[0].resources.overrides.rollout: unknown resource rollouts.argoproj.io: " +
          'the server doesn\'t have a resource type "rollouts.argoproj.io": label "rollout" is not associated with it, so metrics only it would give are skipped',
        "  hint: the built-in table knows common resources only: pass --kubeconfig (or have $KUBECONFIG or ~/.kube/config) to use the cluster's resources, CRDs included",
      ],
    ],
    [
      "helm-values.yaml",
      1,
      [
        `F/helm-values.yaml: INVALID: 2 error(s), 1 warning(s); ${MAPPER}`,
        'F/helm-values.yaml:2:1: error: unknown field "prometheus"',
        "F/helm-values.yaml:6:3: error: rules: expected a list, got a mapping",
        "F/helm-values.yaml:6:3: warning: rules: this looks like the Helm chart's values (rules.default), not the adapter's config",
        "  hint: pass the config the chart renders (its ConfigMap's config.yaml), or move rules.custom/external/resource to top-level rules/externalRules/resourceRules",
      ],
    ],
    ["kafka-range.yaml", 0, [`F/kafka-range.yaml: valid (0 rules, 1 externalRules); ${MAPPER}`]],
    [
      "mistakes.yaml",
      0,
      [
        `F/mistakes.yaml: valid (3 rules, 0 externalRules; 3 warning(s)); ${MAPPER}`,
        "F/mistakes.yaml:6:62: warning: rules[0].metricsQuery: `{{` is literal text here (template delimiters are << and >>): it reaches PromQL unchanged",
        "F/mistakes.yaml:9:31: warning: rules[1].name.as: `<< >>` in name.as is never expanded (name.as takes regex references such as $1 or ${1}): the metric name keeps it literally",
        "F/mistakes.yaml:14:7: warning: rules[2].resources.overrides: every resource of this rule is namespaced, but no label maps the namespaces resource: every query for its metrics fails (add e.g. `namespace: {resource: namespace}`)",
      ],
    ],
  ];

  test.each(cases)("%s: exit %d and exactly these lines", async (file, exitCode, lines) => {
    const { code, stdout } = await check(file);
    expect(stdout).toBe(`${lines.map((line) => line.replaceAll("F/", `${FIXTURES}/`)).join("\n")}\n`);
    expect(code).toBe(exitCode);
  });

  test("--output json lists every warning with a stable code", async () => {
    const codes = async (file: string) =>
      (JSON.parse((await check(file, "json")).stdout) as { findings: { severity: string; code?: string }[] }).findings
        .filter((finding) => finding.severity === "warning")
        .map((finding) => finding.code);
    expect(await codes("mistakes.yaml")).toEqual([
      "template-literal-braces",
      "name-as-template",
      "namespaced-without-namespace-label",
    ]);
    expect(await codes("helm-values.yaml")).toEqual(["helm-values-file"]);
    expect(await codes("crd-override.yaml")).toEqual(["unknown-resource"]);
  });
});
