/**
 * Discovery over several backends: one relist loop per backend (each with the rules that apply to it, its own
 * interval, backoff and failures), and their registries merged into one in declaration order. A backend whose runs
 * fail keeps its previous part; the others go on. With only the default backend, its loop's snapshot is served as is.
 */
import { DEFAULT_BACKEND } from "../naming/backends.ts";
import type { CompiledRules } from "../naming/compile-rules.ts";
import { mergeRegistries } from "./registry.ts";
import type { DiscoverySnapshot, FreshPassOutcome, Relister } from "./relister.ts";

/** One backend's discovery loop. */
export interface BackendRelister {
  readonly name: string;
  readonly relister: Relister;
  /** True once its first run finished, successfully or not. */
  attempted(): boolean;
  /** The error of its last failed run; null after a success or before any run. */
  lastError(): string | null;
  /** Whether the rules that apply to it have any `seriesQuery` (else its runs discover nothing). */
  discovers(): boolean;
}

/** Each backend's discovery state, for `/readyz?verbose`. */
export interface BackendReadiness {
  readonly name: string;
  readonly attempted: boolean;
  readonly ready: boolean;
  readonly lastError: string | null;
}

export interface BackendsRelister extends Relister {
  /** Every backend's state, in declaration order. */
  backends(): readonly BackendReadiness[];
  /**
   * Ready: at least one backend with series queries has succeeded (until the first time it was ready: its last run
   * did), and (until then too) every backend's first run was attempted. With no series query anywhere: ready at once,
   * the relister's own rule.
   */
  ready(): boolean;
  /**
   * Swaps the set of loops (a reload added, removed or changed backends): loops not in `next` are stopped, loops new
   * in it are started when this one is running. Loops kept must be passed as the same objects.
   */
  replace(next: readonly BackendRelister[]): void;
}

/** The rules a backend discovers with: those naming it and those naming no backend. */
export function rulesForBackend(rules: CompiledRules, backend: string): CompiledRules {
  const applies = (rule: { readonly backend?: string | undefined }) =>
    rule.backend === undefined || rule.backend === backend;
  if (rules.custom.every(applies) && rules.external.every(applies)) return rules;
  const custom = rules.custom.filter(applies);
  const external = rules.external.filter(applies);
  const seriesQueries = [...new Set([...custom, ...external].map((rule) => rule.namer.seriesQuery))];
  return { ...rules, custom, external, seriesQueries };
}

export function combineRelisters(initial: readonly BackendRelister[]): BackendsRelister {
  let parts = [...initial];
  let running = false;
  let beenReady = false;
  let merged: { sources: readonly DiscoverySnapshot[]; snapshot: DiscoverySnapshot } | null = null;

  const current = (): DiscoverySnapshot => {
    const only = parts[0];
    if (parts.length === 1 && only?.name === DEFAULT_BACKEND) return only.relister.current();
    const sources = parts.map((part) => part.relister.current());
    if (merged && sameItems(merged.sources, sources)) return merged.snapshot;
    const snapshot: DiscoverySnapshot = {
      registry: mergeRegistries(
        parts.map((part, index) => ({ backend: part.name, registry: sources[index]!.registry })),
      ),
      completedAt: Math.max(0, ...sources.map((source) => source.completedAt)),
      seriesSeen: sources.reduce((sum, source) => sum + source.seriesSeen, 0),
    };
    merged = { sources, snapshot };
    return snapshot;
  };

  return {
    current,
    backends: () =>
      parts.map((part) => ({
        name: part.name,
        attempted: part.attempted(),
        ready: part.relister.ready(),
        lastError: part.lastError(),
      })),
    ready: () => {
      // A lone default backend keeps the relister's own rule (ready at once when there is nothing to discover).
      if (parts.length === 1) return parts[0]?.relister.ready() ?? false;
      // NB: only the start waits for every backend's first run; a backend a reload adds never makes a ready
      // adapter unready while its first run is under way.
      const discovering = parts.filter((part) => part.discovers());
      // With nothing to discover anywhere, the relisters' own rule: ready at once.
      if (discovering.length === 0) return parts.every((part) => part.relister.ready());
      // NB: a backend without series queries is "ready" at once, whatever its runs do: it proves nothing.
      const succeeded = discovering.some((part) => part.relister.ready() && (beenReady || part.lastError() === null));
      const ready = (beenReady || parts.every((part) => part.attempted())) && succeeded;
      beenReady ||= ready;
      return ready;
    },
    mode: () => parts[0]?.relister.mode() ?? null,
    async runOnce() {
      const outcomes = await Promise.all(parts.map((part) => part.relister.runOnce()));
      return outcomes.every(Boolean);
    },
    async freshPassOnce(): Promise<FreshPassOutcome> {
      const outcomes = await Promise.all(parts.map((part) => part.relister.freshPassOnce()));
      return outcomes[0] ?? { status: "skipped", reason: "no backend" };
    },
    start() {
      running = true;
      for (const part of parts) part.relister.start();
    },
    stop() {
      running = false;
      for (const part of parts) part.relister.stop();
    },
    replace(next) {
      const kept = new Set(next);
      for (const part of parts) if (!kept.has(part)) part.relister.stop();
      const old = new Set(parts);
      parts = [...next];
      merged = null;
      if (running) for (const part of parts) if (!old.has(part)) part.relister.start();
    },
  };
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
