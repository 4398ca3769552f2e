/**
 * Go's string order, which is byte order of the UTF-8 encoding, i.e. code point order. JavaScript's `<` compares
 * UTF-16 code units, which agrees except where a surrogate pair (a code point above U+FFFF) meets a code unit from
 * U+E000 to U+FFFF: Go sorts the pair last. Answers keep Go's order so sorted lists and JSON maps match upstream.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** Orders `[key, value]` entries by key with {@link compareStrings}, as Go's encoding/json orders map keys. */
export function compareEntryKeys(a: readonly [string, unknown], b: readonly [string, unknown]): number {
  return compareStrings(a[0], b[0]);
}
