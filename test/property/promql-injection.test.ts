/**
 * No request input can change the structure of the PromQL prom-adapter sends (issue: input hardening). Namespaces,
 * object names and selector values are drawn at random — quotes, backslashes, braces, `"} or vector(1)`, control
 * characters, lone surrogates — rendered through the real template and matcher code, and the produced query is then
 * read back with a small PromQL matcher lexer: the shape (series, matcher labels and operators, grouping) must be
 * exactly the template's, and every quoted value must decode back to the input.
 */
import { describe, expect, test } from "bun:test";
import type { Requirement } from "../../src/apimachinery/labels/selector.ts";
import { QUERY_TEMPLATE_FIELDS, renderExternalQuery, renderObjectQuery } from "../../src/naming/query-builder.ts";
import { compileTemplate } from "../../src/golang/template/template.ts";
import { createRandom, randomString, unquoteGo, wtf8 } from "../support/go-strings.ts";

const TEMPLATE = compileTemplate(
  "sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)",
  QUERY_TEMPLATE_FIELDS,
);
const EXTERNAL = compileTemplate("max(<<.Series>>{<<.LabelMatchers>>})", QUERY_TEMPLATE_FIELDS);
const NASTY = ['"', "\\", "}", "{", '"} or vector(1) #', '\\"', "`", "\n", "\u2028", "\ud800", "${1}", ")", "|"];

interface Matcher {
  label: string;
  op: string;
  value: Uint8Array;
}

/** Splits `label op "value", ...` into matchers, decoding each Go-quoted value; throws on anything else. */
function lexMatchers(text: string): Matcher[] {
  const matchers: Matcher[] = [];
  let at = 0;
  while (at < text.length) {
    const head = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"/.exec(text.slice(at));
    if (!head) throw new Error(`unexpected text at ${at}: ${JSON.stringify(text.slice(at, at + 20))}`);
    let end = at + head[0].length;
    // Find the closing quote: a quote not preceded by an odd number of backslashes.
    for (;;) {
      const quote = text.indexOf('"', end);
      if (quote < 0) throw new Error("unterminated string");
      let backslashes = 0;
      for (let i = quote - 1; text[i] === "\\"; i--) backslashes++;
      end = quote + 1;
      if (backslashes % 2 === 0) break;
    }
    matchers.push({
      label: head[1]!,
      op: head[2]!,
      value: unquoteGo(text.slice(at + head[1]!.length + head[2]!.length, end)),
    });
    at = end;
    if (at < text.length) {
      if (text[at] !== ",") throw new Error(`expected a comma at ${at}`);
      at++;
    }
  }
  return matchers;
}

function randomValue(random: (limit: number) => number): string {
  return random(3) === 0 ? NASTY[random(NASTY.length)]! + randomString(random) : randomString(random);
}

describe("rendered PromQL keeps its shape whatever the input", () => {
  test("5000 random namespaces, names and selector values", () => {
    const random = createRandom(20241126);
    for (let i = 0; i < 5000; i++) {
      const namespace = randomValue(random);
      const names = Array.from({ length: 1 + random(3) }, () => randomValue(random));
      const requirements: Requirement[] = [
        { key: "verb", operator: "=", values: [randomValue(random)] },
        { key: "zone", operator: "notin", values: [randomValue(random), randomValue(random)] },
      ];
      const query = renderObjectQuery(TEMPLATE, {
        series: "http_requests_total",
        requirements,
        namespace: { label: "namespace", value: namespace },
        resourceLabel: "pod",
        names,
      });
      const shape = /^sum\(rate\(http_requests_total\{(.*)\}\[5m\]\)\) by \(pod\)$/s.exec(query);
      expect(shape).not.toBeNull();
      const matchers = lexMatchers(shape![1]!);
      expect(matchers.map((m) => `${m.label}${m.op}`)).toEqual([
        "verb=",
        "zone!~",
        "namespace=",
        names.length === 1 ? "pod=" : "pod=~",
      ]);
      expect(matchers[0]!.value).toEqual(wtf8(requirements[0]!.values[0]!));
      expect(matchers[1]!.value).toEqual(wtf8(requirements[1]!.values.join("|")));
      expect(matchers[2]!.value).toEqual(wtf8(namespace));
      expect(matchers[3]!.value).toEqual(wtf8(names.join("|")));
    }
  });

  test("2000 random external selector values and namespaces", () => {
    const random = createRandom(7);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(random);
      const namespace = randomValue(random);
      const query = renderExternalQuery(EXTERNAL, {
        series: "queue_depth",
        requirements: [{ key: "queue", operator: "in", values: [value] }],
        namespace: { label: "namespace", value: namespace },
      });
      const shape = /^max\(queue_depth\{(.*)\}\)$/s.exec(query);
      expect(shape).not.toBeNull();
      const matchers = lexMatchers(shape![1]!);
      expect(matchers.map((m) => [m.label, m.op])).toEqual([
        ["queue", "=~"],
        ["namespace", "="],
      ]);
      expect(matchers[0]!.value).toEqual(wtf8(value));
      expect(matchers[1]!.value).toEqual(wtf8(namespace));
    }
  });

  test("the lexer itself rejects an injected matcher, so the property above can fail", () => {
    expect(() => lexMatchers('namespace="a"} or vector(1) #"')).toThrow();
    expect(lexMatchers('namespace="a\\"} or vector(1) #"').map((m) => m.label)).toEqual(["namespace"]);
  });
});
