import { describe, expect, test } from "bun:test";
import { ConfigError } from "./errors.ts";
import { parseRulesText } from "./load.ts";
import { DEFAULT_RULES_TEXT } from "./defaults.ts";

function errorsOf(text: string): string[] {
  try {
    parseRulesText(text, "rules.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const RULE = `- seriesQuery: 'up'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(up{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;

describe("loading a rules file", () => {
  test("the embedded default rules load with six rules and resource rules", () => {
    const { rules } = parseRulesText(DEFAULT_RULES_TEXT, "default.yaml");
    expect(rules.rules).toHaveLength(6);
    expect(rules.externalRules).toEqual([]);
    expect(rules.resourceRules?.window).toBe(300_000);
    expect(rules.rules[1]?.seriesFilters).toEqual([{ isNot: "^container_.*_seconds_total$" }]);
    expect(rules.rules[0]?.resources.overrides).toEqual({ namespace: { group: "", resource: "namespace" }, pod: { group: "", resource: "pod" } });
  });

  test("string fields keep their source text", () => {
    const { rules } = parseRulesText(`rules:\n- seriesQuery: up\n  name: {as: 123, matches: 1.50}\n  metricsQuery: x\n`, "r.yaml");
    expect(rules.rules[0]?.name).toEqual({ as: "123", matches: "1.50" });
  });

  test("an unknown key names file, line, column, path and key", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  name:\n    matchs: x\n  metricsQuery: x\n`)).toEqual(['rules.yaml:4:5: rules[0].name: unknown field "matchs"']);
  });

  test("a duplicate key is an error at the second occurrence", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  seriesQuery: down\n  metricsQuery: x\n`)).toEqual(['rules.yaml:3:3: rules[0]: duplicate key "seriesQuery"']);
  });

  test("missing required fields are reported for every rule at once", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n- metricsQuery: x\n`)).toEqual([
      "rules.yaml:2:3: rules[0].metricsQuery: required field is missing or empty",
      "rules.yaml:3:3: rules[1].seriesQuery: required field is missing or empty",
    ]);
  });

  test("an empty seriesQuery is an error", () => {
    expect(errorsOf(`rules:\n- seriesQuery: ""\n  metricsQuery: x\n`)).toEqual(["rules.yaml:2:16: rules[0].seriesQuery: required field is missing or empty"]);
  });

  test("namespaced accepts YAML 1.1 booleans and rejects other text", () => {
    const { rules } = parseRulesText(`externalRules:\n- seriesQuery: up\n  resources: {namespaced: no}\n  metricsQuery: x\n`, "r.yaml");
    expect(rules.externalRules[0]?.resources.namespaced).toBe(false);
    expect(errorsOf(`externalRules:\n- seriesQuery: up\n  resources: {namespaced: maybe}\n  metricsQuery: x\n`)).toEqual([
      'rules.yaml:3:27: externalRules[0].resources.namespaced: expected a boolean (true or false), got "maybe"',
    ]);
  });

  test("a list where a mapping belongs is an error", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  resources: [a]\n  metricsQuery: x\n`)).toEqual(["rules.yaml:3:14: rules[0].resources: expected a mapping, got a list"]);
  });

  test("YAML syntax errors carry their position", () => {
    const [message] = errorsOf(`rules:\n- seriesQuery: [up\n`);
    expect(message).toMatch(/^rules\.yaml:\d+:\d+: /);
  });

  test("two documents are refused", () => {
    expect(errorsOf(`rules:\n${RULE}---\nrules: []\n`)).toEqual(["rules.yaml:5:1: only one YAML document is allowed"]);
  });

  test("a file with no rules at all is refused", () => {
    expect(errorsOf(`rules: []\n`)).toEqual(["rules.yaml:1:1: the file defines no rules, externalRules or resourceRules: nothing would be served"]);
    expect(errorsOf(``)).toEqual(["rules.yaml: the file defines no rules, externalRules or resourceRules: nothing would be served"]);
  });

  test("resource rules need cpu, memory and their queries", () => {
    expect(errorsOf(`resourceRules:\n  cpu:\n    containerQuery: x\n    nodeQuery: y\n    containerLabel: container\n  window: 5x\n`)).toEqual([
      'rules.yaml:6:11: resourceRules.window: not a valid duration string: "5x"',
      "rules.yaml:2:3: resourceRules.memory: required field is missing or empty",
      "rules.yaml:2:3: resourceRules.memory.containerQuery: required field is missing or empty",
      "rules.yaml:2:3: resourceRules.memory.nodeQuery: required field is missing or empty",
      "rules.yaml:2:3: resourceRules.memory.containerLabel: required field is missing or empty",
    ]);
  });

  test("aliases are followed", () => {
    const { rules } = parseRulesText(`rules:\n- seriesQuery: &q up\n  metricsQuery: *q\n`, "r.yaml");
    expect(rules.rules[0]?.metricsQuery).toBe("up");
  });
});

describe("prom-adapter's rule extensions", () => {
  test("defaultValue and prometheus parameters and headers are read", () => {
    const { rules } = parseRulesText(
      "rules:\n- seriesQuery: up\n  metricsQuery: x\n  defaultValue: 1.5e0\n  prometheus:\n    parameters: {dedup: true}\n    headers: {X-Scope-OrgID: team-a}\n",
      "r.yaml",
    );
    expect(rules.rules[0]?.defaultValue).toBe(1.5);
    expect(rules.rules[0]?.prometheus).toEqual({ parameters: { dedup: "true" }, headers: { "X-Scope-OrgID": "team-a" } });
  });

  test("without them a rule means what upstream means", () => {
    const { rules } = parseRulesText("rules:\n- seriesQuery: up\n  metricsQuery: x\n", "r.yaml");
    expect(rules.rules[0]?.defaultValue).toBeUndefined();
    expect(rules.rules[0]?.prometheus).toEqual({ parameters: {}, headers: {} });
  });

  test.each([
    ["  defaultValue: lots\n", 'rules.yaml:4:17: rules[0].defaultValue: expected a finite number, got "lots"'],
    ["  defaultValue: .inf\n", 'rules.yaml:4:17: rules[0].defaultValue: expected a finite number, got ".inf"'],
    ["  prometheus: {parameters: {query: x}}\n", 'rules.yaml:4:28: rules[0].prometheus.parameters: "query" is set by prom-adapter and cannot be overridden'],
    ["  prometheus: {headers: {Content-Type: x}}\n", 'rules.yaml:4:25: rules[0].prometheus.headers: header "Content-Type" is set by prom-adapter and cannot be overridden'],
    ["  prometheus: {headers: {'a b': x}}\n", 'rules.yaml:4:25: rules[0].prometheus.headers: invalid header name "a b"'],
    ["  prometheus: {params: {}}\n", 'rules.yaml:4:16: rules[0].prometheus: unknown field "params"'],
  ])("%p is refused", (extra, message) => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  metricsQuery: x\n${extra}`)).toEqual([message]);
  });
});
