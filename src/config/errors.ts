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
  /** Warnings only: a stable identifier of the kind of warning, e.g. `template-literal-braces` (see WARNING_CODES). */
  readonly code?: WarningCode;
}

/**
 * Kinds of warning (things upstream accepts that probably do not do what the author meant), as listed by
 * `check --output json`. Stable: tools may match on them.
 */
export const WARNING_CODES = [
  /** A literal `{{` in a `<< >>` template: Helm/Go-template syntax that reaches PromQL unchanged. */
  "template-literal-braces",
  /** `<< >>` in `name.as`, which is a regex replacement and never expands templates. */
  "name-as-template",
  /** `$1x` in `name.as`: Go reads `$1x` as the group named `1x`, which expands to nothing. */
  "name-as-group-name",
  /** A custom rule whose resources are all namespaced but which maps no `namespace` label: every query fails. */
  "namespaced-without-namespace-label",
  /** `resources.namespaced` in `rules`, where it has no effect. */
  "namespaced-has-no-effect",
  /** `resourceRules` without `window`. */
  "resource-window-unset",
  /** A file shaped like the Helm chart's values (`rules:` holding `default:`/`custom:`), not the adapter's config. */
  "helm-values-file",
  /** A resource the REST mapper does not know (standalone without a kubeconfig): its metrics are skipped. */
  "unknown-resource",
  /**
   * Two backends whose namespaces overlap (both serve every namespace, or their lists or regexes share a namespace)
   * under rules that apply to both: a metric both register goes to the one declared first.
   */
  "backend-routing-ambiguous",
] as const;

export type WarningCode = (typeof WARNING_CODES)[number];

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
  /**
   * @param issues the errors
   * @param warnings warnings found before the errors stopped loading (e.g. the file looks like Helm values)
   */
  constructor(
    readonly issues: readonly ConfigIssue[],
    readonly warnings: readonly ConfigIssue[] = [],
  ) {
    super(issues.map(formatConfigIssue).join("\n"));
  }
}
