/**
 * Recognises a file that is the prometheus-adapter Helm chart's values rather than the adapter's config (a common
 * mistake: the chart renders `rules.default/custom/external/resource` into the real config).
 */
import { type Document, isMap, isScalar } from "yaml";
import type { ConfigIssue } from "./errors.ts";

/** Keys of the Helm chart's `rules:` values, which the chart renders into the adapter's config. */
const HELM_RULES_KEYS = new Set(["default", "custom", "external", "existing", "resource"]);

/** A warning when the document looks like the prometheus-adapter Helm chart's values rather than its config. */
export function helmValuesWarnings(
  doc: Document | undefined,
  file: string,
  at: (offset: number | undefined) => { readonly line: number; readonly column: number },
): ConfigIssue[] {
  const root = doc?.contents;
  if (!root || !isMap(root)) return [];
  const rulesPair = root.items.find((pair) => isScalar(pair.key) && pair.key.value === "rules");
  const rulesNode = rulesPair?.value;
  if (!rulesNode || !isMap(rulesNode)) return [];
  const helmKey = rulesNode.items.find((pair) => isScalar(pair.key) && HELM_RULES_KEYS.has(String(pair.key.value)));
  if (!helmKey || !isScalar(helmKey.key)) return [];
  const { line, column } = at(helmKey.key.range?.[0]);
  return [
    {
      file,
      line,
      column,
      path: "rules",
      code: "helm-values-file",
      message: `this looks like the Helm chart's values (rules.${String(helmKey.key.value)}), not the adapter's config`,
      hint:
        "pass the config the chart renders (its ConfigMap's config.yaml), " +
        "or move rules.custom/external/resource to top-level rules/externalRules/resourceRules",
    },
  ];
}
