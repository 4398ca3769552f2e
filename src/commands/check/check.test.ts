import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../observability/logger.ts";
import { parseOptions } from "../../options.ts";
import { startCaptureServer } from "../../../test/support/capture-server.ts";
import { runCheck } from "./check.ts";
import { formatCheckText } from "./format.ts";
import type { RuleFinding } from "./rules-report.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "check-test-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rulesFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const checkFile = (path: string) =>
  runCheck({ options: parseOptions(["--config", path]), withPrometheus: false, cluster: false, logger: silentLogger });

const GOOD = `rules:
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: ^container_(.*)_seconds_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)
externalRules:
- seriesQuery: '{__name__="queue_depth"}'
  resources: {namespaced: false}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
`;

type Expected = Omit<RuleFinding, "file">;

describe("check without Prometheus", () => {
  test("a good file is valid, exit code 0, with its rule counts", async () => {
    const path = rulesFile("good.yaml", GOOD);
    const report = await checkFile(path);
    expect(report).toEqual({
      file: path,
      mapper: "builtin",
      kubernetes: null,
      findings: [],
      valid: true,
      rules: { custom: 1, external: 1, resourceRules: false },
      discovery: null,
      exitCode: 0,
    });
    expect(formatCheckText(report)).toBe(
      `${path}: valid (1 rules, 1 externalRules); REST mapper: built-in table (pass --kubeconfig for the cluster's)\n`,
    );
  });

  test.each<[string, string, number, Expected[]]>([
    [
      "an unknown field, with the field it probably is",
      "rules:\n- seriesQuery: x\n  name: {matchs: foo}\n  metricsQuery: x\n",
      1,
      [
        {
          severity: "error",
          line: 3,
          column: 10,
          path: "rules[0].name",
          message: 'unknown field "matchs"',
          hint: 'did you mean "matches"?',
        },
      ],
    ],
    [
      "a YAML syntax error",
      "rules:\n- seriesQuery: 'x'\n  metricsQuery: [unclosed\n",
      1,
      [
        {
          severity: "error",
          line: 4,
          column: 1,
          path: "",
          message: "Flow sequence in block collection must be sufficiently indented and end with a ]",
          hint: "a value starting with [ or { is a YAML flow list or mapping: close it, or quote the whole value",
        },
      ],
    ],
    [
      "missing required fields",
      "rules:\n- name: {as: foo}\n",
      1,
      [
        {
          severity: "error",
          line: 2,
          column: 3,
          path: "rules[0].seriesQuery",
          message: "required field is missing or empty",
        },
        {
          severity: "error",
          line: 2,
          column: 3,
          path: "rules[0].metricsQuery",
          message: "required field is missing or empty",
        },
      ],
    ],
    [
      "an invalid regex",
      "rules:\n- seriesQuery: 'x'\n  name: {matches: '(foo'}\n  metricsQuery: x\n",
      1,
      [
        {
          severity: "error",
          line: 3,
          column: 19,
          path: "rules[0].name.matches",
          message: 'invalid RE2 "(foo": missing closing )',
        },
      ],
    ],
    [
      "an unknown template field",
      "rules:\n- seriesQuery: 'x'\n  metricsQuery: '<<.Serie>>'\n",
      1,
      [
        {
          severity: "error",
          line: 3,
          column: 20,
          path: "rules[0].metricsQuery",
          message: "unknown field .Serie (fields: Series LabelMatchers LabelValuesByName GroupBy GroupBySlice)",
          hint: "did you mean .Series?",
        },
      ],
    ],
    [
      "a resource template without .Resource",
      "rules:\n- seriesQuery: 'x'\n  resources: {template: 'kube_<<.Group>>'}\n  metricsQuery: '<<.Series>>'\n",
      1,
      [
        {
          severity: "error",
          line: 3,
          column: 25,
          path: "rules[0].resources.template",
          message:
            'unable to generate label format from template "kube_<<.Group>>": must include at least `{{.Resource}}` in the label template',
          hint: "the template turns each resource into its label, so it needs <<.Resource>>: e.g. `template: <<.Resource>>` (pods -> label pod) or `template: kube_<<.Group>>_<<.Resource>>`",
        },
      ],
    ],
    [
      "an external rule that does not map the namespace",
      "externalRules:\n- seriesQuery: 'x'\n  metricsQuery: '<<.Series>>'\n",
      1,
      [
        {
          severity: "error",
          line: 2,
          column: 3,
          path: "externalRules[0].resources",
          message:
            "unable to convert resource namespaces into label: no generic resource label form specified for this metric; an external rule must map the namespaces resource (an override such as `namespace: {resource: namespace}` or a template), or set `resources: {namespaced: false}`",
          hint: "add `resources: {overrides: {namespace: {resource: namespace}}}` (the label holding the namespace), or `resources: {namespaced: false}` when the series are not per namespace (the URL namespace is then ignored)",
        },
      ],
    ],
    [
      "an override naming a resource the built-in table does not know",
      "rules:\n- seriesQuery: 'x'\n  resources: {overrides: {widget: {group: example.com, resource: widgets}}}\n  metricsQuery: '<<.Series>>'\n",
      0,
      [
        {
          severity: "warning",
          line: 3,
          column: 35,
          path: "rules[0].resources.overrides.widget",
          code: "unknown-resource",
          message:
            'unknown resource widgets.example.com: the server doesn\'t have a resource type "widgets.example.com": label "widget" is not associated with it, so metrics only it would give are skipped',
          hint: "the built-in table knows common resources only: pass --kubeconfig (or have $KUBECONFIG or ~/.kube/config) to use the cluster's resources, CRDs included",
        },
      ],
    ],
    [
      "the $1_per_second trap (a warning: the file loads)",
      "rules:\n- seriesQuery: 'x_total'\n  resources: {template: <<.Resource>>}\n  name: {matches: ^(.*)_total$, as: $1_per_second}\n  metricsQuery: '<<.Series>>'\n",
      0,
      [
        {
          severity: "warning",
          line: 4,
          column: 37,
          path: "rules[0].name.as",
          code: "name-as-group-name",
          message:
            'name.as "$1_per_second": "$1_per_second" names the group "1_per_second", which expands to nothing; write "${1}_per_second"',
          hint: 'Go\'s Regexp.Expand reads "$1_per_second" as one group name, so every metric name of this rule is empty and its series are skipped: write "${1}_per_second"',
        },
      ],
    ],
    [
      "an empty file",
      "",
      1,
      [
        {
          severity: "error",
          line: 0,
          column: 0,
          path: "",
          message: "the file defines no rules, externalRules or resourceRules: nothing would be served",
        },
      ],
    ],
  ])("reports %s with its exact message and exit code", async (_name, text, exitCode, expected) => {
    const path = rulesFile("case.yaml", text);
    const report = await checkFile(path);
    expect(report.exitCode).toBe(exitCode);
    expect(report.valid).toBe(exitCode === 0);
    expect(report.findings).toEqual(expected.map((finding) => ({ file: path, ...finding })));
  });

  test("an unreadable file is an error naming it, without a position", async () => {
    const path = join(dir, "absent.yaml");
    const report = await checkFile(path);
    expect(report.exitCode).toBe(1);
    expect(report.findings).toEqual([
      {
        severity: "error",
        file: path,
        line: 0,
        column: 0,
        path: "",
        message: `cannot read rules file: ENOENT: no such file or directory, open '${path}'`,
      },
    ]);
  });

  test("the text output lists every finding with file:line:col and its hint", async () => {
    const path = rulesFile("text.yaml", "rules:\n- seriesQuery: x\n  name: {matchs: foo}\n  metricsQuery: x\n");
    expect(formatCheckText(await checkFile(path))).toBe(
      `${path}: INVALID: 1 error(s); REST mapper: built-in table (pass --kubeconfig for the cluster's)\n` +
        `${path}:3:10: error: rules[0].name: unknown field "matchs"\n  hint: did you mean "matches"?\n`,
    );
  });
});

describe("check exit codes with Prometheus", () => {
  test("exit code 1 when Prometheus refuses a seriesQuery, 0 when it answers", async () => {
    let refuse = true;
    await using prometheus = startCaptureServer(({ pathAndQuery }) =>
      refuse && pathAndQuery.includes("/api/v1/series")
        ? Response.json({ status: "error", errorType: "bad_data", error: "parse error" }, { status: 400 })
        : Response.json({ status: "success", data: [] }),
    );
    const path = rulesFile("with-prometheus.yaml", GOOD);
    const run = () =>
      runCheck({
        options: parseOptions(["--config", path, "--prometheus-url", prometheus.url]),
        withPrometheus: true,
        cluster: false,
        logger: silentLogger,
      });
    const refused = (await run()).exitCode;
    refuse = false;
    expect({ refused, answered: (await run()).exitCode }).toEqual({ refused: 1, answered: 0 });
  });
});
