import { describe, expect, test } from "bun:test";
import { QUERY_TEMPLATE_FIELDS, renderExternalQuery } from "./query-builder.ts";
import { compileTemplate } from "../golang/template/template.ts";

describe("renderExternalQuery", () => {
  test("the external rule's namespace matcher is Go-quoted, so a namespace cannot close the string", () => {
    const template = compileTemplate("q{<<.LabelMatchers>>}", QUERY_TEMPLATE_FIELDS);
    const namespace = { label: "namespace", value: 'a"} or vector(1) #\\' };
    const query = renderExternalQuery(template, { series: "q", requirements: [], namespace });
    expect(String(query)).toBe('q{namespace="a\\"} or vector(1) #\\\\"}');
  });
});
