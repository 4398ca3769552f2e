/** Go string helpers for tests: WTF-8 encoding, a strconv.Unquote subset, and a seeded random string generator. */

export function bytesFromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** UTF-8 for one code point; surrogate code points get their 3-byte (WTF-8) form. */
export function encodeCodePoint(codePoint: number, into: number[]): void {
  if (codePoint < 0x80) into.push(codePoint);
  else if (codePoint < 0x800) into.push(0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f));
  else if (codePoint < 0x10000) {
    into.push(0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f));
  } else {
    into.push(
      0xf0 | (codePoint >> 18),
      0x80 | ((codePoint >> 12) & 0x3f),
      0x80 | ((codePoint >> 6) & 0x3f),
      0x80 | (codePoint & 0x3f),
    );
  }
}

/** WTF-8 bytes of a JavaScript string (UTF-8, with lone surrogates encoded as 3 bytes). */
export function wtf8(value: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of value) encodeCodePoint(char.codePointAt(0) ?? 0, bytes);
  return Uint8Array.from(bytes);
}

const SIMPLE_UNESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '"': 34, "\\": 92 };

/** A small Go double-quoted string literal decoder (strconv.Unquote subset); returns the raw bytes. */
export function unquoteGo(literal: string): Uint8Array {
  if (literal.length < 2 || !literal.startsWith('"') || !literal.endsWith('"')) throw new Error("not quoted");
  const bytes: number[] = [];
  const body = literal.slice(1, -1);
  const hexAt = (from: number, width: number) => {
    const digits = body.slice(from, from + width);
    if (!new RegExp(`^[0-9a-f]{${width}}$`).test(digits)) throw new Error(`bad hex escape ${digits}`);
    return Number.parseInt(digits, 16);
  };
  for (let at = 0; at < body.length; ) {
    const char = body[at];
    if (char === '"') throw new Error("unescaped quote");
    if (char !== "\\") {
      const codePoint = body.codePointAt(at) ?? 0;
      encodeCodePoint(codePoint, bytes);
      at += codePoint > 0xffff ? 2 : 1;
      continue;
    }
    const kind = body[at + 1] ?? "";
    const simple = SIMPLE_UNESCAPES[kind];
    if (simple !== undefined) {
      bytes.push(simple);
      at += 2;
    } else if (kind === "x") {
      bytes.push(hexAt(at + 2, 2));
      at += 4;
    } else if (kind === "u") {
      encodeCodePoint(hexAt(at + 2, 4), bytes);
      at += 6;
    } else if (kind === "U") {
      encodeCodePoint(hexAt(at + 2, 8), bytes);
      at += 10;
    } else {
      throw new Error(`unknown escape \\${kind}`);
    }
  }
  return Uint8Array.from(bytes);
}

/** Deterministic PRNG (mulberry32). */
export function createRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % limit) as number;
  };
}

export function randomString(random: (limit: number) => number): string {
  const length = random(12);
  let out = "";
  for (let i = 0; i < length; i++) {
    switch (random(8)) {
      case 0:
        out += String.fromCharCode(random(0x20)); // C0 controls
        break;
      case 1:
        out += String.fromCharCode(0x7f + random(0x41)); // DEL, C1, Latin-1
        break;
      case 2:
        out += String.fromCharCode(0xd800 + random(0x800)); // lone surrogates
        break;
      case 3:
        out += String.fromCodePoint(0x10000 + random(0x100000)); // astral planes
        break;
      case 4:
        out += String.fromCharCode(random(0x10000)); // anything in the BMP
        break;
      case 5:
        out += ['"', "\\", "'", "`", " ", "|"][random(6)];
        break;
      default:
        out += String.fromCharCode(0x20 + random(0x5f)); // printable ASCII
    }
  }
  return out;
}
