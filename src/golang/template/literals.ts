/**
 * Go literals inside template actions: interpreted strings (`"a\n"`), raw strings (`` `a` ``), character
 * constants (`'a'`) and integers (`42`, `-7`, `0x1f`, `0o17`, `0b101`, `1_000`), as strconv parses them.
 */

import { goQuote } from "../strconv.ts";

const HEX_DIGIT = /^[0-9a-fA-F]$/;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  "\\": 0x5c,
};
const UTF8_DECODER = new TextDecoder("utf-8");

function isValidRune(value: number): boolean {
  return value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff);
}

function pushUtf8(codePoint: number, bytes: number[]): void {
  const rune = isValidRune(codePoint) ? codePoint : 0xfffd;
  if (rune < 0x80) bytes.push(rune);
  else if (rune < 0x800) bytes.push(0xc0 | (rune >> 6), 0x80 | (rune & 0x3f));
  else if (rune < 0x10000) bytes.push(0xe0 | (rune >> 12), 0x80 | ((rune >> 6) & 0x3f), 0x80 | (rune & 0x3f));
  else {
    bytes.push(0xf0 | (rune >> 18), 0x80 | ((rune >> 12) & 0x3f), 0x80 | ((rune >> 6) & 0x3f), 0x80 | (rune & 0x3f));
  }
}

interface Unquoted {
  /** The code point, or the byte value for `\x..` and octal escapes. */
  readonly value: number;
  /** True when value is a single byte that must not be UTF-8 encoded. */
  readonly isByte: boolean;
  /** UTF-16 index just after the character or escape. */
  readonly next: number;
}

/** Go strconv.UnquoteChar on body[index...]; null on a syntax error. */
function unquoteChar(body: string, index: number, quote: string): Unquoted | null {
  const char = body[index];
  if (char === undefined || char === quote) return null;
  if (char !== "\\") {
    const codePoint = body.codePointAt(index) ?? 0;
    return { value: codePoint, isByte: false, next: index + (codePoint > 0xffff ? 2 : 1) };
  }
  const escaped = body[index + 1];
  if (escaped === undefined) return null;
  const simple = SIMPLE_ESCAPES[escaped];
  if (simple !== undefined) return { value: simple, isByte: false, next: index + 2 };
  if (escaped === "'" || escaped === '"')
    return escaped === quote ? { value: escaped.charCodeAt(0), isByte: false, next: index + 2 } : null;
  const hexLength = escaped === "x" ? 2 : escaped === "u" ? 4 : escaped === "U" ? 8 : 0;
  if (hexLength > 0) {
    const digits = body.slice(index + 2, index + 2 + hexLength);
    if (digits.length < hexLength || ![...digits].every((d) => HEX_DIGIT.test(d))) return null;
    const value = Number.parseInt(digits, 16);
    if (escaped !== "x" && !isValidRune(value)) return null;
    return { value, isByte: escaped === "x", next: index + 2 + hexLength };
  }
  if (escaped >= "0" && escaped <= "7") {
    const digits = body.slice(index + 1, index + 4);
    if (!/^[0-7]{3}$/.test(digits)) return null;
    const value = Number.parseInt(digits, 8);
    return value > 255 ? null : { value, isByte: true, next: index + 4 };
  }
  return null;
}

/**
 * Go strconv.Unquote for a string token (`"..."` or `` `...` ``, quotes included); null when invalid.
 * Raw strings lose their carriage returns, as in Go. Byte escapes that do not form valid UTF-8 become U+FFFD.
 */
export function unquoteGoString(token: string): string | null {
  const quote = token[0];
  if (token.length < 2 || token[token.length - 1] !== quote) return null;
  const body = token.slice(1, -1);
  if (quote === "`") return body.includes("`") ? null : body.replaceAll("\r", "");
  if (quote !== '"') return null;
  if (!body.includes("\\")) return body.includes('"') || body.includes("\n") ? null : body;
  const bytes: number[] = [];
  let index = 0;
  while (index < body.length) {
    if (body[index] === "\n") return null;
    const unquoted = unquoteChar(body, index, '"');
    if (unquoted === null) return null;
    if (unquoted.isByte) bytes.push(unquoted.value);
    else pushUtf8(unquoted.value, bytes);
    index = unquoted.next;
  }
  return UTF8_DECODER.decode(Uint8Array.from(bytes));
}

/** A character constant token (`'a'`, `'\n'`, `'\x41'`) as its integer value; null when malformed. */
export function unquoteGoChar(token: string): number | null {
  if (token[0] !== "'") return null;
  const unquoted = unquoteChar(token, 1, "'");
  if (unquoted === null || token.slice(unquoted.next) !== "'") return null;
  return unquoted.value;
}

export type ParsedInteger = { readonly value: number } | { readonly error: string };

const INTEGER_FORMS: ReadonlyArray<readonly [RegExp, number, number]> = [
  // pattern on the unsigned text, base, length of the prefix to drop
  [/^0[xX](?:_?[0-9a-fA-F])+$/, 16, 2],
  [/^0[bB](?:_?[01])+$/, 2, 2],
  [/^0[oO](?:_?[0-7])+$/, 8, 2],
  [/^0(?:_?[0-7])+$/, 8, 1],
  [/^(?:0|[1-9](?:_?[0-9])*)$/, 10, 0],
];

/**
 * A number token as a Go integer constant. Floating-point and complex constants are not part of the supported
 * subset; integers beyond ±(2^53 - 1) are rejected (Go accepts up to 64 bits).
 */
export function parseGoInteger(text: string): ParsedInteger {
  const negative = text.startsWith("-");
  const unsigned = text.startsWith("-") || text.startsWith("+") ? text.slice(1) : text;
  const isHex = /^0[xX]/.test(unsigned);
  if (unsigned.endsWith("i") && !isHex) return { error: `complex constants are not supported: ${text}` };
  if (unsigned.includes(".") || (isHex ? /[pP]/.test(unsigned) : /[eE]/.test(unsigned))) {
    return { error: `floating-point constants are not supported: ${text}` };
  }
  for (const [pattern, base, prefix] of INTEGER_FORMS) {
    if (!pattern.test(unsigned)) continue;
    const magnitude = Number.parseInt(unsigned.slice(prefix).replaceAll("_", ""), base);
    if (!Number.isSafeInteger(magnitude)) return { error: `integer constant out of range: ${text}` };
    return { value: negative ? -magnitude : magnitude };
  }
  return { error: `illegal number syntax: ${goQuote(text)}` };
}
