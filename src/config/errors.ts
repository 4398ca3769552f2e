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
  /** For YAML syntax errors: the offending source line and a caret under the column, as two lines. */
  readonly excerpt?: string;
  /** What to write instead, when the loader can tell. */
  readonly hint?: string;
}

export function formatConfigIssue({ file, line, column, path, message, excerpt, hint }: ConfigIssue): string {
  const where = line > 0 ? `${file}:${line}:${column}` : file;
  const head = path === "" ? `${where}: ${message}` : `${where}: ${path}: ${message}`;
  return head + formatIssueDetails(excerpt, hint);
}

/** The lines shown under an issue: the source excerpt indented by four spaces, then `  hint: ...`. */
export function formatIssueDetails(excerpt: string | undefined, hint: string | undefined): string {
  const lines = excerpt === undefined ? [] : excerpt.split("\n").map((line) => `    ${line}`);
  if (hint !== undefined) lines.push(`  hint: ${hint}`);
  return lines.map((line) => `\n${line}`).join("");
}

/** A rules file that cannot be used. Carries every problem found, not just the first. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join("\n"));
  }
}
