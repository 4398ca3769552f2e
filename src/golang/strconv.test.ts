import { describe, expect, test } from "bun:test";
import { bytesFromHex, createRandom, randomString, unquoteGo, wtf8 } from "../../test/support/go-strings.ts";
import { goQuote, isGoPrintable } from "./strconv.ts";
import { labelMatcher, type MatchOperator } from "../naming/promql.ts";
import { vectorFileCases } from "../../test/support/vectors.ts";

type EscapingInput =
  | { kind: "quote"; value: string }
  | { kind: "quote"; valueBytesHex: string }
  | { kind: "matcher"; label: string; operator: MatchOperator; value: string };

interface EscapingVector {
  name: string;
  input: EscapingInput;
  expected: string;
}

const vectors = vectorFileCases<EscapingVector>("escaping.json");

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
