/**
 * Named Prometheus backends (rules/README.md, Backends): the `backends:` section compiled, and the one routing
 * decision shared by the providers, `check` and `explain`: which backend answers a metric for a request namespace.
 */
import type { BackendConfig } from "../config/schema.ts";
import { NamingError } from "./errors.ts";
import { compileRe2 } from "./regex-filter.ts";

/** The backend `--prometheus-url` and its credential flags describe; always present, always first. */
export const DEFAULT_BACKEND = "default";

/** A `backends:` entry, ready to route by. */
export interface CompiledBackend {
  readonly config: BackendConfig;
  /** Whether it serves a request namespace; null when it serves every namespace (no `namespaces`). */
  readonly servesNamespace: ((namespace: string) => boolean) | null;
}

/** Compiles the section; a bad regex is reported at `backends[i].namespaces`. */
export function compileBackends(
  configs: readonly BackendConfig[],
  report: (path: string, message: string) => void,
): CompiledBackend[] {
  return configs.map((config, index) => {
    const namespaces = config.namespaces;
    if (namespaces === null) return { config, servesNamespace: null };
    if (namespaces.kind === "list") {
      const names = new Set(namespaces.names);
      return { config, servesNamespace: (namespace: string) => names.has(namespace) };
    }
    try {
      // NB: anchored, like Kubernetes' and Prometheus' label regexes: `team-a` does not also serve `team-ab`.
      const regex = compileRe2(`^(?:${namespaces.pattern})$`);
      return { config, servesNamespace: (namespace: string) => regex.matches(namespace) };
    } catch (error) {
      if (!(error instanceof NamingError)) throw error;
      report(`backends[${index}].namespaces`, error.message.replace(/\^\(\?:(.*)\)\$/s, "$1"));
      return { config, servesNamespace: null };
    }
  });
}

/** Backend names in declaration order: `default` first, then `backends:` as written. */
export function backendOrder(backends: readonly CompiledBackend[]): string[] {
  return [DEFAULT_BACKEND, ...backends.map((backend) => backend.config.name)];
}

/**
 * Which of `candidates` (the backends that registered a metric, in declaration order; never empty) answers a
 * request: the rule's own backend when it names one; else, for a request namespace, the first candidate whose
 * `namespaces` lists or matches it, then the first candidate that serves every namespace; else the first candidate.
 */
export function routeBackend(
  candidates: readonly string[],
  ruleBackend: string | undefined,
  namespace: string | undefined,
  backends: readonly CompiledBackend[],
): string {
  if (ruleBackend !== undefined) return ruleBackend;
  const first = candidates[0] ?? DEFAULT_BACKEND;
  if (candidates.length === 1 || namespace === undefined || namespace === "") return first;
  let catchAll: string | undefined;
  for (const name of candidates) {
    const serves = servesOf(name, backends);
    if (serves === null) catchAll ??= name;
    else if (serves(namespace)) return name;
  }
  return catchAll ?? first;
}

/**
 * True when namespace routing cannot always tell `candidates` apart: two of them serve every namespace, or two
 * namespace lists share a name, or a regex matches a name of another list (two regexes are assumed to overlap).
 * Such requests go to the first declared candidate; `check` warns about it.
 */
export function ambiguousBackends(candidates: readonly string[], backends: readonly CompiledBackend[]): boolean {
  const specs = candidates.map((name) => ({
    name,
    config: backends.find((backend) => backend.config.name === name)?.config ?? null,
  }));
  for (let i = 0; i < specs.length; i++) {
    for (let j = i + 1; j < specs.length; j++) {
      const a = specs[i]?.config?.namespaces ?? null;
      const b = specs[j]?.config?.namespaces ?? null;
      if (a === null || b === null) {
        if (a === null && b === null) return true;
        continue;
      }
      if (a.kind === "list" && b.kind === "list") {
        if (a.names.some((name) => b.names.includes(name))) return true;
        continue;
      }
      if (a.kind === "regex" && b.kind === "regex") return true;
      const [list, regexName] =
        a.kind === "list" ? [a.names, specs[j]?.name] : [b.kind === "list" ? b.names : [], specs[i]?.name];
      const serves = servesOf(regexName ?? "", backends);
      if (serves !== null && list.some((name) => serves(name))) return true;
    }
  }
  return false;
}

function servesOf(name: string, backends: readonly CompiledBackend[]): ((namespace: string) => boolean) | null {
  return backends.find((backend) => backend.config.name === name)?.servesNamespace ?? null;
}

/** Each pair of backends (the default one included) that {@link ambiguousBackends} cannot tell apart. */
export function overlappingBackends(
  backends: readonly CompiledBackend[],
): { readonly earlier: string; readonly later: string; readonly index: number }[] {
  const names = backendOrder(backends);
  const pairs: { earlier: string; later: string; index: number }[] = [];
  for (let j = 1; j < names.length; j++) {
    for (let i = 0; i < j; i++) {
      const earlier = names[i] as string;
      const later = names[j] as string;
      if (ambiguousBackends([earlier, later], backends)) pairs.push({ earlier, later, index: j - 1 });
    }
  }
  return pairs;
}
