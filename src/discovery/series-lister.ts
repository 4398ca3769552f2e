/**
 * One `/api/v1/series` call per distinct `seriesQuery` (rules/README.md, Discovery), run concurrently. When the
 * source can stream, each series is reduced to its shape while the body is still arriving; label values are never
 * decoded and identical (name, label-name set) shapes collapse, so memory follows the number of distinct shapes, not
 * the number of series.
 */
import type { SeriesVisitor } from "../prometheus/series-stream.ts";
import type { SeriesLabels, TransferMeter } from "../prometheus/types.ts";
import type { SeriesShape } from "./registry.ts";
import { createShapeCollector } from "./shape-collector.ts";

/** The part of the Prometheus client discovery needs. */
export interface SeriesSource {
  series(
    matches: readonly string[],
    startSeconds: number,
    signal?: AbortSignal,
    meter?: TransferMeter,
  ): Promise<readonly SeriesLabels[]>;
  /** Streamed variant (PrometheusClient.streamSeries); used instead of `series` when present. Resolves with the series count. */
  streamSeries?(
    matches: readonly string[],
    startSeconds: number,
    visit: SeriesVisitor,
    signal?: AbortSignal,
    meter?: TransferMeter,
  ): Promise<number>;
}

export interface SeriesListing {
  /** Shapes per seriesQuery, ordered by last occurrence in the response (see ShapeCollector.shapes). */
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
  meter?: TransferMeter,
): Promise<SeriesListing> {
  let seriesSeen = 0;
  const entries = await Promise.all(
    seriesQueries.map(async (query) => {
      const { shapes, count } = await listOne(source, query, startSeconds, signal, meter);
      seriesSeen += count;
      return [query, shapes] as const;
    }),
  );
  return { shapesByQuery: new Map(entries), seriesSeen };
}

/** The shapes of one series call (streamed when the source can). */
export async function listOne(
  source: SeriesSource,
  match: string,
  startSeconds: number,
  signal?: AbortSignal,
  meter?: TransferMeter,
): Promise<{ shapes: SeriesShape[]; count: number }> {
  if (source.streamSeries === undefined) {
    const series = await source.series([match], startSeconds, signal, meter);
    return { shapes: collapseShapes(series), count: series.length };
  }
  const collector = createShapeCollector();
  const count = await source.streamSeries(
    [match],
    startSeconds,
    (name, labelNames) => collector.add(name, labelNames),
    signal,
    meter,
  );
  return { shapes: collector.shapes(), count };
}

/** Reduces series to distinct (name, sorted label names) shapes, ordered by last occurrence (see ShapeCollector.shapes). */
export function collapseShapes(series: Iterable<SeriesLabels>): SeriesShape[] {
  const collector = createShapeCollector();
  for (const labels of series) {
    collector.add(
      labels.__name__,
      Object.keys(labels).filter((label) => label !== "__name__"),
    );
  }
  return collector.shapes();
}
