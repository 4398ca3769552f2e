/** The rules file the adapter serves: where it comes from, and how a text of it becomes compiled rules. */
import { readRulesSource } from "../config/defaults.ts";
import { formatConfigIssue } from "../config/errors.ts";
import { parseRulesText } from "../config/load.ts";
import type { RestMapper } from "../apimachinery/rest-mapper.ts";
import { compileRules, type CompiledRules } from "../naming/compile-rules.ts";
import type { Logger } from "../observability/logger.ts";

export interface RulesLoading {
  /** `--config`; undefined for the embedded rules/default.yaml. */
  readonly configFile: string | undefined;
  /** The current REST mapper, read at each compile. */
  readonly mapper: () => RestMapper;
  /** What a resource the mapper does not know is: an error, or a warning that skips it (no cluster discovery). */
  readonly unknownResources: "error" | "warn";
  /** Receives each compile's warnings. */
  readonly logger: Logger;
}

/** Reads the rules source once; `compile` turns a text of it (the first, or a reloaded one) into compiled rules. */
export async function loadRules({ configFile, mapper, unknownResources, logger }: RulesLoading) {
  const source = await readRulesSource(configFile);
  const compile = (text: string): CompiledRules => {
    const compiled = compileRules(parseRulesText(text, source.name), mapper, { unknownResources });
    for (const warning of compiled.warnings) logger.warn(formatConfigIssue(warning));
    return compiled;
  };
  return { source, compile };
}
