import { describe, expect, test } from "bun:test";
import { createJsonTokenizer, JsonSyntaxError, type JsonHandler } from "./json-tokenizer.ts";

const encoder = new TextEncoder();

/** Records events as short strings; decodes every string value unless `skipValues`. */
function recorder(skipValues = false): JsonHandler & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    openObject: () => events.push("{"),
    closeObject: () => events.push("}"),
    openArray: () => events.push("["),
    closeArray: () => events.push("]"),
    key: (name) => events.push(`k:${name}`),
    wantString: () => !skipValues,
    string: (value) => events.push(value === undefined ? "s:<skipped>" : `s:${value}`),
    number: (value) => events.push(`n:${value}`),
    literal: (value) => events.push(`l:${value}`),
  };
}

/** The events JSON.parse's value implies (keys must not be integer-like: JS reorders those). */
function expectedEvents(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    out.push("[");
    for (const item of value) expectedEvents(item, out);
    out.push("]");
  } else if (value !== null && typeof value === "object") {
    out.push("{");
    for (const [key, item] of Object.entries(value)) {
      out.push(`k:${key}`);
      expectedEvents(item, out);
    }
    out.push("}");
  } else if (typeof value === "string") {
    out.push(`s:${value}`);
  } else if (typeof value === "number") {
    out.push(`n:${value}`);
  } else {
    out.push(`l:${value}`);
  }
  return out;
}

function tokenize(chunks: readonly Uint8Array[], skipValues = false): string[] {
  const handler = recorder(skipValues);
  const tokenizer = createJsonTokenizer(handler);
  for (const chunk of chunks) tokenizer.write(chunk);
  tokenizer.end();
  return handler.events;
}

function syntaxError(text: string | Uint8Array, chunkSize = Number.POSITIVE_INFINITY): JsonSyntaxError {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const tokenizer = createJsonTokenizer(recorder());
  try {
    for (let at = 0; at < bytes.length; at += chunkSize) tokenizer.write(bytes.subarray(at, at + chunkSize));
    tokenizer.end();
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error(`no syntax error for ${JSON.stringify(text)}`);
}

const SAMPLES = {
  "a series answer":
    '{"status":"success","data":[{"__name__":"up","job":"prometheus","instance":"localhost:9090"},{"__name__":"http_requests_total","namespace":"a","pod":"p-1"}]}',
  "an error answer": '{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \\"}\\""}',
  "escapes of every kind": '["q\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t", "\\u00e9\\u20AC\\ud83d\\ude00", "\\u0000"]',
  "raw multi-byte UTF-8": '{"ключ":"значение","emoji":"😀 and 🎉","mixed":"a€b"}',
  "numbers and literals": "[0,-0,1.5,-2.25e-3,1E+2,12345678901234567890,true,false,null]",
  "nesting and empty containers": '{"a":[],"b":{},"c":[[{}],[[]]],"d":{"e":{"f":[1,{"g":null}]}}}',
  "whitespace everywhere": ' \n\t{ "a" : [ 1 , "x" , { } ] ,\r\n "b" : true } \n',
  "a top-level string": '"just a string"',
  "a top-level number": "42",
} as const;

describe("the JSON tokenizer", () => {
  test.each(Object.entries(SAMPLES))("%s gives the events JSON.parse implies", (_, text) => {
    expect(tokenize([encoder.encode(text)])).toEqual(expectedEvents(JSON.parse(text)));
  });

  test.each(Object.entries(SAMPLES))("%s gives the same events split at every byte position", (_, text) => {
    const bytes = encoder.encode(text);
    const expected = expectedEvents(JSON.parse(text));
    for (let split = 0; split <= bytes.length; split++) {
      expect({ split, events: tokenize([bytes.subarray(0, split), bytes.subarray(split)]) }).toEqual({
        split,
        events: expected,
      });
    }
  });

  test.each(Object.entries(SAMPLES))("%s gives the same events split at every pair of positions", (_, text) => {
    const bytes = encoder.encode(text);
    const expected = expectedEvents(JSON.parse(text));
    for (let first = 0; first <= bytes.length; first++) {
      for (let second = first; second <= bytes.length; second++) {
        const events = tokenize([bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)]);
        if (JSON.stringify(events) !== JSON.stringify(expected))
          expect({ first, second, events }).toEqual({ first, second, events: expected });
      }
    }
  });

  test.each(Object.entries(SAMPLES))("%s gives the same events fed one byte at a time", (_, text) => {
    const bytes = encoder.encode(text);
    const chunks = Array.from(bytes, (_, index) => bytes.subarray(index, index + 1));
    expect(tokenize(chunks)).toEqual(expectedEvents(JSON.parse(text)));
  });

  test("a surrogate pair written as two escapes decodes to one code point wherever the chunk boundary falls", () => {
    const bytes = encoder.encode('["\\ud83d\\ude00"]');
    for (let split = 0; split <= bytes.length; split++) {
      const [, value] = tokenize([bytes.subarray(0, split), bytes.subarray(split)]);
      expect(value).toBe("s:😀");
    }
  });

  test("a four-byte UTF-8 character cut inside its bytes decodes whole", () => {
    const bytes = encoder.encode('{"k":"x😀y"}');
    const emojiStart = bytes.indexOf(0xf0);
    for (let split = emojiStart; split <= emojiStart + 4; split++) {
      expect(tokenize([bytes.subarray(0, split), bytes.subarray(split)])).toEqual(["{", "k:k", "s:x😀y", "}"]);
    }
  });

  test("keys are always decoded; a skipped value is reported without its text", () => {
    expect(tokenize([encoder.encode('{"name":"value","n":1}')], true)).toEqual([
      "{",
      "k:name",
      "s:<skipped>",
      "k:n",
      "n:1",
      "}",
    ]);
  });

  test("a skipped string is still validated", () => {
    const handler = { ...recorder(true) };
    const tokenizer = createJsonTokenizer(handler);
    expect(() => tokenizer.write(encoder.encode('["bad \\q escape"]'))).toThrow(JsonSyntaxError);
  });

  test("a repeated key is the same string object each time (interned)", () => {
    const keys: string[] = [];
    const handler = { ...recorder(), key: (name: string) => keys.push(name) };
    const tokenizer = createJsonTokenizer(handler);
    tokenizer.write(encoder.encode('[{"namespace":"a"},{"namespace":"b"},{"names'));
    tokenizer.write(encoder.encode('pace":"c"}]'));
    tokenizer.end();
    expect(keys).toEqual(["namespace", "namespace", "namespace"]);
  });

  test("a huge array of series objects streams through in chunks", () => {
    const count = 200_000;
    let objects = 0;
    let names = 0;
    let lastKey = "";
    const tokenizer = createJsonTokenizer({
      ...recorder(),
      openObject: () => objects++,
      closeObject: () => {},
      key: (name) => (lastKey = name),
      wantString: () => lastKey === "__name__",
      string: (value) => (names += value === undefined ? 0 : 1),
    });
    tokenizer.write(encoder.encode("["));
    const item = encoder.encode('{"__name__":"metric","namespace":"ns","pod":"pod-123456"},');
    const batch = new Uint8Array(item.length * 1000);
    for (let i = 0; i < 1000; i++) batch.set(item, i * item.length);
    for (let i = 0; i < count / 1000 - 1; i++) tokenizer.write(batch);
    tokenizer.write(batch.subarray(0, batch.length - 1));
    tokenizer.write(encoder.encode("]"));
    tokenizer.end();
    expect({ objects, names, bytes: tokenizer.bytesRead }).toEqual({
      objects: count,
      names: count,
      bytes: count * item.length + 1,
    });
  });

  test("a wanted string longer than one chunk is reassembled", () => {
    const long = "ab\\n€".repeat(50_000);
    const bytes = encoder.encode(`["${long}"]`);
    const chunks = [];
    for (let at = 0; at < bytes.length; at += 4093) chunks.push(bytes.subarray(at, at + 4093));
    expect(tokenize(chunks)).toEqual(["[", `s:${JSON.parse(`"${long}"`)}`, "]"]);
  });

  test.each([
    { name: "an empty input", text: "", message: "empty input at byte 0" },
    { name: "only whitespace", text: "  \n", message: "unexpected end of input at byte 3" },
    { name: "an unclosed array", text: "[1,2", message: "unexpected end of input at byte 4" },
    { name: "an unterminated string", text: '{"status":"succ', message: "unexpected end of input at byte 15" },
    { name: "HTML", text: "<html>", message: "unexpected character '<' at byte 0" },
    { name: "a missing colon", text: '{"a" 1}', message: "unexpected character '1', expected ':' at byte 5" },
    { name: "a trailing comma in an array", text: "[1,]", message: "unexpected character ']' at byte 3" },
    {
      name: "a trailing comma in an object",
      text: '{"a":1,}',
      message: "unexpected character '}', expected a key at byte 7",
    },
    { name: "a non-string key", text: "{1:2}", message: "unexpected character '1', expected a key at byte 1" },
    { name: "a missing comma", text: "[1 2]", message: "unexpected character '2' at byte 3" },
    { name: "a mismatched bracket", text: '{"a":[1}', message: "unexpected character '}' at byte 7" },
    {
      name: "data after the value",
      text: '{"a":1}}',
      message: "unexpected character '}' after the JSON value at byte 7",
    },
    { name: "a leading zero", text: "[01]", message: 'invalid number "01" at byte 3' },
    { name: "a bare minus", text: "[-]", message: 'invalid number "-" at byte 2' },
    { name: "a dangling exponent", text: "1e", message: 'invalid number "1e" at byte 2' },
    { name: "a misspelled literal", text: "[tru]", message: "unexpected character ']' at byte 4" },
    { name: "an unknown escape", text: '["a\\xb"]', message: "invalid escape \\x in a string at byte 4" },
    {
      name: "a short \\u escape",
      text: '["\\u12G4"]',
      message: "invalid \\u escape in a string (character 'G') at byte 6",
    },
    {
      name: "a raw newline in a string",
      text: '["a\nb"]',
      message: "unescaped control character 0x0a in a string at byte 3",
    },
    {
      name: "a raw tab in a key",
      text: '{"a\tb":1}',
      message: "unescaped control character 0x09 in a string at byte 3",
    },
  ])("$name is a JsonSyntaxError with the byte offset", ({ text, message }) => {
    expect(syntaxError(text).message).toBe(message);
  });

  test.each([1, 2, 3, 7])("errors are found at the same offset when fed in %d-byte chunks", (chunkSize) => {
    expect(syntaxError('{"data":[{"a":"b"},{"a":"\\x"}]}', chunkSize).offset).toBe(26);
    expect(syntaxError("[1,2,", chunkSize).message).toBe("unexpected end of input at byte 5");
  });

  test("nesting deeper than the limit is refused", () => {
    const tokenizer = createJsonTokenizer(recorder(), { maxDepth: 3 });
    expect(() => tokenizer.write(encoder.encode("[[[[]]]]"))).toThrow("nesting deeper than 3 at byte 3");
  });

  test("a wanted string longer than the limit is refused, a skipped one is not", () => {
    const text = encoder.encode(`["${"x".repeat(100)}"]`);
    expect(() => createJsonTokenizer(recorder(), { maxStringBytes: 50 }).write(text)).toThrow(
      "string longer than 50 bytes",
    );
    const skipping = createJsonTokenizer(recorder(true), { maxStringBytes: 50 });
    skipping.write(text);
    skipping.end();
  });
});
