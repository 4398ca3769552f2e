/**
 * One `/api/v1/series` call per distinct `seriesQuery` (spec rules.md §2 steps 3-5), run concurrently. Label values
 * are dropped as soon as a series arrives, and identical (name, label-name set) shapes collapse, so memory follows
 * the number of distinct shapes, not the number of series.
 */
import type { SeriesLabels } from "../prometheus/types.ts";
import type { SeriesShape } from "../registry/metric-registry.ts";

/** The part of the Prometheus client discovery needs. */
export interface SeriesSource {
  series(matches: readonly string[], startSeconds: number, signal?: AbortSignal): Promise<readonly SeriesLabels[]>;
}

export interface SeriesListing {
  /** Shapes per seriesQuery, in Prometheus response order (first occurrence). */
  readonly shapesByQuery: ReadonlyMap<string, readonly SeriesShape[]>;
  /** Series received in total, before collapsing. */
  readonly seriesSeen: number;
}

/** Lists every query; rejects if any call fails (the caller then keeps its previous registry). */
export async function listSeriesShapes(
  source: SeriesSource,
  seriesQueries: readonly string[],
  startSeconds: number,
  signal?: AbortSignal,
): Promise<SeriesListing> {
  let seriesSeen = 0;
  const entries = await Promise.all(
    seriesQueries.map(async (query) => {
      const series = await source.series([query], startSeconds, signal);
      seriesSeen += series.length;
      return [query, collapseShapes(series)] as const;
    }),
  );
  return { shapesByQuery: new Map(entries), seriesSeen };
}

/** Reduces series to distinct (name, sorted label names) shapes, keeping first-seen order. */
export function collapseShapes(series: Iterable<SeriesLabels>): SeriesShape[] {
  const seen = new Map<string, SeriesShape>();
  for (const labels of series) {
    const name = labels.__name__;
    if (name === undefined) continue;
    const labelNames = Object.keys(labels)
      .filter((label) => label !== "__name__")
      .sort();
    const key = `${name}\u0000${labelNames.join("\u0000")}`;
    if (!seen.has(key)) seen.set(key, { name, labelNames });
  }
  return [...seen.values()];
}
