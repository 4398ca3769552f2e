/**
 * Lexer of the `<< >>` template language: Go text/template/parse/lex.go with delimiters `<<` and `>>`.
 * Trim markers and comments are handled here, as in Go; the parser never sees them.
 */
import { TemplateCompileError } from "./errors.ts";
import { goQuote, goUnicodeName } from "../strconv.ts";

const LEFT_DELIM = "<<";
const RIGHT_DELIM = ">>";
const LEFT_COMMENT = "/*";
const RIGHT_COMMENT = "*/";
const TRIM_MARKER_LENGTH = 2; // "- " after the left delimiter, " -" before the right one

/** Words the lexer reports as keywords (`nil`, `true` and `false` have their own kinds). */
const KEYWORDS: ReadonlySet<string> = new Set([
  "block",
  "break",
  "continue",
  "define",
  "else",
  "end",
  "if",
  "range",
  "template",
  "with",
]);

export type TokenKind =
  | "text"
  | "leftDelim"
  | "rightDelim"
  | "space"
  | "field" // `.Name` (value includes the dot)
  | "dot" // `.` alone
  | "identifier"
  | "keyword"
  | "bool"
  | "nil"
  | "string" // `"..."` (value includes the quotes)
  | "rawString" // `` `...` `` (value includes the quotes)
  | "charConstant" // `'a'` (value includes the quotes)
  | "number"
  | "complex"
  | "variable" // `$` or `$name`
  | "declare" // `:=`
  | "assign" // `=`
  | "pipe"
  | "leftParen"
  | "rightParen"
  | "char" // any other printable ASCII character inside an action
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  /** UTF-16 index into the source where the token starts. */
  readonly offset: number;
}

function isSpace(char: string | undefined): boolean {
  return char === " " || char === "\t" || char === "\r" || char === "\n";
}

const ALPHANUMERIC = /^[\p{L}\p{Nd}_]$/u;

/** Go's isAlphaNumeric: underscore, Unicode letter or decimal digit. */
function isAlphaNumeric(char: string | undefined): boolean {
  return char !== undefined && ALPHANUMERIC.test(char);
}

function charAt(source: string, index: number): string | undefined {
  const codePoint = source.codePointAt(index);
  return codePoint === undefined ? undefined : String.fromCodePoint(codePoint);
}

function hasLeftTrimMarker(source: string, index: number): boolean {
  return source[index] === "-" && isSpace(source[index + 1]);
}

function hasRightTrimMarker(source: string, index: number): boolean {
  return isSpace(source[index]) && source[index + 1] === "-";
}

function skipSpaces(source: string, index: number): number {
  let i = index;
  while (isSpace(source[i])) i++;
  return i;
}

function fail(detail: string, offset: number): never {
  throw new TemplateCompileError(detail, offset);
}

/** Splits a template into tokens. Throws TemplateCompileError on a lexical error (unclosed action, bad number...). */
export function lexTemplate(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;

  /** Whether pos is at `>>` or ` ->>`; the second member says whether it carries a trim marker. */
  const atRightDelim = (index: number): [boolean, boolean] => {
    if (hasRightTrimMarker(source, index) && source.startsWith(RIGHT_DELIM, index + TRIM_MARKER_LENGTH)) {
      return [true, true];
    }
    return [source.startsWith(RIGHT_DELIM, index), false];
  };

  const atTerminator = (index: number): boolean => {
    const char = source[index];
    if (char === undefined || isSpace(char)) return true;
    return ".,|:()".includes(char) || char === RIGHT_DELIM[0];
  };

  const lexText = (): boolean => {
    const delimAt = source.indexOf(LEFT_DELIM, pos);
    if (delimAt < 0) {
      if (pos < source.length) tokens.push({ kind: "text", value: source.slice(pos), offset: pos });
      return false;
    }
    let textEnd = delimAt;
    if (hasLeftTrimMarker(source, delimAt + LEFT_DELIM.length)) {
      while (textEnd > pos && isSpace(source[textEnd - 1])) textEnd--;
    }
    if (textEnd > pos) tokens.push({ kind: "text", value: source.slice(pos, textEnd), offset: pos });
    pos = delimAt;
    return true;
  };

  const lexComment = (start: number, commentAt: number): void => {
    const closeAt = source.indexOf(RIGHT_COMMENT, commentAt + LEFT_COMMENT.length);
    if (closeAt < 0) fail("unclosed comment", start);
    let index = closeAt + RIGHT_COMMENT.length;
    const [delim, trim] = atRightDelim(index);
    if (!delim) fail("comment ends before closing delimiter", start);
    index += (trim ? TRIM_MARKER_LENGTH : 0) + RIGHT_DELIM.length;
    pos = trim ? skipSpaces(source, index) : index;
  };

  const lexRightDelim = (): void => {
    const trim = hasRightTrimMarker(source, pos);
    if (trim) pos += TRIM_MARKER_LENGTH;
    tokens.push({ kind: "rightDelim", value: RIGHT_DELIM, offset: pos });
    pos += RIGHT_DELIM.length;
    if (trim) pos = skipSpaces(source, pos);
  };

  const emit = (kind: TokenKind, start: number): void => {
    tokens.push({ kind, value: source.slice(start, pos), offset: start });
  };

  const lexSpace = (): boolean => {
    const start = pos;
    while (isSpace(source[pos])) pos++;
    // A trim-marked right delimiter starts with a space: leave that space to it.
    if (hasRightTrimMarker(source, pos - 1) && source.startsWith(RIGHT_DELIM, pos - 1 + TRIM_MARKER_LENGTH)) {
      pos--;
      if (pos === start) return false;
    }
    emit("space", start);
    return true;
  };

  const lexQuoted = (start: number, quote: string, kind: TokenKind, what: string): void => {
    pos = start + 1;
    for (;;) {
      const char = source[pos];
      if (char === undefined || char === "\n") fail(`unterminated ${what}`, start);
      pos++;
      if (char === "\\") {
        const escaped = source[pos];
        if (escaped === undefined || escaped === "\n") fail(`unterminated ${what}`, start);
        pos++;
      } else if (char === quote) {
        break;
      }
    }
    emit(kind, start);
  };

  const lexRawQuote = (start: number): void => {
    const closeAt = source.indexOf("`", start + 1);
    if (closeAt < 0) fail("unterminated raw quoted string", start);
    pos = closeAt + 1;
    emit("rawString", start);
  };

  const accept = (valid: string): boolean => {
    const char = source[pos];
    if (char !== undefined && valid.includes(char)) {
      pos++;
      return true;
    }
    return false;
  };

  const acceptRun = (valid: string): void => {
    while (accept(valid));
  };

  /** Go's scanNumber: accepts a superset of valid numbers; the parser validates the text. */
  const scanNumber = (): boolean => {
    accept("+-");
    let digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    acceptRun(digits);
    if (accept(".")) acceptRun(digits);
    if (digits.length === 11 && accept("eE")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    if (digits.length === 23 && accept("pP")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    accept("i");
    const next = charAt(source, pos);
    if (isAlphaNumeric(next)) {
      pos += next?.length ?? 1;
      return false;
    }
    return true;
  };

  const lexNumber = (start: number): void => {
    pos = start;
    if (!scanNumber()) fail(`bad number syntax: ${goQuote(source.slice(start, pos))}`, start);
    const sign = source[pos];
    if (sign === "+" || sign === "-") {
      if (!scanNumber() || source[pos - 1] !== "i")
        fail(`bad number syntax: ${goQuote(source.slice(start, pos))}`, start);
      emit("complex", start);
      return;
    }
    emit("number", start);
  };

  /** After `.` or `$` at start: the name that follows, if any. */
  const lexFieldOrVariable = (start: number, kind: "field" | "variable"): void => {
    pos = start + 1;
    if (atTerminator(pos)) {
      emit(kind === "field" ? "dot" : "variable", start);
      return;
    }
    let next = charAt(source, pos);
    while (isAlphaNumeric(next)) {
      pos += next?.length ?? 1;
      next = charAt(source, pos);
    }
    if (!atTerminator(pos)) fail(`bad character ${goUnicodeName(next?.codePointAt(0) ?? 0)}`, start);
    emit(kind, start);
  };

  const lexIdentifier = (start: number): void => {
    let next = charAt(source, pos);
    while (isAlphaNumeric(next)) {
      pos += next?.length ?? 1;
      next = charAt(source, pos);
    }
    if (!atTerminator(pos)) fail(`bad character ${goUnicodeName(next?.codePointAt(0) ?? 0)}`, start);
    const word = source.slice(start, pos);
    const kind: TokenKind = KEYWORDS.has(word)
      ? "keyword"
      : word === "true" || word === "false"
        ? "bool"
        : word === "nil"
          ? "nil"
          : "identifier";
    emit(kind, start);
  };

  /** Lexes from just after `<<` (and its trim marker) to just after `>>`. */
  const lexInsideAction = (actionStart: number): void => {
    let parenDepth = 0;
    for (;;) {
      const [delim] = atRightDelim(pos);
      if (delim) {
        if (parenDepth === 0) {
          lexRightDelim();
          return;
        }
        fail("unclosed left paren", pos);
      }
      const start = pos;
      const char = charAt(source, pos);
      if (char === undefined) fail("unclosed action", actionStart);
      else if (isSpace(char)) {
        if (!lexSpace()) {
          lexRightDelim();
          return;
        }
      } else if (char === "=") {
        pos++;
        emit("assign", start);
      } else if (char === ":") {
        pos++;
        if (source[pos] !== "=") fail("expected :=", start);
        pos++;
        emit("declare", start);
      } else if (char === "|") {
        pos++;
        emit("pipe", start);
      } else if (char === '"') lexQuoted(start, '"', "string", "quoted string");
      else if (char === "'") lexQuoted(start, "'", "charConstant", "character constant");
      else if (char === "`") lexRawQuote(start);
      else if (char === "$") lexFieldOrVariable(start, "variable");
      else if (char === "." && !/[0-9]/.test(source[pos + 1] ?? "0")) lexFieldOrVariable(start, "field");
      else if (char === "." || char === "+" || char === "-" || (char >= "0" && char <= "9")) lexNumber(start);
      else if (isAlphaNumeric(char)) lexIdentifier(start);
      else if (char === "(") {
        pos++;
        emit("leftParen", start);
        parenDepth++;
      } else if (char === ")") {
        pos++;
        if (--parenDepth < 0) fail(`unexpected right paren ${goUnicodeName(0x29)}`, start);
        emit("rightParen", start);
      } else if (char >= " " && char <= "~") {
        pos++;
        emit("char", start);
      } else {
        fail(`unrecognized character in action: ${goUnicodeName(char.codePointAt(0) ?? 0)}`, start);
      }
    }
  };

  while (lexText()) {
    const start = pos;
    pos += LEFT_DELIM.length;
    const afterMarker = hasLeftTrimMarker(source, pos) ? TRIM_MARKER_LENGTH : 0;
    if (source.startsWith(LEFT_COMMENT, pos + afterMarker)) {
      lexComment(start, pos + afterMarker);
      continue;
    }
    tokens.push({ kind: "leftDelim", value: LEFT_DELIM, offset: start });
    pos += afterMarker;
    lexInsideAction(start);
  }
  tokens.push({ kind: "eof", value: "", offset: source.length });
  return tokens;
}
