/**
 * Parsing of Prometheus sample value strings (the second element of `[timestamp, "value"]` in query results).
 *
 * Prometheus formats samples with Go's `strconv.FormatFloat(v, 'f', -1, 64)`, which yields plain decimals and the
 * special values `NaN`, `+Inf` and `-Inf`. We accept what Go's `strconv.ParseFloat` accepts for decimal input.
 */
import type { PromQL } from "../naming/promql.ts";
import type { QueryResult } from "./types.ts";

/** A query result holds a sample value that is not a float: Prometheus (or what stands in for it) misbehaved. */
export class UnparsableSampleError extends Error {
  override readonly name = "UnparsableSampleError";
}

/**
 * Checks that every sample value of `result` parses (vector, matrix and scalar; a string result is text by nature).
 * Run where a result enters the adapter (the query cache's fetch, the resource provider's queries), so a bad answer
 * fails like an unreachable Prometheus ("unable to fetch metrics", cause logged) and is never cached.
 * @throws UnparsableSampleError naming the value and the query.
 */
export function checkSampleValues(result: QueryResult, query: PromQL): void {
  const check = (text: string) => {
    try {
      parseSampleValue(text);
    } catch (error) {
      throw new UnparsableSampleError(`${(error as Error).message} in the result of ${query}`, { cause: error });
    }
  };
  if (result.resultType === "vector") for (const sample of result.result) check(sample.value);
  else if (result.resultType === "matrix") {
    for (const series of result.result) for (const point of series.values) check(point.value);
  } else if (result.resultType === "scalar") check(result.result.value);
}

/** Decimal float syntax of Go's ParseFloat: sign, digits with an optional point (at least one digit), exponent. */
const DECIMAL_FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** `inf` / `infinity` with an optional sign, case-insensitive (Go's `special`). */
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

/** `nan`, case-insensitive; Go accepts no sign on NaN. */
const NOT_A_NUMBER = /^nan$/i;

/**
 * Parses a Prometheus sample value string into a float64.
 *
 * Accepts decimal and exponent forms (`"0.65"`, `"1e9"`, `"-0"`, `".5"`, `"1."`), `"NaN"`, and `"+Inf"`, `"-Inf"`,
 * `"Inf"`, `"Infinity"` in any letter case, exactly like Go's `strconv.ParseFloat(s, 64)` for base-10 input.
 * NB: `Number("+Inf")` is NaN and `Number("")` is 0 in JavaScript, hence the explicit grammar.
 *
 * @throws Error when the text is not a float, and (as Go's ErrRange) when a finite literal overflows float64.
 */
export function parseSampleValue(text: string): number {
  if (NOT_A_NUMBER.test(text)) return Number.NaN;
  const infinity = INFINITY.exec(text);
  if (infinity) return infinity[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (!DECIMAL_FLOAT.test(text)) {
    throw new Error(`invalid sample value ${JSON.stringify(text)}: not a float`);
  }
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new Error(`invalid sample value ${JSON.stringify(text)}: value out of range`);
  }
  return value;
}
