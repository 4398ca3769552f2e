/**
 * Loads and compiles a rules file the way the server does (config/load.ts, naming/compile-rules.ts) and turns every
 * error and warning into a located finding with a hint where one applies. Nothing here parses rules itself.
 */
import { readRulesSource } from "../../config/defaults.ts";
import { ConfigError, formatIssueDetails, type ConfigIssue, type WarningCode } from "../../config/errors.ts";
import { parseRulesText } from "../../config/load.ts";
import { compileRules, type CompiledRules } from "../../naming/compile-rules.ts";
import type { RestMapper } from "../../apimachinery/rest-mapper.ts";
import { closestNames } from "../suggestions.ts";

/** One problem of a rules file. `line`/`column` are 1-based; 0 when the problem has no single position. */
export interface RuleFinding {
  readonly severity: "error" | "warning";
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Rule index and field, e.g. `rules[2].name.as`; `""` for the document itself. */
  readonly path: string;
  readonly message: string;
  /** What to write instead, when we can tell. */
  readonly hint?: string;
  /** For YAML syntax errors: the source line and a caret under the column (two lines). */
  readonly excerpt?: string;
  /** Warnings only: stable kind of warning (WARNING_CODES in config/errors.ts). */
  readonly code?: WarningCode;
}

export interface RulesReport {
  /** The file name as given to `--config`, or the embedded default's name. */
  readonly file: string;
  /** Errors first (file order), then warnings. */
  readonly findings: readonly RuleFinding[];
  /** null when the file is invalid. */
  readonly compiled: CompiledRules | null;
}

/** How the REST mapper was obtained, for hints about unknown resources. */
export type MapperKind = "builtin" | "cluster";

/** Reads, parses and compiles the rules named by `--config` (the embedded default when undefined). Never throws ConfigError. */
export async function loadRulesReport(
  configFile: string | undefined,
  mapper: () => RestMapper,
  mapperKind: MapperKind,
): Promise<RulesReport> {
  let file = configFile ?? "";
  try {
    const source = await readRulesSource(configFile);
    file = source.name;
    // NB: as a standalone server does, the built-in table warns about resources it cannot know (CRDs).
    const unknownResources = mapperKind === "builtin" ? "warn" : "error";
    const compiled = compileRules(parseRulesText(source.text, source.name), mapper, { unknownResources });
    return { file, findings: compiled.warnings.map(warningFinding), compiled };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const errors = error.issues.map((issue) => errorFinding(issue, mapperKind));
    const findings = [...errors, ...error.warnings.map(warningFinding)];
    return { file, findings, compiled: null };
  }
}

/** `file:line:col: path: message`, then the source excerpt and `  hint: ...` on the next lines when there are. */
export function formatFinding(finding: RuleFinding): string {
  const where = finding.line > 0 ? `${finding.file}:${finding.line}:${finding.column}` : finding.file;
  const head = `${where}: ${finding.severity}: ${finding.path === "" ? "" : `${finding.path}: `}${finding.message}`;
  return head + formatIssueDetails(finding.excerpt, finding.hint);
}

function errorFinding(issue: ConfigIssue, mapperKind: MapperKind): RuleFinding {
  const hint = issue.hint ?? errorHint(issue, mapperKind);
  return { severity: "error", ...issue, ...(hint === undefined ? {} : { hint }) };
}

/**
 * Field names the rules format has, for "did you mean" on an unknown field. NB: suggestions only; which fields are
 * allowed where is decided by the loader.
 */
const RULE_FIELDS = [
  "rules",
  "externalRules",
  "resourceRules",
  "seriesQuery",
  "seriesFilters",
  "resources",
  "name",
  "metricsQuery",
  "template",
  "overrides",
  "namespaced",
  "matches",
  "as",
  "is",
  "isNot",
  "group",
  "resource",
  "containerQuery",
  "nodeQuery",
  "containerLabel",
  "cpu",
  "memory",
  "window",
];

function errorHint({ path, message }: ConfigIssue, mapperKind: MapperKind): string | undefined {
  if (message.includes("must include at least `{{.Resource}}`")) {
    return "the template turns each resource into its label, so it needs <<.Resource>>: e.g. `template: <<.Resource>>` (pods -> label pod) or `template: kube_<<.Group>>_<<.Resource>>`";
  }
  if (/^externalRules\[\d+\]\.resources$/.test(path) && message.includes("must map the namespaces resource")) {
    return "add `resources: {overrides: {namespace: {resource: namespace}}}` (the label holding the namespace), or `resources: {namespaced: false}` when the series are not per namespace (the URL namespace is then ignored)";
  }
  const unknownField = /^unknown field "([^"]+)"$/.exec(message);
  if (unknownField) {
    const [closest] = closestNames(unknownField[1] as string, RULE_FIELDS);
    if (closest !== undefined) return `did you mean "${closest}"?`;
  }
  const unknownTemplateField = /^unknown field \.(\S+) \(fields: ([^)]*)\)/.exec(message);
  if (unknownTemplateField) {
    const [closest] = closestNames(unknownTemplateField[1] as string, (unknownTemplateField[2] as string).split(" "));
    if (closest !== undefined) return `did you mean .${closest}?`;
  }
  if (message.includes("doesn't have a resource type") && mapperKind === "builtin") {
    return "only the built-in table of common resources is known without a cluster; pass --kubeconfig to check against the cluster's resources (CRDs included)";
  }
  return undefined;
}

/** Warnings come from compileRules as `file:line:col: path: message` text; split them back into fields. */
function warningFinding(issue: ConfigIssue): RuleFinding {
  const hint = issue.hint ?? warningHint(issue.message);
  return { severity: "warning", ...issue, ...(hint === undefined ? {} : { hint }) };
}

function warningHint(message: string): string | undefined {
  const trap = /"\$(\d+)([A-Za-z_][A-Za-z0-9_]*)" names the group/.exec(message);
  if (trap) {
    return `Go's Regexp.Expand reads "$${trap[1]}${trap[2]}" as one group name, so every metric name of this rule is empty and its series are skipped: write "\${${trap[1]}}${trap[2]}"`;
  }
  return undefined;
}
