/**
 * What a parsed label selector becomes on the Kubernetes side: the metav1.LabelSelector echoed in answers, and
 * Kubernetes matching of object labels. The PromQL side is naming/selector-matchers.ts.
 */
import type { Requirement } from "./selector.ts";
import { compareStrings } from "../../util/compare.ts";
import { parseInt64 } from "./validation.ts";

/** The requirements cannot be expressed as PromQL matchers or as a metav1.LabelSelector. */
export class SelectorMatcherError extends Error {
  override name = "SelectorMatcherError";
}

// ---------------------------------------------------------------------------------------------------------------
// metav1.LabelSelector echo (the `selector` of docs/api.md, Custom metrics).

/** metav1.LabelSelectorRequirement. `values` is absent for Exists and DoesNotExist. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: string[];
}

/** metav1.LabelSelector as JSON; empty `matchLabels` / `matchExpressions` are omitted. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: LabelSelectorRequirement[];
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
