/**
 * The cheap incremental discovery pass: asks Prometheus which metric names exist (`/api/v1/label/__name__/values`
 * without matchers, answered from the index alone) and, only for names not seen before, lists their series with each
 * `seriesQuery` narrowed to those names. Between full relists this makes a new metric visible within seconds while
 * costing Prometheus one small index lookup per pass.
 */
import type { TransferMeter } from "../prometheus/types.ts";
import type { SeriesShape } from "./registry.ts";
import { restrictToNames, SelectorShapeError } from "./name-restricted-selector.ts";
import { listOne, type SeriesSource } from "./series-lister.ts";

/** Lists the values of a label on series with samples at or after `startSeconds` (PrometheusClient.labelValues). */
export type LabelValuesSource = (
  label: string,
  startSeconds: number,
  matches?: readonly string[],
  signal?: AbortSignal,
  meter?: TransferMeter,
) => Promise<string[]>;

/** What one pass found. */
export interface FreshFindings {
  /** Every metric name Prometheus reported (to be remembered as known). */
  readonly names: readonly string[];
  /** Names not known before this pass. */
  readonly newNames: readonly string[];
  /** Shapes of the new names' series, per seriesQuery that matched any. */
  readonly shapesByQuery: ReadonlyMap<string, readonly SeriesShape[]>;
  readonly seriesSeen: number;
  /** Series queries that could not be narrowed (they wait for the next full relist), with the reason. */
  readonly skippedQueries: readonly { readonly query: string; readonly reason: string }[];
}

/** Runs one pass. Rejects when a Prometheus call fails. */
export async function findNewSeries(
  source: SeriesSource,
  labelValues: LabelValuesSource,
  seriesQueries: readonly string[],
  known: ReadonlySet<string>,
  startSeconds: number,
  signal?: AbortSignal,
): Promise<FreshFindings> {
  const names = await labelValues("__name__", startSeconds, [], signal);
  const newNames = names.filter((name) => !known.has(name));
  const shapesByQuery = new Map<string, readonly SeriesShape[]>();
  const skippedQueries: { query: string; reason: string }[] = [];
  let seriesSeen = 0;
  if (newNames.length > 0) {
    await Promise.all(
      seriesQueries.map(async (query) => {
        let narrowed: string | null;
        try {
          narrowed = restrictToNames(query, newNames);
        } catch (error) {
          if (!(error instanceof SelectorShapeError)) throw error;
          skippedQueries.push({ query, reason: error.message });
          return;
        }
        if (narrowed === null) return;
        const { shapes, count } = await listOne(source, narrowed, startSeconds, signal);
        seriesSeen += count;
        if (shapes.length > 0) shapesByQuery.set(query, shapes);
      }),
    );
  }
  return { names, newNames, shapesByQuery, seriesSeen, skippedQueries };
}
