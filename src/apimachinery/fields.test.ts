import { describe, expect, test } from "bun:test";
import { fieldSelectorMatches, parseFieldSelector, type FieldRequirement } from "./fields.ts";

describe("parseFieldSelector", () => {
  test.each<[string, string, FieldRequirement[]]>([
    ["empty text", "", []],
    ["=", "metadata.name=web-0", [{ field: "metadata.name", equal: true, value: "web-0" }]],
    ["==", "metadata.name==web-0", [{ field: "metadata.name", equal: true, value: "web-0" }]],
    ["!=", "metadata.namespace!=kube-system", [{ field: "metadata.namespace", equal: false, value: "kube-system" }]],
    ["an empty value", "metadata.namespace=", [{ field: "metadata.namespace", equal: true, value: "" }]],
    [
      "escaped comma, equals and backslash",
      "metadata.name=a\\,b\\=c\\\\d",
      [{ field: "metadata.name", equal: true, value: "a,b=c\\d" }],
    ],
    [
      "several terms, sorted by their text",
      "metadata.namespace=x,metadata.name=y",
      [
        { field: "metadata.name", equal: true, value: "y" },
        { field: "metadata.namespace", equal: true, value: "x" },
      ],
    ],
    ["empty terms are skipped", ",metadata.name=a,", [{ field: "metadata.name", equal: true, value: "a" }]],
  ])("reads %s", (_, text, expected) => {
    expect(parseFieldSelector(text)).toEqual(expected);
  });

  test.each([
    ["a term without operator", "metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ["an unescaped = in the value", "metadata.name=a=b", "invalid field selector: unescaped character in value: 61"],
    ["an unknown escape", "metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"],
    ["a trailing backslash", "metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"],
    [
      "a field other than metadata.name/namespace",
      "spec.nodeName=n1",
      '"spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
    [
      "a syntax error after an unknown field (syntax is checked first)",
      "spec.nodeName=n1,zzz",
      "invalid selector: 'spec.nodeName=n1,zzz'; can't understand 'zzz'",
    ],
  ])("rejects %s", (_, text, message) => {
    expect(() => parseFieldSelector(text)).toThrow(message);
  });
});

describe("fieldSelectorMatches", () => {
  const pod = { name: "web-0", namespace: "default" };
  test.each([
    ["no terms", "", pod, true],
    ["a matching name", "metadata.name=web-0", pod, true],
    ["another name", "metadata.name=web-1", pod, false],
    ["!= on another namespace", "metadata.namespace!=kube-system", pod, true],
    ["all terms must hold", "metadata.name=web-0,metadata.namespace=other", pod, false],
    ["a node has an empty namespace", "metadata.namespace=", { name: "n1" }, true],
    ["a node never matches a namespace", "metadata.namespace=default", { name: "n1" }, false],
  ])("%s", (_, text, object, expected) => {
    expect(fieldSelectorMatches(parseFieldSelector(text), object)).toBe(expected);
  });
});
