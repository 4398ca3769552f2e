/**
 * `prom-adapter check`: validates a rules file with the server's loader and compiler (every error with
 * file:line:col, rule and field, plus hints), and with a Prometheus URL runs discovery once and reports, per rule,
 * the series matched, the metrics produced with their resources and scope, the series skipped and why, and
 * collisions between rules.
 */
import type { Logger } from "../../observability/logger.ts";
import type { Options } from "../../options.ts";
import { formatPrometheusDuration as formatDuration } from "../../util/duration.ts";
import {
  discoverOnce,
  isUnreachable,
  type Collision,
  type DiscoveryReport,
  type RuleDiscovery,
} from "./discovery-report.ts";
import {
  builtinAccess,
  connectKubernetes,
  connectPrometheus,
  standaloneAccess,
  UnreachableError,
  type KubernetesAccess,
} from "../environment.ts";
import { EXIT_OK, EXIT_PROBLEMS } from "../exit-codes.ts";
import { loadRulesReport, type RuleFinding } from "./rules-report.ts";
import { discoverBackends, type BackendsReport } from "./backends-report.ts";
import { rulesForBackend } from "../../discovery/backend-relisters.ts";
import { DEFAULT_BACKEND } from "../../naming/backends.ts";

export interface CheckInput {
  readonly options: Options;
  /** Run discovery against `options.prometheusUrl` (true when `--prometheus-url` was given). */
  readonly withPrometheus: boolean;
  /** Resolve resources with the cluster's discovery (`--kubeconfig`) instead of the built-in table. */
  readonly cluster: boolean;
  /** Environment ($KUBECONFIG, $HOME: a standalone check's default kubeconfig, as the server's); default none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Wall clock in ms; default Date.now. */
  readonly now?: () => number;
}

export interface CheckDiscovery {
  readonly prometheusUrl: string;
  /** RFC 3339 time series were listed from (now minus `--metrics-max-age`). */
  readonly since: string;
  /** `--metrics-max-age`, Prometheus duration text. */
  readonly maxAge: string;
  readonly seriesSeen: number;
  /** `--discovery-mode` and what it resolves to against this Prometheus (see DiscoveryReport.mode). */
  readonly mode: DiscoveryReport["mode"];
  readonly registered: { readonly custom: number; readonly external: number };
  readonly rules: readonly RuleDiscovery[];
  readonly collisions: readonly Collision[];
  /** One line per thing worth a look (rules without series, skipped series, refused queries, collisions). */
  readonly notes: readonly string[];
}

export interface CheckReport {
  readonly file: string;
  readonly valid: boolean;
  /** `builtin` (standalone table) or `cluster` (API discovery of `kubernetes`). */
  readonly mapper: "builtin" | "cluster";
  readonly kubernetes: string | null;
  /** Rule counts; null when invalid. */
  readonly rules: { readonly custom: number; readonly external: number; readonly resourceRules: boolean } | null;
  readonly findings: readonly RuleFinding[];
  readonly discovery: CheckDiscovery | null;
  /** With a `backends:` section and Prometheus: each named backend's discovery and routing (absent otherwise). */
  readonly backends?: BackendsReport;
  /** 0 valid; 1 invalid, or Prometheus refused a seriesQuery. (Unreachable backends throw UnreachableError: 3.) */
  readonly exitCode: number;
}

/** Runs the check. Throws UnreachableError (Prometheus or Kubernetes) and UsageError (unusable Prometheus credentials). */
export async function runCheck(input: CheckInput): Promise<CheckReport> {
  const { options, withPrometheus, cluster, env = {}, logger, now = Date.now } = input;
  // NB: a standalone check resolves resources as a standalone server would.
  const access: KubernetesAccess = options.standalone
    ? await standaloneAccess(options.kubernetes.kubeconfig, env, logger)
    : cluster
      ? await connectKubernetes(options.kubernetes.kubeconfig, logger)
      : builtinAccess();
  const rules = await loadRulesReport(options.configFile, access.mapper, access.mapperKind);
  const base = {
    file: rules.file,
    mapper: access.mapperKind,
    kubernetes: access.server ?? null,
    findings: rules.findings,
  };
  const compiled = rules.compiled;
  if (compiled === null) return { ...base, valid: false, rules: null, discovery: null, exitCode: EXIT_PROBLEMS };
  const counts = {
    custom: compiled.custom.length,
    external: compiled.external.length,
    resourceRules: compiled.resource !== null,
  };
  if (!withPrometheus) return { ...base, valid: true, rules: counts, discovery: null, exitCode: EXIT_OK };

  let report: DiscoveryReport;
  try {
    // The default backend discovers with the rules not pinned to a named backend, as the server's loop does.
    const rules = compiled.backends.length === 0 ? compiled : rulesForBackend(compiled, DEFAULT_BACKEND);
    report = await discoverOnce(connectPrometheus(options), rules, options.maxAge, now(), options.discoveryMode);
  } catch (error) {
    if (isUnreachable(error))
      throw new UnreachableError(`cannot list series from ${options.prometheusUrl}: ${(error as Error).message}`);
    throw error;
  }
  const discovery: CheckDiscovery = {
    prometheusUrl: options.prometheusUrl,
    since: new Date(report.sinceMs).toISOString(),
    maxAge: formatDuration(options.maxAge),
    seriesSeen: report.seriesSeen,
    mode: report.mode,
    registered: { custom: report.registry.customMetrics().length, external: report.registry.externalMetrics().length },
    rules: report.rules,
    collisions: report.collisions,
    notes: discoveryNotes(
      report.rules,
      report.collisions,
      new Date(report.sinceMs).toISOString(),
      formatDuration(options.maxAge),
    ),
  };
  const refused = report.rules.some((rule) => rule.error !== null);
  const exitCode = refused ? EXIT_PROBLEMS : EXIT_OK;
  if (compiled.backends.length === 0) return { ...base, valid: true, rules: counts, discovery, exitCode };
  const backends = (await discoverBackends(compiled, report.registry, options, now())).report;
  return { ...base, valid: true, rules: counts, discovery, backends, exitCode };
}

const SKIP_REASONS = {
  filtered: "removed by seriesFilters / name.matches",
  "no-resource": "no label maps to a resource",
  "empty-name": "name.as expanded to an empty name",
} as const;

/** Human-readable findings of a discovery run, in rule order, collisions last. */
export function discoveryNotes(
  rules: readonly RuleDiscovery[],
  collisions: readonly Collision[],
  since: string,
  maxAge: string,
): string[] {
  const notes: string[] = [];
  for (const rule of rules) {
    if (rule.error !== null) {
      notes.push(
        `${rule.id}: Prometheus refused seriesQuery ${rule.seriesQuery}: ${rule.error} (the server's discovery fails while this is so)`,
      );
      continue;
    }
    if (rule.seriesMatched === 0) {
      notes.push(
        `${rule.id}: no series matched seriesQuery ${rule.seriesQuery} since ${since}: is --metrics-max-age (${maxAge}) ≥ the scrape interval, and are the targets scraped?`,
      );
      continue;
    }
    for (const reason of ["no-resource", "empty-name", "filtered"] as const) {
      const skipped = rule.skipped.filter((entry) => entry.reason === reason);
      if (skipped.length === 0) continue;
      const shown = skipped
        .slice(0, 5)
        .map((entry) =>
          reason === "no-resource"
            ? `${entry.series} (labels: ${entry.labelNames.join(", ") || "none"})`
            : entry.series,
        );
      const more = skipped.length > shown.length ? `, and ${skipped.length - shown.length} more` : "";
      notes.push(
        `${rule.id}: ${skipped.length} series shape(s) skipped, ${SKIP_REASONS[reason]}: ${shown.join("; ")}${more}`,
      );
    }
    if (rule.metrics.length === 0 && rule.skipped.length === rule.shapes) notes.push(`${rule.id}: produces no metric`);
  }
  for (const collision of collisions) {
    const key =
      collision.resource === null ? `external metric ${collision.metric}` : `${collision.resource}/${collision.metric}`;
    notes.push(
      `collision: ${key} is produced by ${collision.rules.join(", ")}; later rules win, so ${collision.winner} is served`,
    );
  }
  return notes;
}
