/** One problem in a rules file, located at the node that caused it. */
export interface ConfigIssue {
  /** The file as the user named it (`--config`), or `<embedded default>`. */
  readonly file: string;
  /** 1-based line and column of the offending YAML node; 0 when the problem has no single node (e.g. empty file). */
  readonly line: number;
  readonly column: number;
  /** Path inside the document with rule indexes, e.g. `rules[2].name.matches`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

export function formatConfigIssue({ file, line, column, path, message }: ConfigIssue): string {
  const where = line > 0 ? `${file}:${line}:${column}` : file;
  return path === "" ? `${where}: ${message}` : `${where}: ${path}: ${message}`;
}

/** A rules file that cannot be used. Carries every problem found, not just the first. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join("\n"));
  }
}
