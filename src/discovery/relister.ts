/**
 * The discovery loop (spec rules.md §2): runs at start, then `interval` after the previous run finished (never
 * overlapping). Each run lists series from `now - maxAge`, builds fresh registries and swaps them in atomically. A
 * failed run keeps the previous registries. `ready` turns true after the first successful run.
 */
import type { Logger } from "../observability/logger.ts";
import type { CompiledRules } from "../naming/compile-rules.ts";
import { buildMetricRegistry, EMPTY_REGISTRY, type MetricRegistry } from "../registry/metric-registry.ts";
import type { Clock } from "../util/clock.ts";
import type { Milliseconds } from "../util/duration.ts";
import { listSeriesShapes, type SeriesSource } from "./series-lister.ts";

export interface DiscoverySnapshot {
  readonly registry: MetricRegistry;
  /** Wall-clock time (ms) the run that built it finished; 0 for the empty initial snapshot. */
  readonly completedAt: number;
  /** Series received by that run. */
  readonly seriesSeen: number;
}

export interface RelisterOptions {
  readonly source: SeriesSource;
  /** Read at the start of each run, so a rules reload takes effect on the next run. */
  readonly rules: () => CompiledRules;
  /** `--metrics-relist-interval`; default 1 minute. */
  readonly interval?: Milliseconds;
  /** `--metrics-max-age`: how far back series are listed; default `interval`. */
  readonly maxAge?: Milliseconds;
  /** Called before listing, e.g. to refresh the REST mapper. Its failure fails the run. */
  readonly beforeRun?: () => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Observes every run (for self-metrics); optional. */
  readonly onRun?: (outcome: { ok: boolean; durationMs: number; snapshot: DiscoverySnapshot }) => void;
}

export interface Relister {
  /** The registries in force. */
  current(): DiscoverySnapshot;
  /** True once a run succeeded (or when there is nothing to discover). */
  ready(): boolean;
  /** Runs discovery now, unless a run is in progress (then waits for it). Resolves true when it succeeded. */
  runOnce(): Promise<boolean>;
  /** Starts the loop: one run now, then one `interval` after each run finishes. */
  start(): void;
  stop(): void;
}

export function createRelister({
  source,
  rules,
  interval = 60_000,
  maxAge = interval,
  beforeRun,
  clock,
  logger,
  onRun,
}: RelisterOptions): Relister {
  let snapshot: DiscoverySnapshot = { registry: EMPTY_REGISTRY, completedAt: 0, seriesSeen: 0 };
  let succeeded = false;
  let inFlight: Promise<boolean> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = true;
  let abort: AbortController | null = null;

  async function run(): Promise<boolean> {
    const started = performance.now();
    const compiled = rules();
    abort = new AbortController();
    try {
      await beforeRun?.();
      const startSeconds = (clock.now() - maxAge) / 1000;
      const listing = await listSeriesShapes(source, compiled.seriesQueries, startSeconds, abort.signal);
      const shapesFor = (query: string) => listing.shapesByQuery.get(query) ?? [];
      const { registry, emptyNames } = buildMetricRegistry(
        compiled.custom.map((rule) => ({ rule, series: shapesFor(rule.namer.seriesQuery) })),
        compiled.external.map((rule) => ({ rule, series: shapesFor(rule.namer.seriesQuery) })),
      );
      for (const [ruleId, count] of emptyNames) {
        logger.info(2, "series skipped: metric name expanded to an empty string (write ${1} instead of $1 before text)", { rule: ruleId, series: count });
      }
      snapshot = { registry, completedAt: clock.now(), seriesSeen: listing.seriesSeen };
      succeeded = true;
      const durationMs = performance.now() - started;
      logger.info(1, "discovery finished", {
        custom: registry.customMetrics().length,
        external: registry.externalMetrics().length,
        series: listing.seriesSeen,
        ms: Math.round(durationMs),
      });
      onRun?.({ ok: true, durationMs, snapshot });
      return true;
    } catch (error) {
      const durationMs = performance.now() - started;
      logger.error("discovery failed; keeping the previous metric registry", { error: (error as Error).message });
      onRun?.({ ok: false, durationMs, snapshot });
      return false;
    } finally {
      abort = null;
    }
  }

  function runOnce(): Promise<boolean> {
    if (!inFlight) {
      inFlight = run().finally(() => {
        inFlight = null;
      });
    }
    return inFlight;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void runOnce().then(schedule);
    }, interval);
  }

  return {
    current: () => snapshot,
    ready: () => succeeded || rules().seriesQueries.length === 0,
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      void runOnce().then(schedule);
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      abort?.abort();
    },
  };
}
