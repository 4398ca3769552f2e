import { describe, expect, test } from "bun:test";
import { goQuote, isGoPrintable, labelMatcher, type MatchOperator } from "./promql-quote.ts";

type EscapingInput =
  | { kind: "quote"; value: string }
  | { kind: "quote"; valueBytesHex: string }
  | { kind: "matcher"; label: string; operator: MatchOperator; value: string };

interface EscapingVector {
  name: string;
  input: EscapingInput;
  expected: string;
}

const vectorFile = Bun.file(new URL("../../../shared/spec/vectors/escaping.json", import.meta.url));
const vectors = ((await vectorFile.json()) as { cases: EscapingVector[] }).cases;

function bytesFromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** UTF-8 for one code point; surrogate code points get their 3-byte (WTF-8) form. */
function encodeCodePoint(codePoint: number, into: number[]): void {
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
function wtf8(value: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of value) encodeCodePoint(char.codePointAt(0) ?? 0, bytes);
  return Uint8Array.from(bytes);
}

const SIMPLE_UNESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '"': 34, "\\": 92 };

/** A small Go double-quoted string literal decoder (strconv.Unquote subset); returns the raw bytes. */
function unquoteGo(literal: string): Uint8Array {
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
function createRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % limit) as number;
  };
}

function randomString(random: (limit: number) => number): string {
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

const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /\p{Surrogate}/u;

describe("escaping.json vectors", () => {
  test.each(vectors.map((vector) => [vector.name, vector] as const))("%s", (_name, vector) => {
    const input = vector.input;
    if (input.kind === "matcher") {
      expect(labelMatcher(input.label, input.operator, input.value)).toBe(vector.expected);
    } else if ("valueBytesHex" in input) {
      expect(goQuote(bytesFromHex(input.valueBytesHex))).toBe(vector.expected);
    } else {
      expect(goQuote(input.value)).toBe(vector.expected);
      expect(goQuote(new TextEncoder().encode(input.value))).toBe(vector.expected);
    }
  });
});

describe("goQuote", () => {
  test.each([
    ["lone high surrogate prints its WTF-8 bytes", "a\ud800b", '"a\\xed\\xa0\\x80b"'],
    ["lone low surrogate prints its WTF-8 bytes", "\udfff", '"\\xed\\xbf\\xbf"'],
    ["reversed surrogate pair is two lone surrogates", "\ude00\ud83d", '"\\xed\\xb8\\x80\\xed\\xa0\\xbd"'],
    ["a real U+FFFD is printable and kept", "\ufffd", '"\ufffd"'],
    ["unassigned code point uses \\u", "\u0378", '"\\u0378"'],
    ["supplementary noncharacter uses \\U", "\u{10ffff}", '"\\U0010ffff"'],
    ["combining mark is kept", "e\u0301", '"e\u0301"'],
    ["line feed inside text", "a\nb", '"a\\nb"'],
  ] as const)("%s", (_name, value, expected) => {
    expect(goQuote(value)).toBe(expected);
  });

  test.each([
    ["truncated two-byte sequence", "c3", '"\\xc3"'],
    ["overlong encoding of '/'", "c0af", '"\\xc0\\xaf"'],
    ["encoded surrogate U+D800", "eda080", '"\\xed\\xa0\\x80"'],
    ["code point above U+10FFFF", "f4908080", '"\\xf4\\x90\\x80\\x80"'],
    ["stray continuation byte", "80", '"\\x80"'],
    ["valid four-byte emoji", "f09f9880", '"\u{1f600}"'],
    ["valid encoding of U+FFFD", "efbfbd", '"\ufffd"'],
    ["invalid byte between valid runes", "e697a5ff", '"\u65e5\\xff"'],
  ] as const)("bytes: %s", (_name, hex, expected) => {
    expect(goQuote(bytesFromHex(hex))).toBe(expected);
  });

  test("classifies printable runes like Go's unicode.IsPrint", () => {
    expect(isGoPrintable(0x20)).toBe(true);
    expect(isGoPrintable(0x7e)).toBe(true);
    expect(isGoPrintable(0x7f)).toBe(false);
    expect(isGoPrintable(0xa0)).toBe(false);
    expect(isGoPrintable(0xa1)).toBe(true);
    expect(isGoPrintable(0xad)).toBe(false);
    expect(isGoPrintable(0x2028)).toBe(false);
    expect(isGoPrintable(0x3000)).toBe(false);
    expect(isGoPrintable(0x1f600)).toBe(true);
  });

  test("random strings quote to a literal without raw controls that decodes to the same bytes", () => {
    const random = createRandom(20240501);
    for (let i = 0; i < 4000; i++) {
      const value = randomString(random);
      const quoted = goQuote(value);
      expect(quoted.startsWith('"') && quoted.endsWith('"') && quoted.length >= 2).toBe(true);
      expect(RAW_CONTROL.test(quoted)).toBe(false);
      expect(LONE_SURROGATE.test(quoted)).toBe(false);
      const decoded = unquoteGo(quoted);
      expect(decoded).toEqual(wtf8(value));
      if (!LONE_SURROGATE.test(value)) {
        expect(new TextDecoder("utf-8", { fatal: true }).decode(decoded)).toBe(value);
        expect(goQuote(new TextEncoder().encode(value))).toBe(quoted);
      }
    }
  });

  test("random bytes quote to a literal that decodes to the same bytes", () => {
    const random = createRandom(7);
    for (let i = 0; i < 3000; i++) {
      const bytes = Uint8Array.from({ length: random(10) }, () => random(256));
      const quoted = goQuote(bytes);
      expect(RAW_CONTROL.test(quoted)).toBe(false);
      expect(unquoteGo(quoted)).toEqual(bytes);
    }
  });
});

describe("labelMatcher", () => {
  test.each([
    ["=", 'l="v"'],
    ["!=", 'l!="v"'],
    ["=~", 'l=~"v"'],
    ["!~", 'l!~"v"'],
  ] as const)("joins label, %s and the quoted value", (op, expected) => {
    expect(labelMatcher("l", op, "v")).toBe(expected);
  });
});
