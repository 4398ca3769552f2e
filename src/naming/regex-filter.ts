/**
 * RE2 regular expressions (Go `regexp` syntax, through re2js) and the `seriesFilters` of a rule (rules/README.md,
 * Discovery). NB: JavaScript's RegExp differs from RE2 (lookaround, backreferences, `(?P<name>)`, leftmost-first
 * semantics), so every user regex goes through re2js.
 */
import { goQuote } from "../golang/strconv.ts";
import { RE2JS } from "re2js";
import type { SeriesFilter } from "../config/schema.ts";
import { NamingError } from "./errors.ts";

/** Compiles a user's RE2 pattern; the error reads `invalid RE2 "<pattern>": <reason>`. */
export function compileRe2(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    const raw = (error as Error).message.replace(/^error parsing regexp: /, "");
    const reason = raw.replace(/: `(.*)`$/s, (whole, fragment: string) => (fragment === pattern ? "" : whole));
    throw new NamingError(`invalid RE2 ${goQuote(pattern)}: ${reason}`);
  }
}

/** True when `regex` matches somewhere in `text` (unanchored, like Go's `MatchString`). */
export function re2Finds(regex: RE2JS, text: string): boolean {
  return regex.matcher(text).find();
}

/** A compiled series filter: keeps a series name or not. */
export type SeriesNamePredicate = (seriesName: string) => boolean;

/** Compiles one `{is}` / `{isNot}` filter, with upstream's exact errors for both or neither key. */
export function compileSeriesFilter(filter: SeriesFilter): SeriesNamePredicate {
  const hasIs = filter.is !== undefined && filter.is !== "";
  const hasIsNot = filter.isNot !== undefined && filter.isNot !== "";
  if (hasIs && hasIsNot) {
    throw new NamingError(
      `cannot have both an \`is\` (${goQuote(filter.is as string)}) and \`isNot\` (${goQuote(filter.isNot as string)}) expression in a single filter`,
    );
  }
  if (!hasIs && !hasIsNot) throw new NamingError("must have either an `is` or `isNot` expression in a filter");
  if (hasIs) {
    const regex = compileRe2(filter.is as string);
    return (name) => re2Finds(regex, name);
  }
  const regex = compileRe2(filter.isNot as string);
  return (name) => !re2Finds(regex, name);
}
