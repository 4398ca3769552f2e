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
    expect(rules.rules[0]?.resources.overrides).toEqual({
      namespace: { group: "", resource: "namespace" },
      pod: { group: "", resource: "pod" },
    });
  });

  test("string fields keep their source text", () => {
    const { rules } = parseRulesText(
      `rules:\n- seriesQuery: up\n  name: {as: 123, matches: 1.50}\n  metricsQuery: x\n`,
      "r.yaml",
    );
    expect(rules.rules[0]?.name).toEqual({ as: "123", matches: "1.50" });
  });

  test("an unknown key names file, line, column, path and key", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  name:\n    matchs: x\n  metricsQuery: x\n`)).toEqual([
      'rules.yaml:4:5: rules[0].name: unknown field "matchs"',
    ]);
  });

  test("a duplicate key is an error at the second occurrence", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  seriesQuery: down\n  metricsQuery: x\n`)).toEqual([
      'rules.yaml:3:3: rules[0]: duplicate key "seriesQuery"',
    ]);
  });

  test("missing required fields are reported for every rule at once", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n- metricsQuery: x\n`)).toEqual([
      "rules.yaml:2:3: rules[0].metricsQuery: required field is missing or empty",
      "rules.yaml:3:3: rules[1].seriesQuery: required field is missing or empty",
    ]);
  });

  test("an empty seriesQuery is an error", () => {
    expect(errorsOf(`rules:\n- seriesQuery: ""\n  metricsQuery: x\n`)).toEqual([
      "rules.yaml:2:16: rules[0].seriesQuery: required field is missing or empty",
    ]);
  });

  test("namespaced accepts YAML 1.1 booleans and rejects other text", () => {
    const { rules } = parseRulesText(
      `externalRules:\n- seriesQuery: up\n  resources: {namespaced: no}\n  metricsQuery: x\n`,
      "r.yaml",
    );
    expect(rules.externalRules[0]?.resources.namespaced).toBe(false);
    expect(
      errorsOf(`externalRules:\n- seriesQuery: up\n  resources: {namespaced: maybe}\n  metricsQuery: x\n`),
    ).toEqual([
      'rules.yaml:3:27: externalRules[0].resources.namespaced: expected a boolean (true or false), got "maybe"',
    ]);
  });

  test("a list where a mapping belongs is an error", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  resources: [a]\n  metricsQuery: x\n`)).toEqual([
      "rules.yaml:3:14: rules[0].resources: expected a mapping, got a list",
    ]);
  });

  test("YAML syntax errors carry their position", () => {
    const [message] = errorsOf(`rules:\n- seriesQuery: [up\n`);
    expect(message).toMatch(/^rules\.yaml:\d+:\d+: /);
  });

  test("two documents are refused", () => {
    expect(errorsOf(`rules:\n${RULE}---\nrules: []\n`)).toEqual(["rules.yaml:5:1: only one YAML document is allowed"]);
  });

  test("trailing empty documents are fine, as in yaml.v2", () => {
    for (const tail of ["---\n", "---", "---\n# end\n---\n", "...\n"]) {
      expect(parseRulesText(`rules:\n${RULE}${tail}`, "r.yaml").rules.rules).toHaveLength(1);
    }
  });

  test("a second document with content is refused at its line even after an empty one", () => {
    expect(errorsOf(`rules:\n${RULE}---\n---\nrules: []\n`)).toEqual([
      "rules.yaml:6:1: only one YAML document is allowed",
    ]);
  });

  test("a file with no rules at all is refused", () => {
    expect(errorsOf(`rules: []\n`)).toEqual([
      "rules.yaml:1:1: the file defines no rules, externalRules or resourceRules: nothing would be served",
    ]);
    expect(errorsOf(``)).toEqual([
      "rules.yaml: the file defines no rules, externalRules or resourceRules: nothing would be served",
    ]);
  });

  test("resource rules need cpu, memory and their queries", () => {
    expect(
      errorsOf(
        `resourceRules:\n  cpu:\n    containerQuery: x\n    nodeQuery: y\n    containerLabel: container\n  window: 5x\n`,
      ),
    ).toEqual([
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
    expect(rules.rules[0]?.prometheus).toEqual({
      parameters: { dedup: "true" },
      headers: { "X-Scope-OrgID": "team-a" },
    });
  });

  test("without them a rule means what upstream means", () => {
    const { rules } = parseRulesText("rules:\n- seriesQuery: up\n  metricsQuery: x\n", "r.yaml");
    expect(rules.rules[0]?.defaultValue).toBeUndefined();
    expect(rules.rules[0]?.prometheus).toEqual({ parameters: {}, headers: {} });
  });

  test.each([
    ["  defaultValue: lots\n", 'rules.yaml:4:17: rules[0].defaultValue: expected a finite number, got "lots"'],
    ["  defaultValue: .inf\n", 'rules.yaml:4:17: rules[0].defaultValue: expected a finite number, got ".inf"'],
    [
      "  prometheus: {parameters: {query: x}}\n",
      'rules.yaml:4:28: rules[0].prometheus.parameters: "query" is set by prom-adapter and cannot be overridden',
    ],
    [
      "  prometheus: {headers: {Content-Type: x}}\n",
      'rules.yaml:4:25: rules[0].prometheus.headers: header "Content-Type" is set by prom-adapter and cannot be overridden',
    ],
    [
      "  prometheus: {headers: {'a b': x}}\n",
      'rules.yaml:4:25: rules[0].prometheus.headers: invalid header name "a b"',
    ],
    ["  prometheus: {params: {}}\n", 'rules.yaml:4:16: rules[0].prometheus: unknown field "params"'],
  ])("%p is refused", (extra, message) => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  metricsQuery: x\n${extra}`)).toEqual([message]);
  });
});

describe("YAML merge keys and anchors, as yaml.v2 reads them", () => {
  test("a rule merges another with <<: *anchor and overrides a field", () => {
    const text = `rules:\n- &base\n  seriesQuery: up\n  metricsQuery: sum(x)\n  resources: {template: <<.Resource>>}\n- <<: *base\n  seriesQuery: down\n`;
    const [first, second] = parseRulesText(text, "r.yaml").rules.rules;
    expect(first?.seriesQuery).toBe("up");
    expect(second).toEqual({ ...first!, seriesQuery: "down" });
  });

  test("a list of merged mappings: the first one wins, keys of the mapping itself win over all", () => {
    const text =
      `rules:\n- seriesQuery: up\n  metricsQuery: x\n  resources: {overrides: {a: &a {resource: pods}, b: &b {resource: nodes, group: g}}}\n` +
      `- seriesQuery: up\n  metricsQuery: x\n  resources:\n    overrides:\n      c:\n        <<: [*a, *b]\n      d:\n        <<: *b\n        group: h\n`;
    const overrides = parseRulesText(text, "r.yaml").rules.rules[1]?.resources.overrides;
    expect(overrides).toEqual({ c: { group: "g", resource: "pods" }, d: { group: "h", resource: "nodes" } });
  });

  test("unknown keys are still errors after merging, located where they are written", () => {
    const text = `rules:\n- seriesQuery: up\n  metricsQuery: x\n  resources: &res {template: <<.Resource>>, bogus: 1}\n- seriesQuery: up\n  metricsQuery: x\n  resources: {<<: *res}\n`;
    expect(errorsOf(text)).toEqual([
      'rules.yaml:4:45: rules[0].resources: unknown field "bogus"',
      'rules.yaml:4:45: rules[1].resources: unknown field "bogus"',
    ]);
  });

  test("a merged key and the same key in the mapping are not duplicates; the same key written twice is", () => {
    expect(
      errorsOf(`rules:\n- seriesQuery: up\n  <<: {seriesQuery: x}\n  metricsQuery: x\n  metricsQuery: y\n`),
    ).toEqual(['rules.yaml:5:3: rules[0]: duplicate key "metricsQuery"']);
  });

  test("a merge of a scalar is an error; a quoted << is an ordinary (unknown) key", () => {
    expect(errorsOf(`rules:\n- seriesQuery: up\n  metricsQuery: x\n  <<: 3\n`)).toEqual([
      "rules.yaml:4:7: rules[0]: map merge requires map or sequence of maps as the value",
    ]);
    expect(errorsOf(`rules:\n- seriesQuery: up\n  metricsQuery: x\n  "<<": {}\n`)).toEqual([
      'rules.yaml:4:3: rules[0]: unknown field "<<"',
    ]);
  });
});

describe("YAML syntax errors", () => {
  test("a double-quoted metricsQuery with inner quotes shows the line, a caret and a hint", () => {
    const text = `rules:\n- seriesQuery: up\n  metricsQuery: "sum(x{a!="POD"})"\n`;
    expect(errorsOf(text)).toEqual([
      "rules.yaml:3:28: Unexpected scalar at node end",
      '      metricsQuery: "sum(x{a!="POD"})"',
      "                               ^",
      '  hint: the value starts with a quote; inner quotes must be escaped (\\"), or use single quotes or a block scalar (|)',
    ]);
  });

  test("the message neither repeats the position nor ends in a colon", () => {
    for (const message of errorsOf(`rules:\n\t- seriesQuery: up\n`).filter((line) => line.startsWith("rules.yaml"))) {
      expect(message).not.toMatch(/at line \d+|:$/);
    }
  });

  test("tabs and unclosed flow lists get hints", () => {
    expect(errorsOf(`rules:\n\t- seriesQuery: up\n`).at(-1)).toBe(
      "  hint: indent with spaces: YAML does not allow tabs in indentation",
    );
    expect(errorsOf(`rules:\n- seriesQuery: [up\n`).at(-1)).toContain(
      "hint: a value starting with [ or { is a YAML flow list or mapping",
    );
  });
});

describe("the backends: section (prom-adapter extension)", () => {
  const withBackends = (backends: string) => `backends:\n${backends}rules:\n${RULE}`;

  test("a backend reads its URL, namespaces (list or regex), credential files, headers and parameters", () => {
    const { rules } = parseRulesText(
      withBackends(
        "- name: team-a\n  url: https://prom-a:9090/prefix\n  namespaces: [team-a, team-a-ci]\n" +
          "  bearerTokenFile: /var/run/a/token\n  caFile: /etc/a/ca.crt\n" +
          "  clientCertFile: /etc/a/tls.crt\n  clientKeyFile: /etc/a/tls.key\n" +
          "  headers: {X-Scope-OrgID: team-a}\n  parameters: {partial_response: 'true'}\n" +
          "- name: thanos\n  url: http://thanos:9090\n  namespaces: 'team-(b|c)'\n  authConfigFile: /etc/t/auth.yaml\n",
      ),
      "rules.yaml",
    );
    expect(rules.backends).toEqual([
      {
        name: "team-a",
        url: "https://prom-a:9090/prefix",
        namespaces: { kind: "list", names: ["team-a", "team-a-ci"] },
        bearerTokenFile: "/var/run/a/token",
        caFile: "/etc/a/ca.crt",
        clientCertFile: "/etc/a/tls.crt",
        clientKeyFile: "/etc/a/tls.key",
        authConfigFile: undefined,
        headers: { "X-Scope-OrgID": "team-a" },
        parameters: { partial_response: "true" },
      },
      {
        name: "thanos",
        url: "http://thanos:9090",
        namespaces: { kind: "regex", pattern: "team-(b|c)" },
        bearerTokenFile: undefined,
        caFile: undefined,
        clientCertFile: undefined,
        clientKeyFile: undefined,
        authConfigFile: "/etc/t/auth.yaml",
        headers: {},
        parameters: {},
      },
    ]);
  });

  test("a file without backends has none, and a rule's prometheus.backend is read", () => {
    const { rules } = parseRulesText(
      `rules:\n- seriesQuery: up\n  metricsQuery: x\n  prometheus: {backend: team-a}\n`,
      "rules.yaml",
    );
    expect(rules.backends).toEqual([]);
    expect(rules.rules[0]?.prometheus).toEqual({ parameters: {}, headers: {}, backend: "team-a" });
  });

  test.each([
    ["- url: http://a\n", "rules.yaml:2:3: backends[0].name: required field is missing or empty"],
    [
      "- name: Team_A\n  url: http://a\n",
      'rules.yaml:2:9: backends[0].name: "Team_A" is not a DNS-1123 label (a-z, 0-9, -)',
    ],
    [
      "- name: default\n  url: http://a\n",
      'rules.yaml:2:9: backends[0].name: "default" is the --prometheus-url backend and cannot be redeclared',
    ],
    [
      "- name: a\n  url: http://a\n- name: a\n  url: http://b\n",
      'rules.yaml:4:9: backends[1].name: duplicate backend name "a"',
    ],
    ["- name: a\n  url: ftp://a\n", 'rules.yaml:3:8: backends[0].url: expected an http or https URL, got "ftp://a"'],
    [
      "- name: a\n  url: http://u:p@a\n",
      "rules.yaml:3:8: backends[0].url: credentials in the URL are refused: use authConfigFile",
    ],
    [
      "- name: a\n  url: http://a\n  clientCertFile: /c\n",
      "rules.yaml:2:3: backends[0]: clientCertFile and clientKeyFile must be given together",
    ],
    ["- name: a\n  url: http://a\n  token: x\n", 'rules.yaml:4:3: backends[0]: unknown field "token"'],
    [
      "- name: a\n  url: http://a\n  headers: {Authorization: x}\n",
      'rules.yaml:4:12: backends[0].headers: header "Authorization" would put a secret in the rules file: ' +
        "use bearerTokenFile or authConfigFile",
    ],
  ])("a bad backend is reported with file, line, column and path (%#)", (backends, expected) => {
    expect(errorsOf(withBackends(backends))).toContain(expected);
  });
});
