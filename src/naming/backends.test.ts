import { describe, expect, test } from "bun:test";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../apimachinery/rest-mapper.ts";
import { ConfigError } from "../config/errors.ts";
import { parseRulesText } from "../config/load.ts";
import { compileRules } from "./compile-rules.ts";
import { ambiguousBackends, routeBackend } from "./backends.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const RULE = `- seriesQuery: '{__name__="x",namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;
const compile = (backends: string, rules = RULE) =>
  compileRules(parseRulesText(`backends:\n${backends}rules:\n${rules}`, "rules.yaml"), () => mapper);
const TEAMS = `- name: team-a
  url: http://a
  namespaces: [team-a]
- name: team-b
  url: http://b
  namespaces: 'team-b(-.*)?'
- name: thanos
  url: http://thanos
`;

describe("routing a metric to a backend", () => {
  const { backends } = compile(TEAMS);
  const all = ["default", "team-a", "team-b", "thanos"];

  test("a rule naming a backend always goes there", () => {
    expect(routeBackend(all, "thanos", "team-a", backends)).toBe("thanos");
  });

  test("a request namespace goes to the backend listing or matching it, anchored", () => {
    expect(routeBackend(all, undefined, "team-a", backends)).toBe("team-a");
    expect(routeBackend(all, undefined, "team-b-ci", backends)).toBe("team-b");
    // The regex is anchored: team-bx is not team-b's.
    expect(routeBackend(all, undefined, "team-bx", backends)).toBe("default");
  });

  test("only backends that registered the metric are candidates; a catch-all backend comes before the first one", () => {
    expect(routeBackend(["team-a", "thanos"], undefined, "team-c", backends)).toBe("thanos");
    expect(routeBackend(["team-a", "team-b"], undefined, "team-c", backends)).toBe("team-a");
    expect(routeBackend(["thanos", "team-b"], undefined, "team-b", backends)).toBe("team-b");
  });

  test("without a namespace (cluster-scoped, namespaced: false) the first declared candidate answers", () => {
    expect(routeBackend(["team-b", "thanos"], undefined, undefined, backends)).toBe("team-b");
  });

  test("ambiguity: two catch-alls, shared list names, or a regex matching a listed name", () => {
    expect(ambiguousBackends(["default", "thanos"], backends)).toBe(true);
    expect(ambiguousBackends(["default", "team-a"], backends)).toBe(false);
    expect(ambiguousBackends(["team-a", "team-b"], backends)).toBe(false);
    const overlapping = compile(
      "- name: a\n  url: http://a\n  namespaces: [x, team-b-ci]\n- name: b\n  url: http://b\n  namespaces: 'team-b.*'\n",
    ).backends;
    expect(ambiguousBackends(["a", "b"], overlapping)).toBe(true);
  });
});

describe("compiling backends", () => {
  test("overlapping backends under shared rules warn with a stable code, at the later backend", () => {
    const { warnings } = compile(TEAMS);
    expect(warnings.map((w) => [w.code, `${w.line}:${w.column}`, w.path, w.message])).toEqual([
      [
        "backend-routing-ambiguous",
        "8:3",
        "backends[2]",
        'backends "default" and "thanos" can serve the same namespaces: a metric both register is routed to ' +
          '"default" (declared first) for those namespaces',
      ],
    ]);
  });

  test("no warning when every rule is pinned to a backend", () => {
    const pinned = `${RULE}  prometheus: {backend: thanos}\n`;
    expect(compile(TEAMS, pinned).warnings).toEqual([]);
  });

  test("an unknown rule backend and a bad namespaces regex are errors with positions", () => {
    let error: unknown;
    try {
      compile("- name: a\n  url: http://a\n  namespaces: 'team-(a'\n", `${RULE}  prometheus: {backend: b}\n`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split("\n")).toEqual([
      'rules.yaml:4:15: backends[0].namespaces: invalid RE2 "team-(a": missing closing )',
      'rules.yaml:9:25: rules[0].prometheus.backend: unknown backend "b" (not "default" nor in `backends`)',
    ]);
  });
});
