/**
 * A YAML syntax error as the loader reports it: the parser's message without its repeated position, the source line
 * with a caret under the column, and a hint for the usual causes (a double-quoted metricsQuery with inner quotes is
 * the most common one in real configs).
 */
import type { ConfigIssue } from "./errors.ts";

/**
 * A YAML syntax error as a located issue: the parser's message without its repeated position, the source line
 * with a caret under the column, and a hint for the usual causes.
 */
export function describeSyntaxError(
  code: string,
  message: string,
  sourceLine: string | undefined,
  column: number,
): Pick<ConfigIssue, "message" | "excerpt" | "hint"> {
  const text = firstLine(message)
    .replace(/ at line \d+, column \d+:?$/, "")
    .replace(/:$/, "");
  const hint = syntaxHint(code, message, sourceLine ?? "", column);
  const withHint = hint === undefined ? {} : { hint };
  // NB: an error at the end of the file points at an empty line; the message and hint say enough there.
  if (sourceLine === undefined || sourceLine.trim() === "" || column < 1) return { message: text, ...withHint };
  const caret = sourceLine.slice(0, column - 1).replace(/[^\t]/g, " ") + "^";
  return { message: text, excerpt: `${sourceLine}\n${caret}`, ...withHint };
}

const QUOTED_VALUE = /^(\s*(?:-\s+)?[^\s#:][^#:]*:\s+)(["'])/;

function syntaxHint(code: string, message: string, sourceLine: string, column: number): string | undefined {
  if (code === "TAB_AS_INDENT") return "indent with spaces: YAML does not allow tabs in indentation";
  if (/^Flow (sequence|mapping)/.test(message)) {
    return "a value starting with [ or { is a YAML flow list or mapping: close it, or quote the whole value";
  }
  const quoted = QUOTED_VALUE.exec(sourceLine);
  if (quoted && column > (quoted[1]?.length ?? 0) + 1) {
    return quoted[2] === '"'
      ? 'the value starts with a quote; inner quotes must be escaped (\\"), or use single quotes or a block scalar (|)'
      : "the value starts with a single quote; inner single quotes must be doubled (''), or use a block scalar (|)";
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
