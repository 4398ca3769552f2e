/**
 * Kubernetes label selectors (`metricLabelSelector`, `labelSelector`): parsing with the semantics of apimachinery
 * `labels.Parse`, conversion to PromQL matchers (rules.md §7), the metav1.LabelSelector echo (api.md §4) and
 * Kubernetes matching.
 */
import { goQuote, labelMatcher, type MatchOperator } from "./promql-quote.ts";

/** Selector operators as apimachinery's `selection.Operator` spells them (`exists` is a bare key, `!` is `!key`). */
export type SelectorOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

/** One requirement of a selector. `values` is sorted and de-duplicated when it comes from the parser. */
export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** The selector text is not a valid Kubernetes label selector. */
export class SelectorSyntaxError extends Error {
  override name = "SelectorSyntaxError";
  /** Offset (UTF-16 code units) in the selector text of the token where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** The requirements cannot be expressed as PromQL matchers or as a metav1.LabelSelector. */
export class SelectorMatcherError extends Error {
  override name = "SelectorMatcherError";
}

// ---------------------------------------------------------------------------------------------------------------
// Validation (k8s.io/apimachinery/pkg/util/validation), with its messages.

const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MAX_LENGTH = 63;
const QUALIFIED_NAME_ERROR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MAX_LENGTH = 63;
const LABEL_VALUE_ERROR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', " +
  "and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const DNS1123_SUBDOMAIN_ERROR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
  "and must start and end with an alphanumeric character";

const utf8 = new TextEncoder();

/** Go's len(string): UTF-8 bytes. */
function byteLength(value: string): number {
  return utf8.encode(value).length;
}

function regexError(message: string, format: string, ...examples: string[]): string {
  // NB: apimachinery really writes "'MyName',  or 'my.name'" with two spaces.
  const listed = examples.map((example) => `'${example}', `).join(" or ");
  return `${message} (e.g. ${listed}regex used for validation is '${format}')`;
}

function maxLengthError(length: number): string {
  return `must be no more than ${length} characters`;
}

function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errors.push(maxLengthError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errors.push(regexError(DNS1123_SUBDOMAIN_ERROR, DNS1123_SUBDOMAIN_FMT, "example.com"));
  }
  return errors;
}

/** `validation.IsQualifiedName`: optional DNS-1123 subdomain prefix and `/`, then a name of at most 63 chars. */
function qualifiedNameErrors(value: string): string[] {
  const parts = value.split("/");
  const errors: string[] = [];
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? "";
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix.length === 0) errors.push("prefix part must be non-empty");
    else errors.push(...dns1123SubdomainErrors(prefix).map((error) => `prefix part ${error}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERROR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errors.push("name part must be non-empty");
  else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) {
    errors.push(`name part ${maxLengthError(QUALIFIED_NAME_MAX_LENGTH)}`);
  }
  if (!QUALIFIED_NAME.test(name)) {
    errors.push(`name part ${regexError(QUALIFIED_NAME_ERROR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`);
  }
  return errors;
}

/** `validation.IsValidLabelValue`: empty, or at most 63 chars of `[-A-Za-z0-9_.]` starting/ending alphanumeric. */
function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errors.push(maxLengthError(LABEL_VALUE_MAX_LENGTH));
  if (!LABEL_VALUE.test(value)) {
    errors.push(regexError(LABEL_VALUE_ERROR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  }
  return errors;
}

/** A field.Invalid error as apimachinery prints it: `path: Invalid value: "v": detail`. */
function invalidValue(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${goQuote(value)}: ${detail}`;
}

/** utilerrors aggregate formatting: one message alone, several as `[a, b]`. */
function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? "") : `[${unique.join(", ")}]`;
}

const GO_INT = /^[+-]?[0-9]+$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Go's `strconv.ParseInt(text, 10, 64)`; `undefined` when it would fail. */
function parseInt64(text: string): bigint | undefined {
  if (!GO_INT.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer (a port of apimachinery's byte lexer; it never fails, odd input becomes identifiers).

type TokenKind =
  | "end"
  | "closedPar"
  | "comma"
  | "doesNotExist"
  | "doubleEquals"
  | "equals"
  | "greaterThan"
  | "identifier"
  | "in"
  | "lessThan"
  | "notEquals"
  | "notIn"
  | "openPar";

interface Token {
  readonly kind: TokenKind;
  readonly literal: string;
  readonly offset: number;
}

const KEYWORDS: ReadonlyMap<string, TokenKind> = new Map([
  [")", "closedPar"],
  [",", "comma"],
  ["!", "doesNotExist"],
  ["==", "doubleEquals"],
  ["=", "equals"],
  [">", "greaterThan"],
  ["in", "in"],
  ["<", "lessThan"],
  ["!=", "notEquals"],
  ["notin", "notIn"],
  ["(", "openPar"],
]);

const END = "\0";

function isWhitespace(char: string): boolean {
  return char === " " || char === "\t" || char === "\r" || char === "\n";
}

function isSpecialSymbol(char: string): boolean {
  return "=!(),><".includes(char) && char.length === 1;
}

/**
 * Splits selector text into tokens up to the end of the string.
 * NB: like apimachinery (which reads a NUL byte as end of input), a NUL where a token starts ends the selector,
 * and a NUL right after a token separates it from the next one.
 */
function tokenize(text: string): Token[] {
  let pos = 0;
  let lastReadAt = 0;
  const read = (): string => {
    lastReadAt = pos;
    if (pos < text.length) return text[pos++] ?? END;
    return END;
  };
  const unread = () => {
    pos -= 1;
  };
  const tokens: Token[] = [];
  for (;;) {
    let char = read();
    while (isWhitespace(char)) char = read();
    const offset = lastReadAt;
    if (char === END) {
      tokens.push({ kind: "end", literal: "", offset });
      return tokens;
    }
    unread();
    if (isSpecialSymbol(char)) {
      let buffer = "";
      let last: { kind: TokenKind; literal: string } | undefined;
      for (;;) {
        const next = read();
        if (next === END) break;
        if (!isSpecialSymbol(next)) {
          unread();
          break;
        }
        buffer += next;
        const kind = KEYWORDS.get(buffer);
        if (kind !== undefined) last = { kind, literal: buffer };
        else if (last !== undefined) {
          unread();
          break;
        }
      }
      // Every single special symbol is a token, so `last` is always set.
      if (last !== undefined) tokens.push({ ...last, offset });
    } else {
      let buffer = "";
      for (;;) {
        const next = read();
        if (next === END) break;
        if (isSpecialSymbol(next) || isWhitespace(next)) {
          unread();
          break;
        }
        buffer += next;
      }
      tokens.push({ kind: KEYWORDS.get(buffer) ?? "identifier", literal: buffer, offset });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parser (apimachinery's recursive descent, with its messages).

const BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt";

type ParserContext = "keyAndOperator" | "values";

class SelectorParser {
  private position = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private at(index: number, context: ParserContext): Token {
    const token = this.tokens[Math.min(index, this.tokens.length - 1)] as Token;
    // In value position the keywords `in` and `notin` are plain identifiers ("x in (in)").
    if (context === "values" && (token.kind === "in" || token.kind === "notIn")) {
      return { ...token, kind: "identifier" };
    }
    return token;
  }

  private lookahead(context: ParserContext): Token {
    return this.at(this.position, context);
  }

  private consume(context: ParserContext): Token {
    const token = this.at(this.position, context);
    this.position += 1;
    return token;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const token = this.lookahead("values");
      if (token.kind === "end") return requirements;
      if (token.kind !== "identifier" && token.kind !== "doesNotExist") {
        throw new SelectorSyntaxError(
          `found '${token.literal}', expected: !, identifier, or 'end of string'`,
          token.offset,
        );
      }
      requirements.push(this.parseRequirement());
      const separator = this.consume("values");
      if (separator.kind === "end") return requirements;
      if (separator.kind !== "comma") {
        throw new SelectorSyntaxError(
          `found '${separator.literal}', expected: ',' or 'end of string'`,
          separator.offset,
        );
      }
      const next = this.lookahead("values");
      if (next.kind !== "identifier" && next.kind !== "doesNotExist") {
        throw new SelectorSyntaxError(`found '${next.literal}', expected: identifier after ','`, next.offset);
      }
    }
  }

  private fail(message: string, offset: number): never {
    throw new SelectorSyntaxError(`unable to parse requirement: ${message}`, offset);
  }

  private parseRequirement(): Requirement {
    const start = this.lookahead("values").offset;
    let operator: SelectorOperator | undefined;
    let keyToken = this.consume("values");
    if (keyToken.kind === "doesNotExist") {
      operator = "!";
      keyToken = this.consume("values");
    }
    if (keyToken.kind !== "identifier") this.fail(`found '${keyToken.literal}', expected: identifier`, keyToken.offset);
    const key = keyToken.literal;
    const keyErrors = qualifiedNameErrors(key);
    // NB: apimachinery validates the key with a nil field path and prints "<nil>"; we name the field instead.
    if (keyErrors.length > 0) this.fail(invalidValue("key", key, keyErrors.join("; ")), keyToken.offset);
    const following = this.lookahead("values").kind;
    if (following === "end" || following === "comma") operator ??= "exists";
    if (operator === "exists" || operator === "!") return { key, operator, values: [] };

    operator = this.parseOperator();
    const values = operator === "in" || operator === "notin" ? this.parseValues() : this.parseExactValue();
    return this.newRequirement(key, operator, values, start);
  }

  private parseOperator(): SelectorOperator {
    const token = this.consume("keyAndOperator");
    switch (token.kind) {
      case "in":
        return "in";
      case "notIn":
        return "notin";
      case "equals":
        return "=";
      case "doubleEquals":
        return "==";
      case "notEquals":
        return "!=";
      case "greaterThan":
        return "gt";
      case "lessThan":
        return "lt";
      default:
        return this.fail(`found '${token.literal}', expected: ${BINARY_OPERATORS}`, token.offset);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume("values");
    if (open.kind !== "openPar") this.fail(`found '${open.literal}' expected: '('`, open.offset);
    const first = this.lookahead("values");
    if (first.kind === "closedPar") {
      // NB: apimachinery reads "()" as the set {""}; the prom-adapter contract (selectors.json) rejects it.
      this.fail(invalidValue("values", "()", "for 'in', 'notin' operators, values set can't be empty"), open.offset);
    }
    if (first.kind !== "identifier" && first.kind !== "comma") {
      this.fail(`found '${first.literal}', expected: ',', ')' or identifier`, first.offset);
    }
    const values = this.parseIdentifiersList();
    const close = this.consume("values");
    if (close.kind !== "closedPar") this.fail(`found '${first.literal}', expected: ')'`, close.offset);
    return values;
  }

  /** A comma separated list of possibly empty identifiers: "(a,,b)" and "(,a)" contain "". */
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const token = this.consume("values");
      if (token.kind === "identifier") {
        values.add(token.literal);
        const next = this.lookahead("values");
        if (next.kind === "comma") continue;
        if (next.kind === "closedPar") return values;
        this.fail(`found '${next.literal}', expected: ',' or ')'`, next.offset);
      } else if (token.kind === "comma") {
        if (values.size === 0) values.add("");
        const next = this.lookahead("values");
        if (next.kind === "closedPar") {
          values.add("");
          return values;
        }
        if (next.kind === "comma") {
          this.consume("values");
          values.add("");
        }
      } else {
        this.fail(`found '${token.literal}', expected: ',', or identifier`, token.offset);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead("values");
    if (next.kind === "end" || next.kind === "comma") return new Set([""]);
    const token = this.consume("values");
    if (token.kind !== "identifier") this.fail(`found '${token.literal}', expected: identifier`, token.offset);
    return new Set([token.literal]);
  }

  /** labels.NewRequirement: value count, integer values for gt/lt, label value syntax. */
  private newRequirement(key: string, operator: SelectorOperator, set: Set<string>, offset: number): Requirement {
    const values = [...set].sort(compareStrings);
    const errors: string[] = [];
    if (operator === "gt" || operator === "lt") {
      values.forEach((value, index) => {
        if (parseInt64(value) === undefined) {
          const detail = "for 'Gt', 'Lt' operators, the value must be an integer";
          errors.push(invalidValue(`values[${index}]`, value, detail));
        }
      });
    }
    values.forEach((value, index) => {
      const valueErrors = labelValueErrors(value);
      if (valueErrors.length > 0) errors.push(invalidValue(`values[${index}][${key}]`, value, valueErrors.join("; ")));
    });
    if (errors.length > 0) this.fail(aggregate(errors), offset);
    return { key, operator, values };
  }
}

/** Go string order (byte order; equal to UTF-16 order for the ASCII that validation lets through). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses a Kubernetes label selector (`labels.Parse`): `key`, `!key`, `key=v`, `key==v`, `key!=v`,
 * `key in (a,b)`, `key notin (a)`, `key>1`, `key<1`, separated by commas, whitespace allowed around tokens.
 *
 * Keys must be qualified names, values label values (empty allowed). The result is sorted by key (stable, so
 * `a=1,a=2` keeps both in order); set values are sorted and de-duplicated. Empty or blank text gives `[]`.
 * Unlike apimachinery, `key in ()` is rejected rather than read as `key in ("")`.
 *
 * @throws SelectorSyntaxError with an apimachinery-style message and the offset of the offending token.
 */
export function parseLabelSelector(text: string): Requirement[] {
  const requirements = new SelectorParser(tokenize(text)).parse();
  return requirements.sort((a, b) => compareStrings(a.key, b.key));
}

// ---------------------------------------------------------------------------------------------------------------
// PromQL matchers (upstream prometheus-adapter naming/metrics_query.go, rules.md §7).

/** PromQL matchers for a metricLabelSelector, in requirement order, plus the target value per label name. */
export interface SelectorMatchers {
  /** e.g. `verb="GET"`, `pod=~"a|b"`, `canary!=""`. */
  readonly matchers: string[];
  /** Matcher value by label name (`"a|b"` for sets, `""` for exists / does-not-exist); the last one wins. */
  readonly labelValuesByName: Record<string, string>;
}

function matcherOperator(requirement: Requirement): MatchOperator {
  const single = requirement.values.length === 1;
  switch (requirement.operator) {
    case "=":
    case "==":
      return single ? "=" : "=~";
    case "!=":
      return single ? "!=" : "!~";
    case "in":
      return "=~";
    case "notin":
      return "!~";
    case "exists":
      return "!=";
    case "!":
      return "=";
    default:
      throw new SelectorMatcherError("operator not supported by prometheus");
  }
}

/**
 * Converts requirements to PromQL matchers: `=`/`==` → `l="v"` (`=~` for several values), `!=` → `l!="v"`
 * (`!~`), `in` → `l=~"v1|v2"`, `notin` → `l!~"…"`, exists → `l!=""`, `!` → `l=""`. Values are Go-quoted and
 * joined with `|` without regex escaping; label names are used verbatim.
 *
 * @throws SelectorMatcherError `label not specified`, `operator not supported by prometheus` (gt, lt),
 *   `operator requires values`, `operator does not support values`.
 */
export function requirementsToMatchers(requirements: readonly Requirement[]): SelectorMatchers {
  const matchers: string[] = [];
  const labelValues = new Map<string, string>();
  for (const requirement of requirements) {
    if (requirement.key === "") throw new SelectorMatcherError("label not specified");
    const op = matcherOperator(requirement);
    const unary = requirement.operator === "exists" || requirement.operator === "!";
    if (unary && requirement.values.length > 0) throw new SelectorMatcherError("operator does not support values");
    if (!unary && requirement.values.length === 0) throw new SelectorMatcherError("operator requires values");
    const target = requirement.values.join("|");
    matchers.push(labelMatcher(requirement.key, op, target));
    labelValues.set(requirement.key, target);
  }
  // NB: Object.fromEntries defines own properties, so a key such as "__proto__" cannot touch the prototype.
  return { matchers, labelValuesByName: Object.fromEntries(labelValues) };
}

// ---------------------------------------------------------------------------------------------------------------
// metav1.LabelSelector echo (api.md §4 `selector`).

/** metav1.LabelSelectorRequirement. `values` is absent for Exists and DoesNotExist. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

/** metav1.LabelSelector as JSON; empty `matchLabels` / `matchExpressions` are omitted. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareStrings);
}

/**
 * The metricLabelSelector echoed in custom metric responses (metav1.ParseToLabelSelector): `=`/`==` go to
 * `matchLabels` (keys sorted, last value wins), `in`/`notin`/`!=` (as NotIn with its value), exists and `!` go to
 * `matchExpressions` in requirement order. Returns `null` for no requirements.
 *
 * @throws SelectorMatcherError for gt/lt (`operator not supported by prometheus`) and for `=`/`==` without
 *   exactly one value.
 */
export function toLabelSelector(requirements: readonly Requirement[]): LabelSelector | null {
  if (requirements.length === 0) return null;
  const matchLabels = new Map<string, string>();
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const { key, operator, values } of requirements) {
    switch (operator) {
      case "=":
      case "==":
        if (values.length !== 1) throw new SelectorMatcherError("equals operator must have exactly one value");
        matchLabels.set(key, values[0] ?? "");
        break;
      case "in":
        matchExpressions.push({ key, operator: "In", values: sortedUnique(values) });
        break;
      case "notin":
      case "!=":
        // NB: upstream fails the whole request on "!="; prom-adapter echoes it as NotIn with its one value.
        matchExpressions.push({ key, operator: "NotIn", values: sortedUnique(values) });
        break;
      case "exists":
        matchExpressions.push({ key, operator: "Exists" });
        break;
      case "!":
        matchExpressions.push({ key, operator: "DoesNotExist" });
        break;
      default:
        throw new SelectorMatcherError("operator not supported by prometheus");
    }
  }
  const selector: { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] } = {};
  if (matchLabels.size > 0) {
    // Go's encoding/json prints map keys sorted.
    selector.matchLabels = Object.fromEntries([...matchLabels].sort(([a], [b]) => compareStrings(a, b)));
  }
  if (matchExpressions.length > 0) selector.matchExpressions = matchExpressions;
  return selector;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching (labels.Requirement.Matches).

function requirementMatches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "=":
    case "==":
    case "in":
      return value !== undefined && requirement.values.includes(value);
    case "!=":
    case "notin":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return present;
    case "!":
      return !present;
    case "gt":
    case "lt": {
      if (value === undefined || requirement.values.length !== 1) return false;
      const actual = parseInt64(value);
      const bound = parseInt64(requirement.values[0] ?? "");
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === "gt" ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/**
 * Whether an object's labels satisfy every requirement, with Kubernetes semantics: `!=` and `notin` match when
 * the key is absent; `gt`/`lt` need the key and compare int64 values (a non-integer label never matches).
 * No requirements match everything.
 */
export function selectorMatches(
  requirements: readonly Requirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements.every((requirement) => requirementMatches(requirement, labels));
}
