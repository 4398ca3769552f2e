/**
 * Go's `strconv.Quote` (what `%q` prints), used wherever upstream prometheus-adapter formats with `%q`: PromQL
 * label values, error messages and the template engine.
 */

const LOWER_HEX = "0123456789abcdef";

/** Go's unicode.IsPrint outside ASCII: letters, marks, numbers, punctuation and symbols (never spaces). */
const GRAPHIC_NON_SPACE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const SHORT_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, "\\a"],
  [0x08, "\\b"],
  [0x0c, "\\f"],
  [0x0a, "\\n"],
  [0x0d, "\\r"],
  [0x09, "\\t"],
  [0x0b, "\\v"],
]);

/**
 * Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
 * NB: the Unicode tables are the JavaScript engine's, so code points assigned after Go's Unicode version may differ.
 */
export function isGoPrintable(codePoint: number): boolean {
  if (codePoint < 0x80) return codePoint >= 0x20 && codePoint < 0x7f;
  return GRAPHIC_NON_SPACE.test(String.fromCodePoint(codePoint));
}

function hexByte(byte: number): string {
  return `\\x${LOWER_HEX[byte >> 4]}${LOWER_HEX[byte & 0xf]}`;
}

function hexDigits(value: number, width: number): string {
  return value.toString(16).padStart(width, "0");
}

/** strconv.appendEscapedRune for a valid code point: `quote` (`"` or `'`) and `\` are backslashed. */
function escapeRune(codePoint: number, quote = 0x22): string {
  if (codePoint === quote || codePoint === 0x5c) return `\\${String.fromCodePoint(codePoint)}`;
  if (isGoPrintable(codePoint)) return String.fromCodePoint(codePoint);
  const short = SHORT_ESCAPES.get(codePoint);
  if (short !== undefined) return short;
  if (codePoint < 0x20 || codePoint === 0x7f) return hexByte(codePoint);
  if (codePoint < 0x10000) return `\\u${hexDigits(codePoint, 4)}`;
  return `\\U${hexDigits(codePoint, 8)}`;
}

/** UTF-8 bytes of a surrogate code unit (WTF-8), as Go would hold them if handed these bytes. */
function loneSurrogateBytes(codeUnit: number): number[] {
  return [0xe0 | (codeUnit >> 12), 0x80 | ((codeUnit >> 6) & 0x3f), 0x80 | (codeUnit & 0x3f)];
}

function isContinuation(byte: number | undefined, low = 0x80, high = 0xbf): boolean {
  return byte !== undefined && byte >= low && byte <= high;
}

/**
 * Go's `utf8.DecodeRune`: returns the code point and its width, or `-1` with width 1 for a byte that does not
 * start a valid, shortest-form, non-surrogate UTF-8 sequence.
 */
function decodeRune(bytes: Uint8Array, at: number): { codePoint: number; width: number } {
  const invalid = { codePoint: -1, width: 1 };
  const b0 = bytes[at] ?? 0;
  const b1 = bytes[at + 1];
  const b2 = bytes[at + 2];
  const b3 = bytes[at + 3];
  if (b0 < 0x80) return { codePoint: b0, width: 1 };
  if (b0 < 0xc2) return invalid;
  if (b0 < 0xe0) {
    if (!isContinuation(b1)) return invalid;
    return { codePoint: ((b0 & 0x1f) << 6) | (b1! & 0x3f), width: 2 };
  }
  if (b0 < 0xf0) {
    const low = b0 === 0xe0 ? 0xa0 : 0x80;
    const high = b0 === 0xed ? 0x9f : 0xbf;
    if (!isContinuation(b1, low, high) || !isContinuation(b2)) return invalid;
    return { codePoint: ((b0 & 0x0f) << 12) | ((b1! & 0x3f) << 6) | (b2! & 0x3f), width: 3 };
  }
  if (b0 < 0xf5) {
    const low = b0 === 0xf0 ? 0x90 : 0x80;
    const high = b0 === 0xf4 ? 0x8f : 0xbf;
    if (!isContinuation(b1, low, high) || !isContinuation(b2) || !isContinuation(b3)) return invalid;
    const codePoint = ((b0 & 0x07) << 18) | ((b1! & 0x3f) << 12) | ((b2! & 0x3f) << 6) | (b3! & 0x3f);
    return { codePoint, width: 4 };
  }
  return invalid;
}

function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  for (let at = 0; at < bytes.length; ) {
    const { codePoint, width } = decodeRune(bytes, at);
    out += codePoint < 0 ? hexByte(bytes[at] ?? 0) : escapeRune(codePoint);
    at += width;
  }
  return `${out}"`;
}

function quoteString(value: string): string {
  let out = '"';
  for (let at = 0; at < value.length; ) {
    const codePoint = value.codePointAt(at) ?? 0;
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      // NB: a lone surrogate cannot come from valid UTF-8. Go would hold it as the WTF-8 bytes ED A0..BF xx, which
      // strconv.Quote prints as three \xNN escapes. We do the same rather than substitute U+FFFD: it keeps the
      // value distinguishable from a real U+FFFD, and PromQL then matches nothing for it.
      out += loneSurrogateBytes(codePoint).map(hexByte).join("");
      at += 1;
      continue;
    }
    out += escapeRune(codePoint);
    at += codePoint > 0xffff ? 2 : 1;
  }
  return `${out}"`;
}

/**
 * Go's `strconv.Quote` (`%q`): a double-quoted string literal with Go escapes and lower-case hex.
 *
 * `"` and `\` are backslashed; BEL BS FF LF CR TAB VT use `\a \b \f \n \r \t \v`; other C0 controls and DEL use
 * `\xNN`; other non-printable runes use `\uNNNN` / `\UNNNNNNNN`; printable Unicode (including `'` and `` ` ``) is
 * kept. Bytes that are not valid UTF-8 (only possible with a `Uint8Array`) print as `\xNN`; a lone UTF-16
 * surrogate in a string prints as the three `\xNN` escapes of its WTF-8 bytes (e.g. U+D800 → `\xed\xa0\x80`).
 */
export function goQuote(value: string | Uint8Array): string {
  return typeof value === "string" ? quoteString(value) : quoteBytes(value);
}

const MAX_RUNE = 0x10ffff;
const REPLACEMENT_CHARACTER = 0xfffd;

/** Go `strconv.QuoteRune` as used by `%q` on an integer: `'a'`, `'\n'`; out-of-range values print as `'�'`. */
export function goQuoteRune(value: number): string {
  const valid = value >= 0 && value <= MAX_RUNE && !(value >= 0xd800 && value <= 0xdfff);
  return `'${escapeRune(valid ? value : REPLACEMENT_CHARACTER, 0x27)}'`;
}

/** Go `%#U`: `U+0041 'A'`, or `U+0001` when not printable. */
export function goUnicodeName(codePoint: number): string {
  const name = `U+${hexDigits(codePoint, 4).toUpperCase()}`;
  return isGoPrintable(codePoint) ? `${name} '${String.fromCodePoint(codePoint)}'` : name;
}
