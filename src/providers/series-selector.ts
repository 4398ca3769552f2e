/**
 * Selectors that become PromQL matchers (`metricLabelSelector` of custom metrics, `labelSelector` of external
 * metrics): every client mistake is a 400 BadRequest naming the parameter, never a query Prometheus rejects.
 */
import { parseLabelSelector, SelectorSyntaxError, type Requirement } from "../apimachinery/labels/selector.ts";
import { requirementsToMatchers } from "../naming/selector-matchers.ts";
import { SelectorMatcherError } from "../apimachinery/labels/conversions.ts";
import { goQuote } from "../golang/strconv.ts";
import { BadRequestError } from "../apimachinery/status.ts";

const PROMETHEUS_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses `text` (Kubernetes selector syntax) and checks it can be written as PromQL matchers. NB: Kubernetes label
 * keys allow `.`, `/` and `-`, which Prometheus label names do not; `>` and `<` have no PromQL matcher.
 */
export function parseSeriesSelector(text: string, parameter: string): Requirement[] {
  let requirements: Requirement[];
  try {
    requirements = parseLabelSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError)
      throw new BadRequestError(`unable to parse ${parameter}: ${error.message}`);
    throw error;
  }
  try {
    requirementsToMatchers(requirements);
  } catch (error) {
    if (error instanceof SelectorMatcherError) throw new BadRequestError(error.message);
    throw error;
  }
  for (const { key } of requirements) {
    if (!PROMETHEUS_LABEL_NAME.test(key)) {
      throw new BadRequestError(
        `${parameter}: ${goQuote(key)} is not a valid Prometheus label name (letters, digits and _ only)`,
      );
    }
  }
  return requirements;
}
