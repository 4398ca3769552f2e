/**
 * What a parsed label selector becomes: PromQL matchers (rules/README.md, Querying), the metav1.LabelSelector echoed in
 * answers (docs/api.md, Custom metrics), and Kubernetes matching of object labels.
 */
import type { Requirement } from "./selector.ts";
import { compareStrings, parseInt64 } from "./validation.ts";
import { labelMatcher, type MatchOperator } from "../../golang/strconv.ts";

/** The requirements cannot be expressed as PromQL matchers or as a metav1.LabelSelector. */
export class SelectorMatcherError extends Error {
  override name = "SelectorMatcherError";
}

// ---------------------------------------------------------------------------------------------------------------
// PromQL matchers (upstream prometheus-adapter naming/metrics_query.go).

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

// ---------------------------------------------------------------------------------------------------------------
// metav1.LabelSelector echo (the `selector` of docs/api.md, Custom metrics).

/** metav1.LabelSelectorRequirement. `values` is absent for Exists and DoesNotExist. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

/** metav1.LabelSelector as JSON; empty `matchLabels` / `matchExpressions` are omitted. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compareStrings);
}

/**
 * The metricLabelSelector echoed in custom metric responses (metav1.ParseToLabelSelector): `=`/`==` go to
 * `matchLabels` (keys sorted, last value wins), `in`/`notin`/`!=` (as NotIn with its value), exists and `!` go to
 * `matchExpressions` in requirement order. Returns `null` for no requirements.
 *
 * @throws SelectorMatcherError for gt/lt (`operator not supported by prometheus`) and for `=`/`==` without
 *   exactly one value.
 */
export function toLabelSelector(requirements: readonly Requirement[]): LabelSelector | null {
  if (requirements.length === 0) return null;
  const matchLabels = new Map<string, string>();
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const { key, operator, values } of requirements) {
    switch (operator) {
      case "=":
      case "==":
        if (values.length !== 1) throw new SelectorMatcherError("equals operator must have exactly one value");
        matchLabels.set(key, values[0] ?? "");
        break;
      case "in":
        matchExpressions.push({ key, operator: "In", values: sortedUnique(values) });
        break;
      case "notin":
      case "!=":
        // NB: upstream fails the whole request on "!="; prom-adapter echoes it as NotIn with its one value.
        matchExpressions.push({ key, operator: "NotIn", values: sortedUnique(values) });
        break;
      case "exists":
        matchExpressions.push({ key, operator: "Exists" });
        break;
      case "!":
        matchExpressions.push({ key, operator: "DoesNotExist" });
        break;
      default:
        throw new SelectorMatcherError("operator not supported by prometheus");
    }
  }
  const selector: { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] } = {};
  if (matchLabels.size > 0) {
    // Go's encoding/json prints map keys sorted.
    selector.matchLabels = Object.fromEntries([...matchLabels].sort(([a], [b]) => compareStrings(a, b)));
  }
  if (matchExpressions.length > 0) selector.matchExpressions = matchExpressions;
  return selector;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching (labels.Requirement.Matches).

function requirementMatches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "=":
    case "==":
    case "in":
      return value !== undefined && requirement.values.includes(value);
    case "!=":
    case "notin":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return present;
    case "!":
      return !present;
    case "gt":
    case "lt": {
      if (value === undefined || requirement.values.length !== 1) return false;
      const actual = parseInt64(value);
      const bound = parseInt64(requirement.values[0] ?? "");
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === "gt" ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/**
 * Whether an object's labels satisfy every requirement, with Kubernetes semantics: `!=` and `notin` match when
 * the key is absent; `gt`/`lt` need the key and compare int64 values (a non-integer label never matches).
 * No requirements match everything.
 */
export function selectorMatches(
  requirements: readonly Requirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements.every((requirement) => requirementMatches(requirement, labels));
}
