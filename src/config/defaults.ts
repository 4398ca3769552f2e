/** The rules used when `--config` is not given: rules/default.yaml, embedded at build time (also in the binary). */
import defaultRulesText from "../../rules/default.yaml" with { type: "text" };
import { parseRulesText, type LoadedRules } from "./load.ts";

/** The name errors and logs use for the embedded file. */
export const DEFAULT_RULES_NAME = "<embedded rules/default.yaml>";

export const DEFAULT_RULES_TEXT: string = defaultRulesText;

export function loadDefaultRules(): LoadedRules {
  return parseRulesText(DEFAULT_RULES_TEXT, DEFAULT_RULES_NAME);
}
