import { describe, expect, test } from "bun:test";
import { compileTemplate, TemplateCompileError, TemplateExecutionError, type TemplateData } from "./template.ts";
import { QUERY_TEMPLATE_FIELDS } from "../../naming/query-builder.ts";
import table from "./vectors.json";

interface TemplateVectorCase {
  readonly name: string;
  readonly template: string;
  /** The output Go's text/template gives. */
  readonly expected?: string;
  /** Part of the message of the error when compiling. */
  readonly error?: string;
  /** Part of the message of the error when executing. */
  readonly runtimeError?: string;
}

const data = table.data as TemplateData;
const cases = table.cases as readonly TemplateVectorCase[];

describe("template vectors (template.vectors.json): Go text/template on upstream's metricsQuery data", () => {
  test("the table covers every construct", () => {
    const all = cases.map((vector) => vector.template).join("\n");
    const constructs = ["$k, $v :=", "$n =", "$.", "<<break>>", "<<continue>>", "else if", "else with", "<<with $"];
    constructs.push("<<-", "->>", "/*");
    const functions = ["and", "or", "not", "len", "index", "slice", "print", "printf", "println"];
    functions.push("html", "js", "urlquery");
    const comparisons = ["eq", "ne", "lt", "le", "gt", "ge"];
    for (const construct of constructs) expect(all).toContain(construct);
    for (const name of [...functions, ...comparisons]) expect(all).toMatch(new RegExp(`[<(]${name} `));
  });

  test.each(cases.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    if (vector.error !== undefined) {
      expect(() => compileTemplate(vector.template, QUERY_TEMPLATE_FIELDS)).toThrow(TemplateCompileError);
      expect(() => compileTemplate(vector.template, QUERY_TEMPLATE_FIELDS)).toThrow(vector.error);
      return;
    }
    const template = compileTemplate(vector.template, QUERY_TEMPLATE_FIELDS);
    if (vector.runtimeError !== undefined) {
      expect(() => template.execute(data)).toThrow(TemplateExecutionError);
      expect(() => template.execute(data)).toThrow(vector.runtimeError);
      return;
    }
    expect(template.execute(data)).toBe(vector.expected ?? "");
  });
});
