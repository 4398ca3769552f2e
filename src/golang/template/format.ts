/**
 * Go fmt for template values: what an action prints, `print` (fmt.Sprint), `println` (fmt.Sprintln) and `printf`
 * (fmt.Sprintf) with Go's verbs, flags (`+ - # 0` and space), width and precision.
 */
import { goQuote, goQuoteRune } from "../strconv.ts";
import { goTypeName, isStringMap, sortedKeys, TemplateRoot, type TemplateValue } from "./values.ts";
import { TemplateExecutionError } from "./errors.ts";

/** One `%...` directive of a printf format. */
export interface FormatDirective {
  /** The verb character, e.g. `s`, `d`, `x`. */
  readonly verb: string;
  readonly plus: boolean;
  readonly minus: boolean;
  readonly sharp: boolean;
  readonly space: boolean;
  readonly zero: boolean;
  /** Minimum width in characters; null when absent. */
  readonly width: number | null;
  /** Precision; null when absent (`%.s` is 0). */
  readonly precision: number | null;
}

/** A printf format split once into literal text and directives. */
export type CompiledFormat = readonly (string | FormatDirective)[];

const PLAIN: Omit<FormatDirective, "verb"> = {
  plus: false,
  minus: false,
  sharp: false,
  space: false,
  zero: false,
  width: null,
  precision: null,
};

function plain(verb: string): FormatDirective {
  return { ...PLAIN, verb };
}

const UTF8_ENCODER = new TextEncoder();
const UNSUPPORTED_ARGUMENTS = "printf argument indexes and widths from arguments (%[n], %*) are not supported";

function isValidRune(value: number): boolean {
  return value >= 0 && value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff);
}

function runeCount(text: string): number {
  let count = 0;
  for (const _char of text) count++;
  return count;
}

/** Go's fmt padding to the width: spaces on the left, on the right with `-`, zeros with `0` (never after `-`). */
function pad(text: string, directive: FormatDirective, zeroAllowed = true): string {
  if (directive.width === null) return text;
  const missing = directive.width - runeCount(text);
  if (missing <= 0) return text;
  if (directive.minus) return text + " ".repeat(missing);
  return (directive.zero && zeroAllowed ? "0" : " ").repeat(missing) + text;
}

/** Go's `%!d(string=foo)` for a verb that does not apply to the value. */
function badVerb(verb: string, value: Exclude<TemplateValue, null>): string {
  return `%!${verb}(${goTypeName(value)}=${formatValue(value, plain("v"))})`;
}

/** Go fmtInteger: sign, base prefix with `#`, precision as minimum digits, zero padding to the width. */
function formatInteger(value: number, base: number, upper: boolean, directive: FormatDirective): string {
  const negative = value < 0;
  let digits = Math.abs(value).toString(base);
  if (upper) digits = digits.toUpperCase();
  let precision = directive.precision;
  if (precision === 0 && value === 0) return pad("", directive, false);
  if (precision === null && directive.zero && !directive.minus && directive.width !== null) {
    precision = directive.width - (negative || directive.plus || directive.space ? 1 : 0);
  }
  if (precision !== null && digits.length < precision) digits = "0".repeat(precision - digits.length) + digits;
  let prefix = "";
  if (directive.verb === "O") prefix = "0o";
  else if (directive.sharp) {
    if (base === 8 && digits[0] !== "0") prefix = "0";
    else if (base === 16) prefix = upper ? "0X" : "0x";
    else if (base === 2) prefix = "0b";
  }
  const sign = negative ? "-" : directive.plus ? "+" : directive.space ? " " : "";
  return pad(sign + prefix + digits, directive, false);
}

/** Go's `%U`: `U+0041`, with `#` also the character when printable. */
function formatUnicode(value: number, directive: FormatDirective): string {
  const hex = Math.abs(value).toString(16).toUpperCase();
  let text = "U+" + hex.padStart(Math.max(4, directive.precision ?? 0), "0");
  if (directive.sharp && value >= 0 && value <= 0x10ffff) {
    const quoted = goQuoteRune(value);
    if (quoted.length === 3 || !quoted.startsWith("'\\")) text += ` ${quoted}`;
  }
  return pad(text, directive, false);
}

/** Go's `%x` of a string: hex of its UTF-8 bytes; the space flag separates bytes, `#` adds 0x. */
function formatHexString(text: string, directive: FormatDirective, upper: boolean): string {
  let bytes = UTF8_ENCODER.encode(text);
  const { precision } = directive;
  if (precision !== null && precision < bytes.length) bytes = bytes.subarray(0, precision);
  const prefix = directive.sharp ? (upper ? "0X" : "0x") : "";
  const parts = [...bytes].map((byte) => {
    const hex = byte.toString(16).padStart(2, "0");
    return upper ? hex.toUpperCase() : hex;
  });
  const joined = directive.space
    ? parts.map((part) => prefix + part).join(" ")
    : (parts.length > 0 ? prefix : "") + parts.join("");
  return pad(joined, directive, false);
}

function truncate(text: string, precision: number | null): string {
  if (precision === null) return text;
  return [...text].slice(0, precision).join("");
}

/** Go strconv.CanBackquote: `%#q` prints such strings in backquotes. */
function canBackquote(text: string): boolean {
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (char === "`" || codePoint === 0xfeff || (codePoint < 0x20 && char !== "\t") || codePoint === 0x7f) return false;
  }
  return true;
}

function formatString(value: string, directive: FormatDirective): string {
  switch (directive.verb) {
    case "v":
      if (directive.sharp) return pad(goQuote(value), directive);
      return pad(truncate(value, directive.precision), directive);
    case "s":
      return pad(truncate(value, directive.precision), directive);
    case "q": {
      const text = truncate(value, directive.precision);
      return pad(directive.sharp && canBackquote(text) ? "`" + text + "`" : goQuote(text), directive);
    }
    case "x":
    case "X":
      return formatHexString(value, directive, directive.verb === "X");
    default:
      return badVerb(directive.verb, value);
  }
}

function formatInt(value: number, directive: FormatDirective): string {
  switch (directive.verb) {
    case "v":
    case "d":
      return formatInteger(value, 10, false, directive);
    case "b":
      return formatInteger(value, 2, false, directive);
    case "o":
    case "O":
      return formatInteger(value, 8, false, directive);
    case "x":
    case "X":
      return formatInteger(value, 16, directive.verb === "X", directive);
    case "c":
      return pad(isValidRune(value) ? String.fromCodePoint(value) : "\uFFFD", directive, false);
    case "q":
      return pad(goQuoteRune(value), directive, false);
    case "U":
      return formatUnicode(value, directive);
    default:
      return badVerb(directive.verb, value);
  }
}

/** Go's `%#v`: the value as Go source. */
function goSyntax(value: Exclude<TemplateValue, null>): string {
  if (typeof value === "string") return goQuote(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    const list: readonly string[] = value;
    return "[]string{" + list.map((element) => goQuote(element)).join(", ") + "}";
  }
  if (value instanceof TemplateRoot) {
    const fields = value.fieldNames.map((name) => {
      const field = value.data[name];
      return `${name}:${field === undefined ? "<nil>" : goSyntax(field)}`;
    });
    return "struct {" + fields.join(", ") + "}";
  }
  const map = value as Readonly<Record<string, string>>;
  const entries = sortedKeys(map).map((key) => `${goQuote(key)}:${goQuote(map[key] ?? "")}`);
  return "map[string]string{" + entries.join(", ") + "}";
}

/** Formats a non-nil value with a directive as Go's fmt does, recursing into slices, maps and the root struct. */
export function formatValue(value: Exclude<TemplateValue, null>, directive: FormatDirective): string {
  if (directive.verb === "T") return pad(goTypeName(value), directive);
  if (directive.verb === "v" && directive.sharp && typeof value !== "string") return goSyntax(value);
  switch (typeof value) {
    case "string":
      return formatString(value, directive);
    case "number":
      return formatInt(value, directive);
    case "boolean":
      if (directive.verb === "v" || directive.verb === "t") return pad(String(value), directive);
      return badVerb(directive.verb, value);
  }
  if (Array.isArray(value)) {
    const list: readonly string[] = value;
    return "[" + list.map((element) => formatValue(element, directive)).join(" ") + "]";
  }
  if (value instanceof TemplateRoot) {
    const fields = value.fieldNames.map((name) => {
      const field = value.data[name];
      if (field === undefined) throw new TemplateExecutionError(`no value for field .${name} in the template data`);
      const text = formatValue(field, directive);
      return directive.plus && directive.verb === "v" ? `${name}:${text}` : text;
    });
    return "{" + fields.join(" ") + "}";
  }
  if (isStringMap(value)) {
    const entries = sortedKeys(value).map(
      (key) => `${formatValue(key, directive)}:${formatValue(value[key] ?? "", directive)}`,
    );
    return "map[" + entries.join(" ") + "]";
  }
  return String(value);
}

const PLAIN_V = plain("v");

/** What an action `<<x>>` prints: the value with `%v`, `<no value>` for nil / a missing map key. */
export function printValue(value: TemplateValue): string {
  if (typeof value === "string") return value;
  return value === null ? "<no value>" : formatValue(value, PLAIN_V);
}

/** Go `print` (fmt.Sprint): operands with `%v`, a space between two operands when neither is a string. */
export function goSprint(values: readonly TemplateValue[]): string {
  let out = "";
  let previousIsString = false;
  values.forEach((value, index) => {
    const isString = typeof value === "string";
    if (index > 0 && !isString && !previousIsString) out += " ";
    out += value === null ? "<nil>" : formatValue(value, PLAIN_V);
    previousIsString = isString;
  });
  return out;
}

/** Go `println` (fmt.Sprintln): operands with `%v`, always separated by a space, and a final newline. */
export function goSprintln(values: readonly TemplateValue[]): string {
  return values.map((value) => (value === null ? "<nil>" : formatValue(value, PLAIN_V))).join(" ") + "\n";
}

/**
 * Splits a printf format into text and directives. Returns an error message for what the engine does not
 * implement: explicit argument indexes (`%[1]d`) and widths or precisions taken from arguments (`%*d`).
 */
export function compileFormat(format: string): CompiledFormat | { readonly error: string } {
  const pieces: (string | FormatDirective)[] = [];
  let text = "";
  let i = 0;
  while (i < format.length) {
    const char = format[i++];
    if (char !== "%") {
      text += char;
      continue;
    }
    const flags = { plus: false, minus: false, sharp: false, space: false, zero: false };
    for (;;) {
      const flag = format[i];
      if (flag === "+") flags.plus = true;
      else if (flag === "-") flags.minus = true;
      else if (flag === "#") flags.sharp = true;
      else if (flag === " ") flags.space = true;
      else if (flag === "0") flags.zero = true;
      else break;
      i++;
    }
    const readNumber = (): number | null => {
      const start = i;
      while (/[0-9]/.test(format[i] ?? "")) i++;
      return i === start ? null : Number(format.slice(start, i));
    };
    if (format[i] === "[" || format[i] === "*") {
      return { error: `${UNSUPPORTED_ARGUMENTS}: ${goQuote(format)}` };
    }
    const width = readNumber();
    let precision: number | null = null;
    if (format[i] === ".") {
      i++;
      if (format[i] === "[" || format[i] === "*") {
        return { error: `${UNSUPPORTED_ARGUMENTS}: ${goQuote(format)}` };
      }
      precision = readNumber() ?? 0;
    }
    const codePoint = format.codePointAt(i);
    if (codePoint === undefined) {
      text += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(codePoint);
    i += verb.length;
    if (verb === "%") {
      text += "%";
      continue;
    }
    if (text !== "") pieces.push(text);
    text = "";
    // NB: as in Go, `-` turns off zero padding and `+` turns off the space flag.
    const { zero, minus, space, plus } = flags;
    pieces.push({ verb, ...flags, zero: zero && !minus, space: space && !plus, width, precision });
  }
  if (text !== "") pieces.push(text);
  return pieces;
}

/** Go `printf` with a compiled format: `%!s(MISSING)` for missing operands, `%!(EXTRA ...)` for extra ones. */
export function goSprintf(format: CompiledFormat, values: readonly TemplateValue[]): string {
  let out = "";
  let next = 0;
  for (const piece of format) {
    if (typeof piece === "string") {
      out += piece;
      continue;
    }
    const { verb } = piece;
    if (next >= values.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const value = values[next++] ?? null;
    if (value !== null) out += formatValue(value, piece);
    else out += verb === "v" || verb === "T" ? pad("<nil>", piece, false) : `%!${verb}(<nil>)`;
  }
  if (next < values.length) {
    const extra = values
      .slice(next)
      .map((value) => (value === null ? "<nil>" : `${goTypeName(value)}=${formatValue(value, PLAIN_V)}`));
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}
