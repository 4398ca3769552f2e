/**
 * Go `strconv.QuoteRune` and `%#U` for the template engine (`printf "%q"` on integers, error messages). Strings are
 * quoted by promql-quote.ts's `goQuote`, re-exported here for the engine's files.
 */
import { goQuote, isGoPrintable } from "../strconv.ts";

export { goQuote };

const HEX = "0123456789abcdef";
const MAX_RUNE = 0x10ffff;
const REPLACEMENT_CHARACTER = 0xfffd;

function hex(value: number, digits: number): string {
  let out = "";
  for (let i = digits - 1; i >= 0; i--) out += HEX[Math.floor(value / 16 ** i) % 16];
  return out;
}

function escapeRune(codePoint: number, quote: number): string {
  if (codePoint === quote || codePoint === 0x5c) return "\\" + String.fromCodePoint(codePoint);
  if (isGoPrintable(codePoint)) return String.fromCodePoint(codePoint);
  switch (codePoint) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
  }
  if (codePoint < 0x20 || codePoint === 0x7f) return "\\x" + hex(codePoint, 2);
  const valid = codePoint <= MAX_RUNE && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
  const rune = valid ? codePoint : REPLACEMENT_CHARACTER;
  return rune < 0x10000 ? "\\u" + hex(rune, 4) : "\\U" + hex(rune, 8);
}

/** Go `strconv.QuoteRune` as used by `%q` on an integer: `'a'`, `'\n'`; out-of-range values print as `'�'`. */
export function goQuoteRune(value: number): string {
  const valid = value >= 0 && value <= MAX_RUNE && !(value >= 0xd800 && value <= 0xdfff);
  return "'" + escapeRune(valid ? value : REPLACEMENT_CHARACTER, 0x27) + "'";
}

/** Go `%#U`: `U+0041 'A'`, or `U+0001` when not printable. */
export function goUnicodeName(codePoint: number): string {
  const name = "U+" + hex(codePoint, Math.max(4, codePoint.toString(16).length)).toUpperCase();
  return isGoPrintable(codePoint) ? `${name} '${String.fromCodePoint(codePoint)}'` : name;
}
