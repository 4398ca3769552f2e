/**
 * Series name -> API metric name: `seriesFilters`, then `name.matches` / `name.as` with Go `Regexp.Expand` semantics
 * (rules/README.md: Discovery, Naming).
 */
import { goQuote } from "../golang/strconv.ts";
import type { RE2JS } from "re2js";
import type { DiscoveryRule } from "../config/schema.ts";
import { NamingError } from "./errors.ts";
import { compileRe2, compileSeriesFilter, re2Finds, type SeriesNamePredicate } from "./regex-filter.ts";

export interface MetricNamer {
  /** The rule's `seriesQuery`, sent verbatim as `match[]`. */
  readonly seriesQuery: string;
  /** Startup warnings about this rule's naming (e.g. the `$1_per_second` trap). */
  readonly warnings: readonly string[];
  /** True when the series passes every `seriesFilters` entry and the implicit `is` filter of a non-empty `name.matches`. */
  keepsSeries(seriesName: string): boolean;
  /** The API metric name for a series; may be `""` (callers skip it). Throws NamingError when `matches` does not match. */
  metricNameForSeries(seriesName: string): string;
}

/** Compiles a rule's filters and naming. Throws NamingError with `field` set to the offending part. */
export function createMetricNamer(rule: Pick<DiscoveryRule, "seriesQuery" | "seriesFilters" | "name">): MetricNamer {
  const filters: SeriesNamePredicate[] = rule.seriesFilters.map((filter, index) => {
    try {
      return compileSeriesFilter(filter);
    } catch (error) {
      const key =
        filter.is !== undefined && filter.isNot === undefined
          ? ".is"
          : filter.isNot !== undefined && filter.is === undefined
            ? ".isNot"
            : "";
      throw new NamingError((error as Error).message, `seriesFilters[${index}]${key}`);
    }
  });

  const matchesText = rule.name.matches;
  let matcher: RE2JS;
  try {
    matcher = compileRe2(matchesText === "" ? ".*" : matchesText);
  } catch (error) {
    throw new NamingError((error as Error).message, "name.matches");
  }
  if (matchesText !== "") filters.push((name) => re2Finds(matcher, name));

  let template = rule.name.as;
  if (template === "") {
    const groups = matcher.groupCount();
    if (groups === 0) template = "$0";
    else if (groups === 1) template = "$1";
    else {
      throw new NamingError(
        `must specify an 'as' value for name matcher ${goQuote(matchesText)} associated with series query ${goQuote(rule.seriesQuery)}`,
        "name.as",
      );
    }
  }

  const warnings: string[] = [];
  const trap = /\$(\d+)([A-Za-z_][A-Za-z0-9_]*)/.exec(rule.name.as);
  if (trap) {
    warnings.push(
      `name.as ${goQuote(rule.name.as)}: "$${trap[1]}${trap[2]}" names the group "${trap[1]}${trap[2]}", which expands to nothing; write "\${${trap[1]}}${trap[2]}"`,
    );
  }

  const groupNames = matcher.namedGroups() as Record<string, number>;
  return {
    seriesQuery: rule.seriesQuery,
    warnings,
    keepsSeries: (seriesName) => filters.every((keep) => keep(seriesName)),
    metricNameForSeries(seriesName) {
      const match = matcher.matcher(seriesName);
      if (!match.find()) {
        throw new NamingError(
          `series name ${goQuote(seriesName)} did not match expected pattern ${goQuote(matchesText)}`,
        );
      }
      const groupText = (index: number): string => (index <= matcher.groupCount() ? (match.group(index) ?? "") : "");
      return expandGoTemplate(template, (name, number) => {
        if (number >= 0) return groupText(number);
        const index = groupNames[name];
        return index === undefined ? "" : groupText(index);
      });
    },
  };
}

/**
 * Go's `Regexp.Expand`: `$$` is `$`; `$name` takes the LONGEST run of letters, digits and `_` as the group name
 * (so `$1_per_second` is group `1_per_second`); `${name}` is braced; an all-digit name without a leading zero is a
 * group number; a malformed reference leaves the `$` as text. `lookup(name, number)` returns a group's text, with
 * `number` -1 for named references.
 */
export function expandGoTemplate(template: string, lookup: (name: string, number: number) => string): string {
  let out = "";
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf("$");
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith("$")) {
      out += "$";
      rest = rest.slice(1);
      continue;
    }
    const reference = extractReference(rest);
    if (!reference) {
      out += "$";
      continue;
    }
    rest = reference.rest;
    out += lookup(reference.name, reference.number);
  }
  return out + rest;
}

const NAME_RUN = /^[\p{L}\p{Nd}_]+/u;

function extractReference(text: string): { name: string; number: number; rest: string } | null {
  const braced = text.startsWith("{");
  const body = braced ? text.slice(1) : text;
  const run = NAME_RUN.exec(body);
  if (!run) return null;
  const name = run[0];
  let consumed = name.length;
  if (braced) {
    if (body[consumed] !== "}") return null;
    consumed += 1;
  }
  let number = /^[0-9]+$/.test(name) && name.length <= 9 ? Number(name) : -1;
  if (name.length > 1 && name.startsWith("0")) number = -1;
  return { name, number, rest: body.slice(consumed) };
}
