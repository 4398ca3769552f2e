/** The rules used when `--config` is not given: rules/default.yaml, embedded at build time (also in the binary). */
import defaultRulesText from "../../rules/default.yaml" with { type: "text" };
import { ConfigError } from "./errors.ts";

/** The name errors and logs use for the embedded file. */
export const DEFAULT_RULES_NAME = "<embedded rules/default.yaml>";

export const DEFAULT_RULES_TEXT: string = defaultRulesText;

/** The rules text named by `--config`, or the embedded default. Throws ConfigError naming the file when unreadable. */
export async function readRulesSource(configFile: string | undefined): Promise<{ name: string; text: string }> {
  if (configFile === undefined) return { name: DEFAULT_RULES_NAME, text: DEFAULT_RULES_TEXT };
  try {
    return { name: configFile, text: await Bun.file(configFile).text() };
  } catch (error) {
    throw new ConfigError([
      {
        file: configFile,
        line: 0,
        column: 0,
        path: "",
        message: `cannot read rules file: ${(error as Error).message}`,
      },
    ]);
  }
}
