import { describe, expect, test } from "bun:test";
import {
  compileTemplate,
  TemplateCompileError,
  TemplateExecutionError,
  type TemplateData,
  type TemplateSchema,
} from "./template.ts";
import { vectorFileCases } from "../../../test/support/vectors.ts";

const QUERY_SCHEMA: TemplateSchema = {
  Series: "string",
  LabelMatchers: "string",
  LabelValuesByName: "map",
  GroupBy: "string",
  GroupBySlice: "list",
};
const RESOURCE_SCHEMA: TemplateSchema = { Group: "string", Resource: "string" };

const DATA: TemplateData = {
  Series: "http_requests_total",
  LabelMatchers: 'namespace="ns",pod=~"a|b"',
  LabelValuesByName: { namespace: "ns", pod: "a|b" },
  GroupBy: "pod,container",
  GroupBySlice: ["pod", "container"],
};

function render(source: string, data: TemplateData = DATA): string {
  return compileTemplate(source, QUERY_SCHEMA).execute(data);
}

function compileError(source: string, schema: TemplateSchema = QUERY_SCHEMA): TemplateCompileError {
  try {
    compileTemplate(source, schema);
  } catch (error) {
    if (error instanceof TemplateCompileError) return error;
    throw error;
  }
  throw new Error(`expected a compile error for ${JSON.stringify(source)}`);
}

function executionError(source: string, data: TemplateData = DATA): TemplateExecutionError {
  const template = compileTemplate(source, QUERY_SCHEMA);
  try {
    template.execute(data);
  } catch (error) {
    if (error instanceof TemplateExecutionError) return error;
    throw error;
  }
  throw new Error(`expected an execution error for ${JSON.stringify(source)}`);
}

interface TemplateVector {
  readonly name: string;
  readonly input: { readonly kind: string; readonly template: string; readonly data: TemplateData };
  readonly expected: string | { readonly error: string };
}

const vectors = vectorFileCases<TemplateVector>("query-building.json").filter(
  (vector) => vector.input.kind === "template",
);

describe("vectors: query-building.json, kind template", () => {
  test("the vector file has template cases", () => {
    expect(vectors.length).toBeGreaterThan(10);
  });

  test.each(vectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    const { template, data } = vector.input;
    if (typeof vector.expected === "string") {
      expect(compileTemplate(template, QUERY_SCHEMA).execute(data)).toBe(vector.expected);
      return;
    }
    // The error wording is free but must name the field ("unknown field Serie" names Serie).
    const named = vector.expected.error.split(" ").at(-1) ?? "";
    expect(compileError(template).detail).toContain(named);
  });
});

// Every expected output below was checked against Go's text/template (Delims "<<", ">>") on DATA.
type RenderCase = readonly [name: string, template: string, expected: string];

describe("rendering", () => {
  const cases: RenderCase[] = [
    ["text is copied verbatim", "a\n\tb  c\r\n", "a\n\tb  c\r\n"],
    ["a single < or > in text is text", "a < b > c", "a < b > c"],
    ["text right after an action may start with >", "x <<.Series>>> y", "x http_requests_total> y"],
    ["spaces inside the delimiters are allowed", "a < b << .Series >>", "a < b http_requests_total"],
    [
      "fields print their values",
      "<<.Series>>|<<.GroupBy>>|<<.LabelMatchers>>",
      'http_requests_total|pod,container|namespace="ns",pod=~"a|b"',
    ],
    ["a present map key read as a field prints its value", "<<.LabelValuesByName.pod>>", "a|b"],
    ["a missing map key read as a field prints <no value>", "<<.LabelValuesByName.node>>", "<no value>"],
    ["a field of a missing map key is still <no value>", "<<.LabelValuesByName.node.x>>", "<no value>"],
    ["string slices print space-separated in brackets", "<<.GroupBySlice>>", "[pod container]"],
    ["maps print with sorted keys", "<<.LabelValuesByName>>", "map[namespace:ns pod:a|b]"],
    [
      "dot at the top prints the data as a Go struct",
      "<<.>>",
      '{http_requests_total namespace="ns",pod=~"a|b" map[namespace:ns pod:a|b] pod,container [pod container]}',
    ],
    [
      "actions inside text keep the text around them",
      "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
      'sum(http_requests_total{namespace="ns",pod=~"a|b"}) by (pod,container)',
    ],
    ["newlines may separate the words of an action", '<<.Series\n| printf\t"%s"\r\n>>', "http_requests_total"],
    [
      "string literals understand Go escapes",
      '<<"\\101\\x42\\u0043">> <<"\\xc3\\xa9">> <<"tab\\there">>',
      "ABC é tab\there",
    ],
    ["raw string literals keep backslashes", "<<`a\\nb`>>", "a\\nb"],
    ["character constants are integers", "<<'\\''>> <<'\\x41'>> <<'é'>>", "39 65 233"],
    [
      "integer literals in every Go base",
      "<<0x1F>> <<0o17>> <<017>> <<0b101>> <<1_000>> <<-0x10>> <<+5>> <<-0>>",
      "31 15 15 5 1000 -16 5 0",
    ],
    ["<<-3>> is the number -3, not a trim marker", "a <<-3>> b", "a -3 b"],
    ["booleans print as true and false", "<<true>> <<false>>", "true false"],
    [
      "parenthesised sub-expressions",
      '<<(index .GroupBySlice 0)>> <<(.LabelValuesByName).pod>> <<(print "a") | printf "%s!">>',
      "pod a|b a!",
    ],
    [
      "a pipeline passes its value as the last argument",
      '<<.Series | printf "%s_rate">> <<.Series | len>>',
      "http_requests_total_rate 19",
    ],
  ];
  test.each(cases)("%s", (_name, template, expected) => {
    expect(render(template)).toBe(expected);
  });

  test("raw string literals drop carriage returns, as Go does", () => {
    expect(render("<<`a\r\nb`>>")).toBe("a\nb");
  });

  test("empty slices and maps print as [] and map[]", () => {
    expect(
      render("<<.GroupBySlice>> <<.LabelValuesByName>>", { ...DATA, GroupBySlice: [], LabelValuesByName: {} }),
    ).toBe("[] map[]");
  });

  test("map keys print in byte order", () => {
    const LabelValuesByName = { b: "2", é: "3", B: "1", a: "0" };
    expect(render("<<.LabelValuesByName>>", { ...DATA, LabelValuesByName })).toBe("map[B:1 a:0 b:2 é:3]");
  });

  test("a map key named like an Object property is not found unless present", () => {
    expect(render('<<.LabelValuesByName.constructor>>|<<index .LabelValuesByName "toString">>|')).toBe("<no value>||");
  });
});

describe("trim markers", () => {
  const cases: RenderCase[] = [
    ["<<- trims spaces, tabs, CR and LF before the action", "a \t\r\n <<- .Series>>", "ahttp_requests_total"],
    ["->> trims spaces, tabs, CR and LF after the action", "<<.Series ->> \t\r\n b", "http_requests_totalb"],
    ["both markers together", "sum(\n  <<- .Series ->>\n)", "sum(http_requests_total)"],
    ["a tab or newline may follow or precede the dash", "a <<-\t.Series\n->> b", "ahttp_requests_totalb"],
    ["nothing to trim is fine", "a<<- .Series ->>b", "ahttp_requests_totalb"],
    ["trimming stops at the previous action", "<<.GroupBy>> <<- .Series>>", "pod,containerhttp_requests_total"],
    ["a dash not followed by a space is a negative number", "<<print 3 -3>>", "3 -3"],
    ["markers on control actions", "<<if .Series ->>\n  yes\n<<- end>>", "yes"],
    ["markers on else", "<<if .LabelValuesByName.node>>x<<- else ->>\n  no\n<<- end>>", "no"],
  ];
  test.each(cases)("%s", (_name, template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe("comments", () => {
  const cases: RenderCase[] = [
    ["a comment prints nothing", "a<</* note */>>b", "ab"],
    ["a comment may span lines and contain >>", "a<</* x >> \n y */>>b", "ab"],
    ["trim markers work on comments", "a \n <<- /* c */ ->> \n b", "ab"],
    ["a comment with only a right trim marker", "a <</* c */ ->>  b", "a b"],
  ];
  test.each(cases)("%s", (_name, template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

describe("control structures", () => {
  const chain = '<<if eq .Series "a">>A<<else if eq .Series "b">>B<<else>>other<<end>>';
  test.each([
    ["a", "A"],
    ["b", "B"],
    ["c", "other"],
  ])("if / else if / else picks the branch for Series=%s", (series, expected) => {
    expect(render(chain, { ...DATA, Series: series })).toBe(expected);
  });

  const cases: RenderCase[] = [
    ["if without else on a false condition prints nothing", "[<<if .LabelValuesByName.node>>x<<end>>]", "[]"],
    [
      "empty string, zero, false, nil and empty slices are false",
      '<<if "">>1<<end>><<if 0>>2<<end>><<if false>>3<<end>><<if and nil>>4<<end>><<if .LabelValuesByName.x>>5<<end>>|',
      "|",
    ],
    [
      "non-empty values and the data itself are true",
      '<<if "x">>1<<end>><<if 7>>2<<end>><<if .GroupBySlice>>3<<end>><<if .>>4<<end>>',
      "1234",
    ],
    ["range sets dot to each element", "<<range .GroupBySlice>>[<<.>>]<<else>>none<<end>>", "[pod][container]"],
    ["range over a map visits values in key order", "<<range .LabelValuesByName>><<.>>;<<end>>", "ns;a|b;"],
    [
      "range over a missing key runs else with the outer dot",
      "<<range .LabelValuesByName.node>>x<<else>><<.Series>><<end>>",
      "http_requests_total",
    ],
    ["range nests with if", '<<range .GroupBySlice>><<if eq . "pod">>P<<else>><<.>><<end>>,<<end>>', "P,container,"],
    ["with sets dot to its value", "<<with .LabelValuesByName>><<.pod>><<end>>", "a|b"],
    ["with on a false value runs else", "<<with .LabelValuesByName.node>>node=<<.>><<else>>none<<end>>", "none"],
  ];
  test.each(cases)("%s", (_name, template, expected) => {
    expect(render(template)).toBe(expected);
  });

  test("range over an empty slice runs else", () => {
    expect(render("<<range .GroupBySlice>>x<<else>>none<<end>>", { ...DATA, GroupBySlice: [] })).toBe("none");
  });

  test("with on an empty string runs else", () => {
    expect(render("<<with .LabelMatchers>>{<<.>>}<<else>>{}<<end>>", { ...DATA, LabelMatchers: "" })).toBe("{}");
  });

  // Go 1.22 added range over an integer and Go 1.23 `else with`; both are part of Go text/template today.
  test("range over an integer counts from zero", () => {
    expect(render("<<range 3>><<.>><<end>>|<<range 0>>x<<else>>none<<end>>")).toBe("012|none");
  });

  test("else with chains like else if", () => {
    expect(
      render("<<with .LabelValuesByName.node>>node=<<.>><<else with .LabelValuesByName.pod>>pod=<<.>><<end>>"),
    ).toBe("pod=a|b");
  });
});

describe("functions", () => {
  const cases: RenderCase[] = [
    [
      "printf with %s %v %d %q %%",
      '<<printf "%s|%v|%d|%q|%%" .Series .GroupBySlice 42 .Series>>',
      'http_requests_total|[pod container]|42|"http_requests_total"|%',
    ],
    [
      "printf %q on a slice and a map",
      '<<printf "%q %q" .GroupBySlice .LabelValuesByName>>',
      '["pod" "container"] map["namespace":"ns" "pod":"a|b"]',
    ],
    [
      "printf %q escapes as Go's strconv.Quote",
      '<<printf "%q" "a\\"b\\\\c\\n\\t\\u0001é\\u00ad\\x7f">>',
      '"a\\"b\\\\c\\n\\t\\x01é\\u00ad\\x7f"',
    ],
    ["printf %q on an integer quotes a character", "<<printf \"%q %q\" 'x' 10>>", "'x' '\\n'"],
    [
      "printf reports a verb that does not fit the value",
      '<<printf "%d %s %s" .Series 1 true>>',
      "%!d(string=http_requests_total) %!s(int=1) %!s(bool=true)",
    ],
    [
      "printf reports missing and extra operands",
      '<<printf "%s %s" "a">> <<printf "%s" "a" 1 nil>>',
      "a %!s(MISSING) a%!(EXTRA int=1, <nil>)",
    ],
    ["printf prints nil as <nil>", '<<printf "%v %s" nil nil>>', "<nil> %!s(<nil>)"],
    ["print separates operands that are not strings", '<<print 1 2 "a" 3 nil>>', "1 2a3 <nil>"],
    [
      "print formats slices and maps",
      "<<print .GroupBySlice .LabelValuesByName>>",
      "[pod container] map[namespace:ns pod:a|b]",
    ],
    ["len counts elements and UTF-8 bytes", '<<len .GroupBySlice>> <<len .LabelValuesByName>> <<len "é">>', "2 2 2"],
    [
      "index on a map, a missing key and a slice",
      '<<index .LabelValuesByName "pod">>|<<index .LabelValuesByName "node">>|<<index .GroupBySlice 1>>',
      "a|b||container",
    ],
    ["index without keys is the item itself", "<<index .GroupBySlice>>", "[pod container]"],
    ["index on a string gives a byte", '<<index "abc" 1>>', "98"],
    ["eq compares with each further argument", '<<eq 1 2 3 1>> <<eq "a" "b">> <<ne 1 2>>', "true false true"],
    [
      "ordered comparisons of strings and integers",
      '<<lt "a" "b">> <<le 2 2>> <<gt "b" "a">> <<ge 1 2>>',
      "true true true false",
    ],
    ["strings compare by UTF-8 bytes", '<<lt "é" "z">> <<lt "\\uffff" "\\U0001F600">>', "false true"],
    [
      "eq treats a missing key as nil",
      '<<eq .LabelValuesByName.node nil>> <<eq .LabelValuesByName.node "">>',
      "true false",
    ],
    ["and returns the first false operand or the last", "<<and 1 2>> <<and 0 2>> <<0 | and 1>>", "2 0 0"],
    ["or returns the first true operand or the last", '<<or 0 "">>|<<or 0 "x" 3>>|<<1 | or 0>>', "|x|1"],
    ["not negates truth", "<<not 0>> <<not .GroupBySlice>>", "true false"],
    [
      "and and or stop evaluating once decided",
      "<<and 0 (index .GroupBySlice 5)>> <<or 1 (index .GroupBySlice 5)>>",
      "0 1",
    ],
  ];
  test.each(cases)("%s", (_name, template, expected) => {
    expect(render(template)).toBe(expected);
  });
});

type ErrorCase = readonly [name: string, template: string, message: string];

describe("compile errors", () => {
  const cases: ErrorCase[] = [
    [
      "unknown field",
      "<<.Serie>>",
      "unknown field .Serie (fields: Series LabelMatchers LabelValuesByName GroupBy GroupBySlice)",
    ],
    ["field of a string field", "<<.Series.x>>", "can't evaluate field x in type string"],
    ["field of a range element", "<<range .GroupBySlice>><<.x>><<end>>", "can't evaluate field x in type string"],
    ["field of a with value", "<<with .Series>><<.x>><<end>>", "can't evaluate field x in type string"],
    ["field of a literal", '<<"a".x>>', "unexpected . after term"],
    ["define", '<<define "x">>y<<end>>', "<<define>> is not supported"],
    ["template", '<<template "x">>', "<<template>> is not supported"],
    ["block", '<<block "x" .>>y<<end>>', "<<block>> is not supported"],
    ["break outside range", "<<if 1>><<break>><<end>>", "<<break>> outside <<range>>"],
    ["continue outside range", "<<continue>>", "<<continue>> outside <<range>>"],
    ["break with an argument", "<<range .GroupBySlice>><<break 1>><<end>>", "unexpected"],
    ["undefined variable", "<<$x>>", 'undefined variable "$x"'],
    ["assignment to an undefined variable", "<<$x = 1>>", 'undefined variable "$x"'],
    ["field of a string variable", "<<$x := .Series>><<$x.y>>", "can't evaluate field y in type string"],
    ["unknown field through $", "<<range .GroupBySlice>><<$.Serie>><<end>>", "unknown field .Serie"],
    ["arguments to a variable", "<<$ 1>>", "can't give argument to non-function $"],
    ["assignment without a variable", "<<.Series = 1>>", 'unexpected "=" in operand'],
    ["declaration after a command", "<<.Series $ := 1>>", 'unexpected ":=" in operand'],
    ["three range variables", "<<range $a, $b, $c := .GroupBySlice>><<end>>", "too many declarations in range"],
    ["unknown function", "<<foo .Series>>", 'function "foo" not defined'],
    ["call has nothing to call in rules data", "<<call .Series>>", 'function "call" is not supported'],
    ["slice of a map", "<<slice .LabelValuesByName 1>>", "can't slice item of type map[string]string"],
    ["too few arguments", "<<len>>", "wrong number of args for len: want 1 got 0"],
    ["too many arguments", "<<lt 1 2 3>>", "wrong number of args for lt: want 2 got 3"],
    ["a piped value counts as an argument", "<<.Series | len 1>>", "wrong number of args for len: want 1 got 2"],
    ["printf without a format", "<<printf>>", "wrong number of args for printf: want at least 1 got 0"],
    ["eq with one operand", "<<eq 1>>", "missing argument for comparison"],
    ["unclosed action", "a <<.Series", "unclosed action"],
    ["end without a block", "<<end>>", "unexpected <<end>>"],
    ["else without a block", "<<else>>", "unexpected <<else>>"],
    ["block without end", "<<if .Series>>x", "unexpected EOF"],
    ["two else branches", "<<if 1>>a<<else>>b<<else>>c<<end>>", "expected end; found <<else>>"],
    ["else if inside range", "<<range .GroupBySlice>><<else if 1>><<end>>", "unexpected <if> in input"],
    ["end with arguments", "<<if 1>><<end 1>>", "unexpected"],
    ["empty action", "<<>>", "missing value for command"],
    ["if without a condition", "<<if>><<end>>", "missing value for if"],
    ["unclosed comment", "<</* x", "unclosed comment"],
    ["text after a comment", "<</* x */ y>>", "comment ends before closing delimiter"],
    ["comment not touching the delimiter", "<< /* x */ >>", 'unexpected "/" in command'],
    ["unclosed parenthesis", "<<(.Series>>", "unclosed left paren"],
    ["extra parenthesis", "<<.Series)>>", "unexpected right paren"],
    ["unterminated string", '<<"abc>>', "unterminated quoted string"],
    ["unterminated raw string", "<<`abc>>", "unterminated raw quoted string"],
    ["bad escape in a string", '<<"\\q">>', "invalid string literal"],
    ["malformed character constant", "<<'ab'>>", "malformed character constant"],
    ["bad number", "<<3abc>>", 'bad number syntax: "3a"'],
    ["floating-point constant", "<<1.5>>", "floating-point constants are not supported: 1.5"],
    ["complex constant", "<<1+2i>>", "complex constants are not supported: 1+2i"],
    ["integer beyond 2^53", "<<99999999999999999999>>", "integer constant out of range"],
    ["stray punctuation", "<<#>>", 'unexpected "#" in command'],
    ["control character in an action", "<<\u0001>>", "unrecognized character in action: U+0001"],
    ["arguments to a field", "<<.Series 1>>", "can't give argument to field .Series"],
    ["a field as a later pipeline stage", "<<.Series | .GroupBy>>", "can't give argument to field .GroupBy"],
    ["arguments to a literal", '<<"a" 1>>', 'can\'t give argument to non-function "a"'],
    ["nil as a command", "<<nil>>", "nil is not a command"],
    ["literal as a later pipeline stage", '<<"a" | "b">>', "non executable command in pipeline stage 2"],
    ["len of an integer", "<<len 3>>", "len of type int"],
    ["index of a string by a string", '<<index .Series "a">>', "cannot index slice/array with type string"],
    ["index of a map by an integer", "<<index .LabelValuesByName 1>>", "value has type int; should be string"],
    ["index of an integer", "<<index 1 1>>", "can't index item of type int"],
    ["comparison of different kinds", "<<eq .Series 1>>", "incompatible types for comparison: string and int"],
    ["ordering of booleans", "<<lt true false>>", "invalid type for comparison"],
    ["comparison of slices", "<<eq .GroupBySlice .GroupBySlice>>", "non-comparable type []string"],
    ["range over a string", "<<range .Series>><<end>>", "range can't iterate over string"],
    ["printf with a non-string format", "<<printf 1>>", "printf format must be a string, not int"],
    ["printf argument index", '<<printf "%[1]s" .Series>>', "printf argument indexes and widths from arguments"],
    ["printf width from an argument", '<<printf "%*d" 3 1>>', "printf argument indexes and widths from arguments"],
  ];
  test.each(cases)("%s", (_name, template, message) => {
    expect(compileError(template).detail).toContain(message);
  });

  test("the error says where the problem is (UTF-16 offset)", () => {
    const error = compileError("abc <<.Serie>>");
    expect(error.offset).toBe(6);
    expect(error.name).toBe("TemplateCompileError");
    expect(error.message).toBe(
      "template: offset 6: unknown field .Serie (fields: Series LabelMatchers LabelValuesByName GroupBy GroupBySlice)",
    );
  });

  test("expressions that can only fail are errors even in a branch that may never run", () => {
    expect(compileError("<<if false>><<.Series.x>><<end>>").detail).toContain("can't evaluate field x in type string");
  });

  test("nesting deeper than 500 levels is an error, not a stack overflow", () => {
    expect(compileError("<<if 1>>".repeat(501)).detail).toBe("template nesting too deep");
    expect(render("<<if 1>>".repeat(400) + "deep" + "<<end>>".repeat(400))).toBe("deep");
  });

  test("the field list in the message follows the schema", () => {
    expect(compileError("<<.Resources>>", RESOURCE_SCHEMA).detail).toBe(
      "unknown field .Resources (fields: Group Resource)",
    );
  });
});

describe("execution errors", () => {
  const cases: ErrorCase[] = [
    ["index past the end of a slice", "<<index .GroupBySlice 5>>", "error calling index: index out of range: 5"],
    ["field of a map value", "<<.LabelValuesByName.pod.x>>", "can't evaluate field x in type string"],
    ["index of a missing key", '<<index .LabelValuesByName.node "k">>', "error calling index: index of untyped nil"],
    ["len of a missing key", "<<len .LabelValuesByName.node>>", "error calling len: len of untyped nil"],
    [
      "comparison of a map value with an integer",
      "<<eq .LabelValuesByName.pod 1>>",
      "error calling eq: incompatible types for comparison: string and int",
    ],
    ["range over a map value", "<<range .LabelValuesByName.pod>>x<<end>>", "range can't iterate over a|b"],
    [
      "range over a huge integer",
      "<<range 100000>>x<<end>>",
      "range over 100000: counts above 10000 are not supported",
    ],
  ];
  test.each(cases)("%s", (_name, template, message) => {
    expect(executionError(template).detail).toBe(message);
  });

  test("a printf format read from the data is checked when it runs", () => {
    const data = { ...DATA, LabelValuesByName: { format: "%[1]d" } };
    expect(executionError("<<printf .LabelValuesByName.format 1>>", data).detail).toContain("printf argument indexes");
    expect(render("<<printf .LabelValuesByName.format 10>>", { ...DATA, LabelValuesByName: { format: "%x" } })).toBe(
      "a",
    );
  });

  test("a field missing from the data is an execution error", () => {
    const { Series: _omitted, ...withoutSeries } = DATA;
    expect(executionError("<<.Series>>", withoutSeries).detail).toBe("no value for field .Series in the template data");
  });

  test("the error says which command failed (UTF-16 offset)", () => {
    const error = executionError("ab <<if 1>><<index .GroupBySlice 5>><<end>>");
    expect(error.offset).toBe(13);
    expect(error.name).toBe("TemplateExecutionError");
    expect(error.message).toBe("template: offset 13: error calling index: index out of range: 5");
  });
});

describe("compiled templates", () => {
  test("fieldsUsed names the fields the template reads", () => {
    const template = compileTemplate('<<.Series>> <<index .LabelValuesByName "pod">>', QUERY_SCHEMA);
    expect([...template.fieldsUsed].sort()).toEqual(["LabelValuesByName", "Series"]);
    expect(template.source).toBe('<<.Series>> <<index .LabelValuesByName "pod">>');
  });

  test.each([
    ["kube_<<.Group>>_<<.Resource>>", true],
    ["<<.Group>>", false],
    ["<<if false>><<.Resource>><<end>>", true],
    ["<<.>>", true],
    ["plain", false],
  ])("fieldsUsed of the resource template %p includes Resource: %p", (source, includesResource) => {
    expect(compileTemplate(source, RESOURCE_SCHEMA).fieldsUsed.has("Resource")).toBe(includesResource);
  });

  test("one compiled template renders many data values", () => {
    const template = compileTemplate("kube_<<.Group>>_<<.Resource>>", RESOURCE_SCHEMA);
    expect(template.execute({ Group: "apps", Resource: "deployment" })).toBe("kube_apps_deployment");
    expect(template.execute({ Group: "(?P<group>.+?)", Resource: "(?P<resource>.+?)" })).toBe(
      "kube_(?P<group>.+?)_(?P<resource>.+?)",
    );
  });
});

/** Deterministic PRNG (mulberry32) for the fuzz test. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random templates: well-formed ones built from the grammar, mutated ones, and soups of fragments. */
function templateGenerator(random: () => number): () => string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const operands = [
    ".Series",
    ".GroupBySlice",
    ".LabelValuesByName",
    ".LabelValuesByName.pod",
    ".LabelValuesByName.node",
    ".GroupBy",
    ".",
    '"a"',
    '""',
    '"%s-%d"',
    '"%q|%v"',
    "`r\\aw`",
    "0",
    "1",
    "-2",
    "'x'",
    "true",
    "false",
    "nil",
    ".Serie",
    ".Series.x",
    "0x10",
    "$",
    "$.GroupBySlice",
    "$.LabelValuesByName.pod",
    "$v",
  ];
  const functions = [
    "printf",
    "print",
    "len",
    "index",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "and",
    "or",
    "not",
    "slice",
    "html",
    "js",
    "urlquery",
    "println",
  ];
  const operand = (depth: number): string => {
    const r = random();
    if (depth < 2 && r < 0.15) return `(${pipeline(depth + 1)})`;
    if (depth < 2 && r < 0.2) return `(${pipeline(depth + 1)}).pod`;
    return pick(operands);
  };
  const command = (depth: number): string => {
    if (random() < 0.4) return operand(depth);
    const count = Math.floor(random() * 4);
    return [pick(functions), ...Array.from({ length: count }, () => operand(depth))].join(" ");
  };
  const pipeline = (depth: number): string => {
    let out = command(depth);
    while (random() < 0.2) out += ` | ${pick(functions)}${random() < 0.5 ? ` ${operand(depth)}` : ""}`;
    return out;
  };
  const open = () => pick(["<<", "<<", "<<- ", "<<-\t"]);
  const close = () => pick([">>", ">>", " ->>", "\n->>"]);
  const text = () => pick(["", " ", "x", "\n  ", "a < b", "{", "}", " \t\r\n ", "-", ">"]);
  const list = (depth: number): string => {
    let out = "";
    for (let i = 0, count = 1 + Math.floor(random() * 3); i < count; i++) {
      out += text();
      const r = random();
      if (depth < 3 && r < 0.25) {
        const keyword = pick(["if", "with", "range"]);
        const declaration = keyword === "range" ? pick(["", "$v := ", "$k, $v := "]) : pick(["", "", "$v := "]);
        const loopControl =
          keyword === "range" && random() < 0.2 ? `${open()}${pick(["break", "continue"])}${close()}` : "";
        out += `${open()}${keyword} ${declaration}${pipeline(0)}${close()}${loopControl}${list(depth + 1)}`;
        if (random() < 0.3) out += `${open()}else${close()}${list(depth + 1)}`;
        else if (keyword !== "range" && random() < 0.2)
          out += `${open()}else ${keyword} ${pipeline(0)}${close()}${list(depth + 1)}`;
        out += `${open()}end${close()}`;
      } else if (r < 0.3) out += `${open()}/* c */${close()}`;
      else out += `${open()}${pipeline(0)}${close()}`;
    }
    return out + text();
  };
  const fragments = [
    "<<",
    ">>",
    "<",
    ">",
    "-",
    " ",
    ".",
    "Series",
    "|",
    '"',
    "'",
    "`",
    "(",
    ")",
    "$",
    ":=",
    "=",
    "/*",
    "*/",
    "if",
    "end",
    "else",
    "range",
    "with",
    "printf",
    "1",
    "x",
    "\\",
    "\n",
    "é",
    "define",
    "nil",
    ",",
    "\u0000",
    "😀",
  ];
  const soup = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => pick(fragments)).join("");
  const mutate = (source: string) => {
    const at = Math.floor(random() * (source.length + 1));
    return random() < 0.5
      ? source.slice(0, at) + source.slice(at + 1)
      : source.slice(0, at) + pick(fragments) + source.slice(at);
  };
  return () => {
    const r = random();
    if (r < 0.6) return list(0);
    return r < 0.8 ? mutate(list(0)) : soup();
  };
}

describe("fuzz", () => {
  test("random templates compile or fail with TemplateCompileError, and execute or fail with TemplateExecutionError", () => {
    const nextTemplate = templateGenerator(mulberry32(20240601));
    const outcomes = { compileError: 0, executionError: 0, rendered: 0 };
    for (let i = 0; i < 3000; i++) {
      const source = nextTemplate();
      let template: ReturnType<typeof compileTemplate>;
      try {
        template = compileTemplate(source, QUERY_SCHEMA);
      } catch (error) {
        if (!(error instanceof TemplateCompileError))
          throw new Error(`compiling ${JSON.stringify(source)} threw ${String(error)}`);
        expect(error.offset).toBeGreaterThanOrEqual(0);
        expect(error.offset).toBeLessThanOrEqual(source.length);
        outcomes.compileError++;
        continue;
      }
      try {
        const output = template.execute(DATA);
        expect(typeof output).toBe("string");
        expect(template.execute(DATA)).toBe(output);
        outcomes.rendered++;
      } catch (error) {
        if (!(error instanceof TemplateExecutionError))
          throw new Error(`executing ${JSON.stringify(source)} threw ${String(error)}`);
        outcomes.executionError++;
      }
    }
    // The generator must exercise all three outcomes, or the test proves little.
    expect(outcomes.rendered).toBeGreaterThan(300);
    expect(outcomes.compileError).toBeGreaterThan(300);
    expect(outcomes.executionError).toBeGreaterThan(5);
  });
});
