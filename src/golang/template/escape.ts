/**
 * The escaping builtins of Go text/template: `html` (template.HTMLEscapeString), `js` (template.JSEscapeString)
 * and `urlquery` (url.QueryEscape), each applied to its arguments as Go's evalArgs joins them.
 */
import { goSprint } from "./format.ts";
import { isGoPrintable } from "../strconv.ts";
import type { TemplateValue } from "./values.ts";

const UTF8_ENCODER = new TextEncoder();
const UPPER_HEX = "0123456789ABCDEF";

/**
 * Go's evalArgs: a lone string argument as is, anything else as fmt.Sprint of all the arguments, where nil (or a
 * missing map key) reads as the string `<no value>`.
 */
export function joinArguments(values: readonly TemplateValue[]): string {
  const [only] = values;
  if (values.length === 1 && typeof only === "string") return only;
  return goSprint(values.map((value) => value ?? "<no value>"));
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "\0": "\uFFFD",
  '"': "&#34;",
  "'": "&#39;",
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
};

/** Go template.HTMLEscapeString. */
export function htmlEscape(text: string): string {
  return text.replace(/[\0"'&<>]/g, (char) => HTML_ESCAPES[char] ?? char);
}

const JS_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  "'": "\\'",
  '"': '\\"',
  "<": "\\u003C",
  ">": "\\u003E",
  "&": "\\u0026",
  "=": "\\u003D",
};

function hex4(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, "0");
}

/** Go template.JSEscapeString: quotes, `\ < > & =` and control characters escaped; non-printable runes as \uXXXX. */
export function jsEscape(text: string): string {
  let out = "";
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    const named = JS_ESCAPES[char];
    if (named !== undefined) out += named;
    else if (codePoint < 0x20) out += "\\u00" + UPPER_HEX[codePoint >> 4] + UPPER_HEX[codePoint & 15];
    else if (codePoint < 0x80 || isGoPrintable(codePoint)) out += char;
    else out += "\\u" + hex4(codePoint);
  }
  return out;
}

/** Go url.QueryEscape: letters, digits and `-_.~` kept, space as `+`, every other byte as %XX. */
export function urlQueryEscape(text: string): string {
  let out = "";
  for (const byte of UTF8_ENCODER.encode(text)) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(char)) out += char;
    else if (byte === 0x20) out += "+";
    else out += "%" + UPPER_HEX[byte >> 4] + UPPER_HEX[byte & 15];
  }
  return out;
}
