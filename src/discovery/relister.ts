/**
 * The discovery loop (rules/README.md, Discovery): runs at start, then `interval` after the previous run finished
 * (never overlapping). Each run lists series from `now - maxAge`, builds fresh registries and swaps them in atomically.
 * A failed run keeps the previous registries. `ready` turns true after the first successful run.
 *
 * Between full runs, an incremental pass every `freshInterval` (see fresh-pass.ts) adds metrics whose names appeared
 * since; only full runs remove metrics. A full run always wins: a pass that overlaps one is discarded.
 *
 * NB: over 350 lines: the relist loop, its retry backoff, the fresh pass and the discovery mode probe share one
 * schedule and one current snapshot; they are kept together so that no two of them can race.
 */
import type { Logger } from "../observability/logger.ts";
import type { CompiledRules } from "../naming/compile-rules.ts";
import { buildMetricRegistry, EMPTY_REGISTRY, type MetricRegistry, type SeriesShape } from "./registry.ts";
import type { Clock } from "../util/clock.ts";
import type { Milliseconds } from "../util/duration.ts";
import type { TransferMeter } from "../prometheus/types.ts";
import { listShapes, probeLabelIndex, type DiscoveryMode, type ResolvedDiscoveryMode } from "./discovery-mode.ts";
import { findNewSeries, type LabelValuesSource } from "./fresh-pass.ts";
import type { LabelIndexSource } from "./label-index-lister.ts";
import type { SeriesSource } from "./series-lister.ts";

export interface DiscoverySnapshot {
  readonly registry: MetricRegistry;
  /** Wall-clock time (ms) the run (or incremental pass) that built it finished; 0 for the empty initial snapshot. */
  readonly completedAt: number;
  /** Series received by the full run it is based on, plus those of the incremental passes since. */
  readonly seriesSeen: number;
}

/** What one full run cost (self-metrics and the `--v=2` relist line). */
export interface RunCost {
  /** The mode the run used; null when it failed before one was chosen (the `auto` probe failed). */
  readonly mode: ResolvedDiscoveryMode | null;
  /** Prometheus calls made, including the `auto` probe's. */
  readonly calls: number;
  /** Response body bytes received. */
  readonly bytes: number;
}

/** What an incremental pass did. */
export type FreshPassOutcome =
  | { readonly status: "skipped"; readonly reason: string }
  | { readonly status: "failed"; readonly error: Error }
  | { readonly status: "done"; readonly newNames: readonly string[]; readonly registryChanged: boolean };

export interface RelisterOptions {
  /**
   * Where series come from; with `labelValues` (the Prometheus client has it) incremental passes are possible, with
   * `labelValues` and `labelNames` the label-index mode is.
   */
  readonly source: SeriesSource & { labelValues?: LabelValuesSource; labelNames?: LabelIndexSource["labelNames"] };
  /**
   * `--discovery-mode`; default `auto`: probed on the first run (again on later runs while the backend has no series
   * to tell by); `series` when the source lacks the index calls. `labels` with such a source throws here.
   */
  readonly mode?: DiscoveryMode;
  /** Read at the start of each run, so a rules reload takes effect on the next run. */
  readonly rules: () => CompiledRules;
  /** `--metrics-relist-interval`; default 1 minute. After a failed run the next comes after 1 s, doubling up to it. */
  readonly interval?: Milliseconds;
  /** `--metrics-max-age`: how far back series are listed; default `interval`. */
  readonly maxAge?: Milliseconds;
  /**
   * How often the incremental pass looks for new metric names between full runs, in ms. Default 5000. `0` turns it
   * off; it is also off when it is not shorter than `interval` or the source has no `labelValues`.
   */
  readonly freshInterval?: Milliseconds;
  /** Called before listing, e.g. to refresh the REST mapper. Its failure fails the run. */
  readonly beforeRun?: () => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Observes every run (for self-metrics); optional. */
  readonly onRun?: (outcome: { ok: boolean; durationMs: number; snapshot: DiscoverySnapshot; cost: RunCost }) => void;
  /** Observes every incremental pass; optional. */
  readonly onFreshPass?: (outcome: FreshPassOutcome, durationMs: number) => void;
}

export interface Relister {
  /** The registries in force. */
  current(): DiscoverySnapshot;
  /** True once a run succeeded (or when there is nothing to discover). */
  ready(): boolean;
  /** The mode full runs use: null while `auto` has not decided yet. */
  mode(): ResolvedDiscoveryMode | null;
  /** Runs discovery now, unless a run is in progress (then waits for it). Resolves true when it succeeded. */
  runOnce(): Promise<boolean>;
  /**
   * Runs one incremental pass now (joining one in progress). Skipped before the first successful run, while a full
   * run is in progress, and when incremental passes are off.
   */
  freshPassOnce(): Promise<FreshPassOutcome>;
  /** Starts the loop: one run now, then one `interval` after each run finishes; incremental passes every `freshInterval`. */
  start(): void;
  stop(): void;
}

/** The part of discovery that the next registry is built from. */
interface DiscoveryState {
  /** Shapes per seriesQuery from the last full run. */
  readonly base: ReadonlyMap<string, readonly SeriesShape[]>;
  /** Shapes per seriesQuery found by incremental passes since. */
  readonly added: Map<string, SeriesShape[]>;
  /** Metric names already looked at: the incremental pass lists series only for names outside this set. */
  readonly knownNames: Set<string>;
  seriesSeen: number;
}

export function createRelister({
  source,
  mode: requestedMode = "auto",
  rules,
  interval = 60_000,
  maxAge = interval,
  freshInterval = 5000,
  beforeRun,
  clock,
  logger,
  onRun,
  onFreshPass,
}: RelisterOptions): Relister {
  let snapshot: DiscoverySnapshot = { registry: EMPTY_REGISTRY, completedAt: 0, seriesSeen: 0 };
  let state: DiscoveryState | null = null;
  let succeeded = false;
  let inFlight: Promise<boolean> | null = null;
  let freshInFlight: Promise<FreshPassOutcome> | null = null;
  // Incremented when a full run starts; an incremental pass that saw it change throws its findings away.
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let freshTimer: ReturnType<typeof setTimeout> | null = null;
  let stopped = true;
  let abort: AbortController | null = null;
  let freshAbort: AbortController | null = null;
  const labelValues = source.labelValues?.bind(source);
  const freshEnabled = freshInterval > 0 && freshInterval < interval && labelValues !== undefined;
  const indexSource: (SeriesSource & LabelIndexSource) | null =
    source.labelValues !== undefined && source.labelNames !== undefined
      ? (source as SeriesSource & LabelIndexSource)
      : null;
  if (requestedMode === "labels" && indexSource === null)
    throw new Error("discovery mode labels needs a source with labelValues and labelNames");
  let resolvedMode: ResolvedDiscoveryMode | null =
    requestedMode === "auto" ? (indexSource === null ? "series" : null) : requestedMode;

  /** The mode for this run: probes when `auto` has not decided; a probe that cannot tell yet gives series mode. */
  async function modeForRun(
    startSeconds: number,
    signal: AbortSignal,
    meter: TransferMeter,
  ): Promise<ResolvedDiscoveryMode> {
    if (resolvedMode !== null) return resolvedMode;
    const probe = await probeLabelIndex(indexSource as LabelIndexSource, startSeconds, signal, meter);
    if (probe.mode === null) {
      logger.info(2, "discovery mode auto: listing series this run", { reason: probe.reason });
      return "series";
    }
    resolvedMode = probe.mode;
    if (probe.mode === "series")
      logger.warn("discovery mode auto: falling back to series listing", { reason: probe.reason });
    else logger.info(0, "discovery mode auto: using the label index", { reason: probe.reason });
    return probe.mode;
  }

  function publish(compiled: CompiledRules, current: DiscoveryState): MetricRegistry {
    const shapesFor = (query: string): readonly SeriesShape[] => {
      const base = current.base.get(query) ?? [];
      const added = current.added.get(query);
      return added === undefined ? base : [...base, ...added];
    };
    const { registry, emptyNames } = buildMetricRegistry(
      compiled.custom.map((rule) => ({ rule, series: shapesFor(rule.namer.seriesQuery) })),
      compiled.external.map((rule) => ({ rule, series: shapesFor(rule.namer.seriesQuery) })),
    );
    for (const [ruleId, count] of emptyNames) {
      logger.info(2, "series skipped: metric name expanded to an empty string (write ${1} instead of $1 before text)", {
        rule: ruleId,
        series: count,
      });
    }
    snapshot = { registry, completedAt: clock.now(), seriesSeen: current.seriesSeen };
    return registry;
  }

  async function run(): Promise<boolean> {
    const started = performance.now();
    const compiled = rules();
    generation++;
    freshAbort?.abort();
    abort = new AbortController();
    const signal = abort.signal;
    const meter: TransferMeter = { calls: 0, bytes: 0 };
    let runMode: ResolvedDiscoveryMode | null = null;
    const cost = (): RunCost => ({ mode: runMode, calls: meter.calls, bytes: meter.bytes });
    try {
      await beforeRun?.();
      const startSeconds = (clock.now() - maxAge) / 1000;
      runMode = await modeForRun(startSeconds, signal, meter);
      // NB: names Prometheus knows when the run starts; a name appearing later is "new" to the next incremental pass.
      const namesAtStart = freshEnabled
        ? labelValues("__name__", startSeconds, [], signal, meter).catch(() => [] as string[])
        : Promise.resolve([] as string[]);
      const listing = await listShapes(
        indexSource ?? (source as SeriesSource & LabelIndexSource),
        compiled,
        runMode,
        startSeconds,
        { signal, meter },
      );
      for (const { query, reason } of listing.fellBack)
        logger.info(2, "label discovery lists a query's series instead", { query, reason });
      const knownNames = new Set(await namesAtStart);
      for (const shapes of listing.shapesByQuery.values()) for (const shape of shapes) knownNames.add(shape.name);
      state = { base: listing.shapesByQuery, added: new Map(), knownNames, seriesSeen: listing.seriesSeen };
      const registry = publish(compiled, state);
      succeeded = true;
      const durationMs = performance.now() - started;
      const fields = {
        mode: runMode,
        custom: registry.customMetrics().length,
        external: registry.externalMetrics().length,
        series: listing.seriesSeen,
        calls: meter.calls,
        bytes: meter.bytes,
        ms: Math.round(durationMs),
      };
      // NB: one line per relist either way: with its cost at --v=2, the short form at --v=1.
      if (logger.enabled(2)) logger.info(2, "discovery finished", fields);
      else
        logger.info(1, "discovery finished", {
          custom: fields.custom,
          external: fields.external,
          series: fields.series,
          ms: fields.ms,
        });
      onRun?.({ ok: true, durationMs, snapshot, cost: cost() });
      return true;
    } catch (error) {
      const durationMs = performance.now() - started;
      logger.error("discovery failed; keeping the previous metric registry", { error: (error as Error).message });
      onRun?.({ ok: false, durationMs, snapshot, cost: cost() });
      return false;
    } finally {
      abort = null;
    }
  }

  async function freshPass(): Promise<FreshPassOutcome> {
    const current = state;
    if (!freshEnabled) return { status: "skipped", reason: "incremental passes are off" };
    if (current === null) return { status: "skipped", reason: "no successful full run yet" };
    if (inFlight !== null) return { status: "skipped", reason: "a full run is in progress" };
    const started = performance.now();
    const startedGeneration = generation;
    const compiled = rules();
    freshAbort = new AbortController();
    let outcome: FreshPassOutcome;
    try {
      const findings = await findNewSeries(
        source,
        labelValues as LabelValuesSource,
        compiled.seriesQueries,
        current.knownNames,
        (clock.now() - maxAge) / 1000,
        freshAbort.signal,
      );
      if (generation !== startedGeneration || state !== current) {
        outcome = { status: "skipped", reason: "a full run started meanwhile" };
      } else {
        for (const name of findings.names) current.knownNames.add(name);
        for (const { query, reason } of findings.skippedQueries)
          logger.info(4, "incremental discovery skips a series query", { query, reason });
        for (const [query, shapes] of findings.shapesByQuery)
          current.added.set(query, [...(current.added.get(query) ?? []), ...shapes]);
        const registryChanged = findings.shapesByQuery.size > 0;
        if (registryChanged) {
          current.seriesSeen += findings.seriesSeen;
          const registry = publish(compiled, current);
          logger.info(1, "incremental discovery added metrics", {
            names: findings.newNames.length,
            custom: registry.customMetrics().length,
            external: registry.externalMetrics().length,
            ms: Math.round(performance.now() - started),
          });
        }
        outcome = { status: "done", newNames: findings.newNames, registryChanged };
      }
    } catch (error) {
      if (generation !== startedGeneration) {
        outcome = { status: "skipped", reason: "a full run started meanwhile" };
      } else {
        // NB: logged quietly; a Prometheus outage is reported by the full runs, not every few seconds.
        logger.info(2, "incremental discovery failed", { error: (error as Error).message });
        outcome = { status: "failed", error: error as Error };
      }
    } finally {
      freshAbort = null;
    }
    onFreshPass?.(outcome, performance.now() - started);
    return outcome;
  }

  function runOnce(): Promise<boolean> {
    if (!inFlight) {
      inFlight = run().finally(() => {
        inFlight = null;
      });
    }
    return inFlight;
  }

  function freshPassOnce(): Promise<FreshPassOutcome> {
    if (!freshInFlight) {
      freshInFlight = freshPass().finally(() => {
        freshInFlight = null;
      });
    }
    return freshInFlight;
  }

  // After a failed run the next one comes sooner: 1 s, then doubling, never later than `interval`. So an adapter
  // that started while Prometheus was away becomes ready seconds after it returns, not a whole interval later.
  let retryDelay = 1000;
  function schedule(ok: boolean): void {
    if (stopped) return;
    const delay = ok ? interval : Math.min(interval, retryDelay);
    retryDelay = ok ? 1000 : Math.min(interval, retryDelay * 2);
    timer = setTimeout(() => {
      timer = null;
      void runOnce().then(schedule);
    }, delay);
  }

  function scheduleFresh(): void {
    if (stopped || !freshEnabled) return;
    freshTimer = setTimeout(() => {
      freshTimer = null;
      void freshPassOnce().then(scheduleFresh);
    }, freshInterval);
  }

  return {
    current: () => snapshot,
    mode: () => resolvedMode,
    ready: () => succeeded || rules().seriesQueries.length === 0,
    runOnce,
    freshPassOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      void runOnce().then(schedule);
      scheduleFresh();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (freshTimer) clearTimeout(freshTimer);
      timer = null;
      freshTimer = null;
      abort?.abort();
      freshAbort?.abort();
    },
  };
}
