/**
 * PromQL matchers for a parsed label selector (a rule's `metricLabelSelector`), built like upstream
 * prometheus-adapter's naming/metrics_query.go.
 */
import type { Requirement } from "../apimachinery/labels/selector.ts";
import { SelectorMatcherError } from "../apimachinery/labels/conversions.ts";
import { labelMatcher, type MatchOperator } from "./promql.ts";

/** PromQL matchers for a metricLabelSelector, in requirement order, plus the target value per label name. */
export interface SelectorMatchers {
  /** e.g. `verb="GET"`, `pod=~"a|b"`, `canary!=""`. */
  readonly matchers: string[];
  /** Matcher value by label name (`"a|b"` for sets, `""` for exists / does-not-exist); the last one wins. */
  readonly labelValuesByName: Record<string, string>;
}

function matcherOperator(requirement: Requirement): MatchOperator {
  const single = requirement.values.length === 1;
  switch (requirement.operator) {
    case "=":
    case "==":
      return single ? "=" : "=~";
    case "!=":
      return single ? "!=" : "!~";
    case "in":
      return "=~";
    case "notin":
      return "!~";
    case "exists":
      return "!=";
    case "!":
      return "=";
    default:
      throw new SelectorMatcherError("operator not supported by prometheus");
  }
}

/**
 * Converts requirements to PromQL matchers: `=`/`==` → `l="v"` (`=~` for several values), `!=` → `l!="v"`
 * (`!~`), `in` → `l=~"v1|v2"`, `notin` → `l!~"…"`, exists → `l!=""`, `!` → `l=""`. Values are Go-quoted and
 * joined with `|` without regex escaping; label names are used verbatim.
 *
 * @throws SelectorMatcherError `label not specified`, `operator not supported by prometheus` (gt, lt),
 *   `operator requires values`, `operator does not support values`.
 */
export function requirementsToMatchers(requirements: readonly Requirement[]): SelectorMatchers {
  const matchers: string[] = [];
  const labelValues = new Map<string, string>();
  for (const requirement of requirements) {
    if (requirement.key === "") throw new SelectorMatcherError("label not specified");
    const op = matcherOperator(requirement);
    const unary = requirement.operator === "exists" || requirement.operator === "!";
    if (unary && requirement.values.length > 0) throw new SelectorMatcherError("operator does not support values");
    if (!unary && requirement.values.length === 0) throw new SelectorMatcherError("operator requires values");
    const target = requirement.values.join("|");
    matchers.push(labelMatcher(requirement.key, op, target));
    labelValues.set(requirement.key, target);
  }
  // NB: Object.fromEntries defines own properties, so a key such as "__proto__" cannot touch the prototype.
  return { matchers, labelValuesByName: Object.fromEntries(labelValues) };
}
