import { describe, expect, test } from "bun:test";
import { parseLabelSelector, SelectorSyntaxError, type Requirement } from "./selector.ts";
import { requirementsToMatchers } from "../../naming/selector-matchers.ts";
import { selectorMatches, SelectorMatcherError, toLabelSelector } from "./conversions.ts";
import { vectorFileCases } from "../../../test/support/vectors.ts";

type SelectorVector =
  | {
      name: string;
      input: { kind: "matchers"; selector: string; requirements: Requirement[] };
      expected: { matchers: string[]; labelValuesByName: Record<string, string> } | { error: string };
    }
  | { name: string; input: { kind: "parse"; selector: string }; expected: Requirement[] | { error: true } }
  | { name: string; input: { kind: "toLabelSelector"; selector: string }; expected: unknown };

const vectors = vectorFileCases<SelectorVector>("selectors.json");

function syntaxErrorOf(text: string): SelectorSyntaxError {
  try {
    parseLabelSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("selectors.json vectors", () => {
  test.each(vectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    switch (vector.input.kind) {
      case "matchers": {
        const { selector, requirements } = vector.input;
        if (selector !== "(constructed)") expect(parseLabelSelector(selector)).toEqual(requirements);
        const expected = vector.expected as { matchers: string[] } | { error: string };
        if ("error" in expected) {
          expect(() => requirementsToMatchers(requirements)).toThrow(new SelectorMatcherError(expected.error));
          expect(() => requirementsToMatchers(requirements)).toThrow(SelectorMatcherError);
        } else {
          expect(requirementsToMatchers(requirements)).toEqual(expected as never);
        }
        break;
      }
      case "parse": {
        const expected = vector.expected as Requirement[] | { error: true };
        if ("error" in expected) {
          expect(() => parseLabelSelector(vector.input.selector)).toThrow(SelectorSyntaxError);
        } else {
          expect(parseLabelSelector(vector.input.selector)).toEqual(expected);
        }
        break;
      }
      case "toLabelSelector":
        expect(toLabelSelector(parseLabelSelector(vector.input.selector))).toEqual(vector.expected as never);
        // Omitted fields must be absent, not undefined, so JSON output matches too.
        expect(JSON.stringify(toLabelSelector(parseLabelSelector(vector.input.selector)))).toBe(
          JSON.stringify(vector.expected),
        );
        break;
    }
  });
});

describe("parseLabelSelector", () => {
  test.each([
    ["empty text", "", []],
    ["blank text", " \t\r\n ", []],
    [
      "in and notin are values inside a set",
      "x in (in,notin)",
      [{ key: "x", operator: "in", values: ["in", "notin"] }],
    ],
    ["in is a key when alone", "in", [{ key: "in", operator: "exists", values: [] }]],
    ["empty values between commas", "x in (,a,,b,)", [{ key: "x", operator: "in", values: ["", "a", "b"] }]],
    ["leading comma in a set", "x notin (,a)", [{ key: "x", operator: "notin", values: ["", "a"] }]],
    [
      "equals with nothing before a comma",
      "x=,y",
      [
        { key: "x", operator: "=", values: [""] },
        { key: "y", operator: "exists", values: [] },
      ],
    ],
    ["spaces around !", " ! x ", [{ key: "x", operator: "!", values: [] }]],
    [
      "sorted by key, stable for equal keys",
      "b,a=2,a=1",
      [
        { key: "a", operator: "=", values: ["2"] },
        { key: "a", operator: "=", values: ["1"] },
        { key: "b", operator: "exists", values: [] },
      ],
    ],
    ["63-character value", `a=${"v".repeat(63)}`, [{ key: "a", operator: "=", values: ["v".repeat(63)] }]],
    [
      "prefix of 253 characters",
      `${"a".repeat(253)}/n`,
      [{ key: `${"a".repeat(253)}/n`, operator: "exists", values: [] }],
    ],
    [
      "gt with a large integer",
      "x>9223372036854775807",
      [{ key: "x", operator: "gt", values: ["9223372036854775807"] }],
    ],
    [
      "a NUL where a token starts ends the selector, like apimachinery",
      "a=b \0garbage(",
      [{ key: "a", operator: "=", values: ["b"] }],
    ],
    [
      "a NUL right after a token only separates it, like apimachinery",
      "a\0,b",
      [
        { key: "a", operator: "exists", values: [] },
        { key: "b", operator: "exists", values: [] },
      ],
    ],
  ] as const)("accepts %s", (_name, text, expected) => {
    expect(parseLabelSelector(text)).toEqual(expected as unknown as Requirement[]);
  });

  test.each([
    ["missing comma", "a=b c=d", "found 'c', expected: ',' or 'end of string'", 4],
    ["trailing comma", "a=b,", "found '', expected: identifier after ','", 4],
    ["leading comma", ",a", "found ',', expected: !, identifier, or 'end of string'", 0],
    ["double operator", "x==a==b", "found '==', expected: ',' or 'end of string'", 4],
    ["!key with a value", "!x=a", "found '=', expected: ',' or 'end of string'", 2],
    [
      "unknown operator word",
      "x foo (a)",
      "unable to parse requirement: found 'foo', expected: in, notin, =, ==, !=, gt, lt",
      2,
    ],
    ["! without key", "!", "unable to parse requirement: found '', expected: identifier", 1],
    ["set without parenthesis", "x in a", "unable to parse requirement: found 'a' expected: '('", 5],
    ["unterminated set", "x in (a", "unable to parse requirement: found '', expected: ',' or ')'", 7],
    ["operator inside a set", "x in (a=b)", "unable to parse requirement: found '=', expected: ',' or ')'", 7],
    [
      "empty set",
      "x in ()",
      "unable to parse requirement: values: Invalid value: \"()\": for 'in', 'notin' operators, values set can't be empty",
      5,
    ],
  ] as const)("rejects %s", (_name, text, message, offset) => {
    const error = syntaxErrorOf(text);
    expect(error.message).toBe(message);
    expect(error.offset).toBe(offset);
    expect(error.name).toBe("SelectorSyntaxError");
  });

  test("names the bad value and the rule it breaks", () => {
    expect(syntaxErrorOf("app=b/c").message).toBe(
      'unable to parse requirement: values[0][app]: Invalid value: "b/c": a valid label must be an empty string or ' +
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
        "(e.g. 'MyValue',  or 'my_value',  or '12345', " +
        "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  });

  test("reports a value that is too long", () => {
    expect(syntaxErrorOf(`a=${"x".repeat(64)}`).message).toContain("must be no more than 63 characters");
  });

  test("names the bad key", () => {
    expect(syntaxErrorOf("a/b/c=d").message).toStartWith(
      'unable to parse requirement: key: Invalid value: "a/b/c": a qualified name must consist of',
    );
    expect(syntaxErrorOf("Example.com/x").message).toContain("prefix part a lowercase RFC 1123 subdomain");
    expect(syntaxErrorOf("/x").message).toContain("prefix part must be non-empty");
    expect(syntaxErrorOf("x/").message).toContain("name part must be non-empty");
    expect(syntaxErrorOf(`${"k".repeat(64)}`).message).toContain("name part must be no more than 63 characters");
    expect(syntaxErrorOf("-x").message).toContain("name part must consist of alphanumeric characters");
  });

  test("gt and lt need an integer value", () => {
    expect(syntaxErrorOf("x>b").message).toBe(
      'unable to parse requirement: values[0]: Invalid value: "b": ' +
        "for 'Gt', 'Lt' operators, the value must be an integer",
    );
    expect(() => parseLabelSelector("x<9223372036854775808")).toThrow("must be an integer");
    expect(() => parseLabelSelector("x<")).toThrow(SelectorSyntaxError);
  });

  test("aggregates several problems with one value like apimachinery", () => {
    const message = syntaxErrorOf("x>-a").message;
    expect(message).toMatch(/^unable to parse requirement: \[values\[0\]: .*, values\[0\]\[x\]: .*\]$/);
  });

  test("random text never throws anything but SelectorSyntaxError", () => {
    const pieces = [
      "a",
      "b",
      "x1",
      "app.kubernetes.io/name",
      "in",
      "notin",
      "=",
      "==",
      "!=",
      "!",
      "(",
      ")",
      ",",
      ">",
      "<",
      " ",
      "\t",
      "\n",
      "-",
      "_",
      ".",
      "/",
      "9",
      "\0",
      "é",
      "\u{1f600}",
      "\ud800",
      '"',
      "|",
      "*",
      "()",
      "(,)",
    ];
    let state = 42;
    const random = (limit: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % limit;
    };
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      let text = "";
      const count = random(10);
      for (let j = 0; j < count; j++) {
        text += random(4) === 0 ? String.fromCharCode(random(0x250)) : pieces[random(pieces.length)];
      }
      try {
        const requirements = parseLabelSelector(text);
        accepted += 1;
        const keys = requirements.map((requirement) => requirement.key);
        expect(keys).toEqual([...keys].sort());
      } catch (error) {
        if (!(error instanceof SelectorSyntaxError)) throw error;
        expect(error.offset).toBeGreaterThanOrEqual(0);
        expect(error.offset).toBeLessThanOrEqual(text.length);
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

describe("requirementsToMatchers", () => {
  test("checks the label before the operator", () => {
    expect(() => requirementsToMatchers([{ key: "", operator: "gt", values: ["1"] }])).toThrow("label not specified");
  });

  test.each([
    ["= with two values becomes a regex match", { key: "l", operator: "=", values: ["a", "b"] }, 'l=~"a|b"'],
    ["!= with two values becomes a negative regex match", { key: "l", operator: "!=", values: ["a", "b"] }, 'l!~"a|b"'],
    ["values are Go-quoted", { key: "l", operator: "=", values: ['a"b\n'] }, 'l="a\\"b\\n"'],
    ["does not exist", { key: "l", operator: "!", values: [] }, 'l=""'],
  ] as const)("%s", (_name, requirement, matcher) => {
    expect(requirementsToMatchers([requirement as Requirement]).matchers).toEqual([matcher]);
  });

  test.each([
    ["!=", "operator requires values"],
    ["in", "operator requires values"],
    ["notin", "operator requires values"],
    ["lt", "operator not supported by prometheus"],
  ] as const)("%s without values fails with %p", (operator, message) => {
    expect(() => requirementsToMatchers([{ key: "l", operator, values: [] }])).toThrow(message);
  });

  test("does not exist with a value fails", () => {
    expect(() => requirementsToMatchers([{ key: "l", operator: "!", values: ["x"] }])).toThrow(
      "operator does not support values",
    );
  });

  test("a __proto__ label is an own property of labelValuesByName", () => {
    const { labelValuesByName } = requirementsToMatchers([{ key: "__proto__", operator: "=", values: ["x"] }]);
    expect(Object.hasOwn(labelValuesByName, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(labelValuesByName)).toBe(Object.prototype);
  });
});

describe("toLabelSelector", () => {
  test("rejects gt and lt", () => {
    expect(() => toLabelSelector(parseLabelSelector("x>1"))).toThrow(
      new SelectorMatcherError("operator not supported by prometheus"),
    );
  });

  test("keeps the last value for a repeated equality key and sorts matchLabels keys", () => {
    const requirements: Requirement[] = [
      { key: "b", operator: "=", values: ["1"] },
      { key: "a", operator: "==", values: ["1"] },
      { key: "b", operator: "=", values: ["2"] },
    ];
    expect(JSON.stringify(toLabelSelector(requirements))).toBe('{"matchLabels":{"a":"1","b":"2"}}');
  });

  test("puts matchLabels before matchExpressions in JSON", () => {
    expect(JSON.stringify(toLabelSelector(parseLabelSelector("!b,a=1,c notin (y,x)")))).toBe(
      '{"matchLabels":{"a":"1"},"matchExpressions":[{"key":"b","operator":"DoesNotExist"},' +
        '{"key":"c","operator":"NotIn","values":["x","y"]}]}',
    );
  });

  test("rejects equality without exactly one value", () => {
    expect(() => toLabelSelector([{ key: "a", operator: "=", values: [] }])).toThrow(SelectorMatcherError);
  });
});

describe("selectorMatches", () => {
  const labels = { app: "web", tier: "frontend", replicas: "3", empty: "" };

  test.each([
    ["", true],
    ["app=web", true],
    ["app==api", false],
    ["app in (api,web)", true],
    ["missing in (x)", false],
    ["app!=api", true],
    ["missing!=x", true],
    ["app notin (web)", false],
    ["missing notin (x)", true],
    ["app", true],
    ["missing", false],
    ["empty", true],
    ["empty=", true],
    ["!missing", true],
    ["!app", false],
    ["replicas>2", true],
    ["replicas>3", false],
    ["replicas<4", true],
    ["missing<4", false],
    ["app>1", false],
    ["app=web,tier=backend", false],
    ["app=web,tier in (frontend)", true],
  ] as const)("%p matches: %p", (selector, expected) => {
    expect(selectorMatches(parseLabelSelector(selector), labels)).toBe(expected);
  });

  test("gt compares int64 values, not strings", () => {
    expect(selectorMatches(parseLabelSelector("n>9"), { n: "10" })).toBe(true);
    expect(selectorMatches(parseLabelSelector("n<0"), { n: "-5" })).toBe(true);
    expect(selectorMatches(parseLabelSelector("n>1"), { n: "99999999999999999999" })).toBe(false);
  });

  test("inherited properties are not labels", () => {
    expect(selectorMatches(parseLabelSelector("toString"), {})).toBe(false);
    expect(selectorMatches(parseLabelSelector("constructor notin (x)"), {})).toBe(true);
  });
});
