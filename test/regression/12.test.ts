/**
 * Issue 12: the error for an external rule that does not map the namespace suggested "set `namespaced: false`".
 * Written at rule level that key is itself rejected as an unknown field; the working form is
 * `resources: {namespaced: false}`. The test follows the suggestion literally and checks the result loads.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { parseRulesText } from "../../src/config/load.ts";
import { compileRules } from "../../src/naming/compile-rules.ts";
import { BUILTIN_RESOURCES, createTableRestMapper } from "../../src/apimachinery/rest-mapper.ts";

const mapper = createTableRestMapper(BUILTIN_RESOURCES);
const compile = (text: string) => compileRules(parseRulesText(text, "rules.yaml"), () => mapper);
const messagesOf = (run: () => unknown): string[] => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => issue.message);
    throw error;
  }
  return [];
};

const unmapped = "externalRules:\n- seriesQuery: 'queue_depth'\n  metricsQuery: 'sum(<<.Series>>)'\n";

describe("issue 12: the namespaced hint of external rules", () => {
  test("the error suggests `resources: {namespaced: false}`, not a rule-level `namespaced: false`", () => {
    const [message] = messagesOf(() => compile(unmapped));
    expect(message).toContain("or set `resources: {namespaced: false}`");
    expect(message).not.toContain("or set `namespaced: false`");
  });

  test("following the suggestion gives a rules file that loads", () => {
    const fixed = `${unmapped}  resources: {namespaced: false}\n`;
    expect(messagesOf(() => compile(fixed))).toEqual([]);
  });

  test("the old suggestion, a rule-level `namespaced: false`, is an unknown field", () => {
    const wrong = `${unmapped}  namespaced: false\n`;
    expect(messagesOf(() => compile(wrong)).join("\n")).toContain('unknown field "namespaced"');
  });
});
