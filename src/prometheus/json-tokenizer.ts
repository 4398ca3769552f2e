/**
 * An incremental (push) JSON tokenizer over UTF-8 bytes: feed it the chunks of a response body as they arrive and it
 * reports structural events to a handler, holding nothing but the current token. It validates the whole grammar
 * (RFC 8259): structure, string escapes, control characters, numbers, literals and trailing data.
 *
 * Strings are only turned into JS strings when the handler asks for them ({@link JsonHandler.wantString}); the others
 * are validated and skipped without allocating. Keys and wanted strings of up to 64 bytes are interned, so a key seen a
 * million times is one string (and Map lookups on it reuse its cached hash).
 *
 * NB: over 350 lines on purpose: it is one byte-level state machine in one closure, so the hot loop's state stays in
 * local variables rather than behind calls across modules.
 */

/** The input is not valid JSON. `offset` is the byte position (0-based, across all chunks) where it went wrong. */
export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

/** Receives the tokenizer's events in document order. Throwing from a method stops the tokenizer (the error propagates). */
export interface JsonHandler {
  openObject(): void;
  closeObject(): void;
  openArray(): void;
  closeArray(): void;
  /** An object key, decoded. */
  key(name: string): void;
  /** A string value is starting: return true to receive it decoded, false to have it validated and skipped. */
  wantString(): boolean;
  /** A string value: the decoded text, or `undefined` when {@link wantString} returned false. */
  string(value: string | undefined): void;
  number(value: number): void;
  /** `true`, `false` or `null`. */
  literal(value: boolean | null): void;
}

/** A running tokenizer for one JSON document. */
export interface JsonTokenizer {
  /** Tokenizes the next chunk. Throws {@link JsonSyntaxError} at the first invalid byte. */
  write(chunk: Uint8Array): void;
  /** Declares the input complete. Throws {@link JsonSyntaxError} when the document is unfinished or empty. */
  end(): void;
  /** Bytes consumed so far. */
  readonly bytesRead: number;
}

/** Options of {@link createJsonTokenizer}. */
export interface JsonTokenizerOptions {
  /** Deepest nesting of arrays and objects accepted. Default 512. */
  readonly maxDepth?: number;
  /** Longest decoded string (key or wanted value) in bytes; skipped strings are unbounded. Default 16 MiB. */
  readonly maxStringBytes?: number;
}

// Parser states.
const VALUE = 0; // a value must come (top level, after ':' or after ',' in an array)
const VALUE_OR_CLOSE = 1; // after '['
const KEY_OR_CLOSE = 2; // after '{'
const KEY = 3; // after ',' in an object
const COLON = 4;
const AFTER_VALUE = 5; // ',' or the container's closing bracket
const STRING = 6;
const NUMBER = 7;
const LITERAL = 8;
const DONE = 9; // the top-level value is complete

// Escape sub-states inside a string.
const ESC_NONE = 0;
const ESC_BACKSLASH = 1;
// 2..5: that many hex digits of a \uXXXX escape still to come (5 = four to come)

const IN_OBJECT = 1;
const IN_ARRAY = 2;

const LITERALS: readonly { readonly bytes: Uint8Array; readonly value: boolean | null }[] = [
  { bytes: new TextEncoder().encode("true"), value: true },
  { bytes: new TextEncoder().encode("false"), value: false },
  { bytes: new TextEncoder().encode("null"), value: null },
];
const NUMBER_SYNTAX = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const INTERN_MAX_BYTES = 64;
const INTERN_SLOTS = 8192; // power of two
const INTERN_PROBES = 8;

/** Creates a tokenizer reporting to `handler`. */
export function createJsonTokenizer(
  handler: JsonHandler,
  { maxDepth = 512, maxStringBytes = 16 * 1024 * 1024 }: JsonTokenizerOptions = {},
): JsonTokenizer {
  const decoder = new TextDecoder();
  const containers = new Uint8Array(maxDepth + 1);
  let depth = 0;
  let state: number = VALUE;
  let offset = 0; // bytes consumed before the current chunk

  // String state.
  let stringIsKey = false;
  let stringDecoded = false;
  let escapeState = ESC_NONE;
  let stringHasEscape = false;
  let stringContinued = false; // the decoded string began in an earlier chunk; its bytes so far are in `pending`
  let segmentStart = 0; // where the unsaved bytes of the current decoded string begin in the current chunk
  let pending = new Uint8Array(256); // bytes of a decoded string that spans chunks
  let pendingLength = 0;

  // Number and literal state.
  let numberText = "";
  let literal = LITERALS[0]!;
  let literalAt = 0;

  // Interning table (open addressing, fixed size: memory stays bounded whatever the input).
  const internBytes: (Uint8Array | undefined)[] = new Array(INTERN_SLOTS);
  const internText: string[] = new Array(INTERN_SLOTS);

  const fail = (message: string, at: number): never => {
    throw new JsonSyntaxError(message, at);
  };
  const describe = (byte: number) =>
    byte >= 0x20 && byte < 0x7f
      ? `character '${String.fromCharCode(byte)}'`
      : `byte 0x${byte.toString(16).padStart(2, "0")}`;

  function intern(bytes: Uint8Array, start: number, end: number): string {
    const length = end - start;
    if (length > INTERN_MAX_BYTES) return decoder.decode(bytes.subarray(start, end));
    let hash = 0x811c9dc5 ^ length;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    for (let probe = 0; probe < INTERN_PROBES; probe++) {
      const slot = (hash + probe) & (INTERN_SLOTS - 1);
      const known = internBytes[slot];
      if (known === undefined) {
        const text = decoder.decode(bytes.subarray(start, end));
        internBytes[slot] = bytes.slice(start, end);
        internText[slot] = text;
        return text;
      }
      if (known.length === length && sameBytes(known, bytes, start)) return internText[slot]!;
    }
    return decoder.decode(bytes.subarray(start, end));
  }

  function appendPending(bytes: Uint8Array, start: number, end: number, at: number): void {
    const needed = pendingLength + (end - start);
    if (needed > maxStringBytes) fail(`string longer than ${maxStringBytes} bytes`, at);
    if (needed > pending.length) {
      const grown = new Uint8Array(Math.max(needed, pending.length * 2));
      grown.set(pending.subarray(0, pendingLength));
      pending = grown;
    }
    pending.set(bytes.subarray(start, end), pendingLength);
    pendingLength = needed;
  }

  /** The decoded text of a finished string whose raw bytes (between the quotes) are `bytes[start, end)`. */
  function finishString(bytes: Uint8Array, start: number, end: number): string {
    if (!stringHasEscape) return intern(bytes, start, end);
    // NB: the escapes were validated while scanning, so JSON.parse cannot fail; it handles \uXXXX pairs exactly.
    return JSON.parse(`"${decoder.decode(bytes.subarray(start, end))}"`) as string;
  }

  function emitString(value: string | undefined): void {
    if (stringIsKey) {
      handler.key(value as string);
      state = COLON;
    } else {
      handler.string(value);
      valueDone();
    }
  }

  function valueDone(): void {
    state = depth === 0 ? DONE : AFTER_VALUE;
  }

  function finishNumber(at: number): void {
    if (!NUMBER_SYNTAX.test(numberText)) fail(`invalid number ${JSON.stringify(numberText)}`, at);
    handler.number(Number(numberText));
    numberText = "";
    valueDone();
  }

  /** Starts the value whose first byte is `byte`; returns the index after what it consumed. */
  function startValue(chunk: Uint8Array, i: number): number {
    const byte = chunk[i]!;
    if (byte === 0x22) {
      stringIsKey = false;
      stringDecoded = handler.wantString();
      escapeState = ESC_NONE;
      stringHasEscape = false;
      stringContinued = false;
      pendingLength = 0;
      state = STRING;
      segmentStart = i + 1;
      return i + 1;
    }
    if (byte === 0x7b) {
      if (depth === maxDepth) fail(`nesting deeper than ${maxDepth}`, offset + i);
      containers[++depth] = IN_OBJECT;
      handler.openObject();
      state = KEY_OR_CLOSE;
      return i + 1;
    }
    if (byte === 0x5b) {
      if (depth === maxDepth) fail(`nesting deeper than ${maxDepth}`, offset + i);
      containers[++depth] = IN_ARRAY;
      handler.openArray();
      state = VALUE_OR_CLOSE;
      return i + 1;
    }
    if (byte === 0x2d || (byte >= 0x30 && byte <= 0x39)) {
      numberText = "";
      state = NUMBER;
      return i;
    }
    for (const candidate of LITERALS) {
      if (candidate.bytes[0] === byte) {
        literal = candidate;
        literalAt = 1;
        state = LITERAL;
        return i + 1;
      }
    }
    return fail(`unexpected ${describe(byte)}`, offset + i);
  }

  function close(byte: number, at: number): void {
    const expected = containers[depth] === IN_OBJECT ? 0x7d : 0x5d;
    if (byte !== expected) fail(`unexpected ${describe(byte)}`, at);
    depth--;
    if (expected === 0x7d) handler.closeObject();
    else handler.closeArray();
    valueDone();
  }

  function write(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    segmentStart = 0;
    while (i < n) {
      switch (state) {
        case STRING: {
          if (escapeState === ESC_NONE) {
            let j = i;
            let byte = 0;
            while (j < n) {
              byte = chunk[j]!;
              if (byte === 0x22 || byte === 0x5c || byte < 0x20) break;
              j++;
            }
            if (j === n) {
              i = n;
              break;
            }
            if (byte < 0x20)
              fail(`unescaped control character 0x${byte.toString(16).padStart(2, "0")} in a string`, offset + j);
            if (byte === 0x5c) {
              stringHasEscape = true;
              escapeState = ESC_BACKSLASH;
              i = j + 1;
              break;
            }
            // The closing quote.
            if (!stringDecoded) {
              emitString(undefined);
            } else if (!stringContinued) {
              if (j - segmentStart > maxStringBytes) fail(`string longer than ${maxStringBytes} bytes`, offset + j);
              emitString(finishString(chunk, segmentStart, j));
            } else {
              appendPending(chunk, segmentStart, j, offset + j);
              emitString(finishString(pending, 0, pendingLength));
            }
            i = j + 1;
            break;
          }
          const byte = chunk[i]!;
          if (escapeState === ESC_BACKSLASH) {
            if (byte === 0x75) escapeState = 5;
            else if (
              byte === 0x22 ||
              byte === 0x5c ||
              byte === 0x2f ||
              byte === 0x62 ||
              byte === 0x66 ||
              byte === 0x6e ||
              byte === 0x72 ||
              byte === 0x74
            )
              escapeState = ESC_NONE;
            else fail(`invalid escape \\${String.fromCharCode(byte)} in a string`, offset + i);
          } else {
            const hex =
              (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
            if (!hex) fail(`invalid \\u escape in a string (${describe(byte)})`, offset + i);
            escapeState = escapeState === 2 ? ESC_NONE : escapeState - 1;
          }
          i++;
          break;
        }
        case AFTER_VALUE: {
          const byte = chunk[i]!;
          if (byte === 0x2c) {
            state = containers[depth] === IN_OBJECT ? KEY : VALUE;
            i++;
          } else if (byte === 0x7d || byte === 0x5d) {
            close(byte, offset + i);
            i++;
          } else if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) {
            i++;
          } else {
            fail(`unexpected ${describe(byte)}`, offset + i);
          }
          break;
        }
        case KEY:
        case KEY_OR_CLOSE: {
          const byte = chunk[i]!;
          if (byte === 0x22) {
            stringIsKey = true;
            stringDecoded = true;
            escapeState = ESC_NONE;
            stringHasEscape = false;
            pendingLength = 0;
            stringContinued = false;
            state = STRING;
            segmentStart = i + 1;
          } else if (byte === 0x7d && state === KEY_OR_CLOSE) {
            close(byte, offset + i);
          } else if (!(byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09)) {
            fail(`unexpected ${describe(byte)}, expected a key`, offset + i);
          }
          i++;
          break;
        }
        case COLON: {
          const byte = chunk[i]!;
          if (byte === 0x3a) state = VALUE;
          else if (!(byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09))
            fail(`unexpected ${describe(byte)}, expected ':'`, offset + i);
          i++;
          break;
        }
        case VALUE:
        case VALUE_OR_CLOSE: {
          const byte = chunk[i]!;
          if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) {
            i++;
          } else if (byte === 0x5d && state === VALUE_OR_CLOSE) {
            close(byte, offset + i);
            i++;
          } else {
            i = startValue(chunk, i);
          }
          break;
        }
        case NUMBER: {
          const byte = chunk[i]!;
          if (
            (byte >= 0x30 && byte <= 0x39) ||
            byte === 0x2d ||
            byte === 0x2b ||
            byte === 0x2e ||
            byte === 0x65 ||
            byte === 0x45
          ) {
            if (numberText.length > 64) fail("number too long", offset + i);
            numberText += String.fromCharCode(byte);
            i++;
          } else {
            finishNumber(offset + i);
          }
          break;
        }
        case LITERAL: {
          const byte = chunk[i]!;
          if (byte !== literal.bytes[literalAt]) fail(`unexpected ${describe(byte)}`, offset + i);
          literalAt++;
          i++;
          if (literalAt === literal.bytes.length) {
            handler.literal(literal.value);
            valueDone();
          }
          break;
        }
        default: {
          // DONE
          const byte = chunk[i]!;
          if (!(byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09))
            fail(`unexpected ${describe(byte)} after the JSON value`, offset + i);
          i++;
        }
      }
    }
    if (state === STRING && stringDecoded) {
      appendPending(chunk, segmentStart, n, offset + n);
      stringContinued = true;
    }
    offset += n;
  }

  return {
    write,
    end() {
      if (state === NUMBER) finishNumber(offset);
      if (state !== DONE)
        fail(state === VALUE && depth === 0 && offset === 0 ? "empty input" : "unexpected end of input", offset);
    },
    get bytesRead() {
      return offset;
    },
  };
}

function sameBytes(known: Uint8Array, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < known.length; i++) if (known[i] !== bytes[start + i]) return false;
  return true;
}
