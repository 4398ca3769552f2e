/**
 * Kubernetes label selectors (`metricLabelSelector`, `labelSelector`): parsing with the semantics of apimachinery
 * `labels.Parse`. The LabelSelector echo and object matching are in conversions.ts; PromQL matchers are built by
 * naming/selector-matchers.ts.
 */
import { aggregate, invalidValue, labelValueErrors, parseInt64, qualifiedNameErrors } from "./validation.ts";
import { compareStrings } from "../../util/compare.ts";
import { BadRequestError } from "../status.ts";

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

/**
 * A `labelSelector` query parameter as the API server reads it: parsed requirements, or a 400
 * `unable to parse labelSelector: <why>` for a selector that does not parse.
 */
export function parseLabelSelectorParameter(text: string): Requirement[] {
  try {
    return parseLabelSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError)
      throw new BadRequestError(`unable to parse labelSelector: ${error.message}`);
    throw error;
  }
}
