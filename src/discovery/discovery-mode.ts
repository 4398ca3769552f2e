/**
 * `--discovery-mode`: how a full discovery run learns the (metric name, label names) shapes.
 * - `series`: one /api/v1/series call per seriesQuery (every series is downloaded; series-lister.ts);
 * - `labels`: from the label index (label-index-lister.ts), a cost that does not grow with the series count;
 * - `auto` (default): `labels` when a probe shows the backend honours `match[]` on /api/v1/labels and
 *   /api/v1/label/__name__/values, else `series`.
 * Both modes build the same registry (label-index-lister.ts explains why; the property test checks it).
 */
import type { CompiledRules } from "../naming/compile-rules.ts";
import { PrometheusError } from "../prometheus/errors.ts";
import type { TransferMeter } from "../prometheus/types.ts";
import type { SeriesShape } from "./registry.ts";
import { listLabelIndexShapes, type LabelIndexQuery, type LabelIndexSource } from "./label-index-lister.ts";
import { listSeriesShapes, type SeriesSource } from "./series-lister.ts";

/** The values of `--discovery-mode`. */
export const DISCOVERY_MODES = ["series", "labels", "auto"] as const;
export type DiscoveryMode = (typeof DISCOVERY_MODES)[number];
/** The mode a run actually used. */
export type ResolvedDiscoveryMode = Exclude<DiscoveryMode, "auto">;

/** A selector no series has: an honouring backend answers it with empty lists. */
export const PROBE_SELECTOR = '{__name__="prom_adapter_discovery_probe_matches_no_series"}';

/** What the `auto` probe found: `mode` null when it cannot tell yet (the backend has no series in the window). */
export interface ProbeOutcome {
  readonly mode: ResolvedDiscoveryMode | null;
  readonly reason: string;
}

/**
 * Asks whether the backend filters the labels endpoints by `match[]`: a selector matching nothing must give no label
 * names and no metric names, while the unfiltered name list is not empty. A 4xx or an API error on the filtered calls
 * means it does not support them (series mode); network failures and timeouts reject (the run fails and probes again).
 */
export async function probeLabelIndex(
  source: LabelIndexSource,
  startSeconds: number,
  signal?: AbortSignal,
  meter?: TransferMeter,
): Promise<ProbeOutcome> {
  let labels: string[];
  let names: string[];
  try {
    [labels, names] = await Promise.all([
      source.labelNames([PROBE_SELECTOR], startSeconds, signal, meter),
      source.labelValues("__name__", startSeconds, [PROBE_SELECTOR], signal, meter),
    ]);
  } catch (error) {
    if (!refusal(error)) throw error;
    return { mode: "series", reason: `the backend refused match[] on ${error.endpoint}: ${error.message}` };
  }
  if (labels.length > 0) {
    return {
      mode: "series",
      reason: `/api/v1/labels ignores match[] (${labels.length} label names for a selector matching no series)`,
    };
  }
  if (names.length > 0) {
    return {
      mode: "series",
      reason: `/api/v1/label/__name__/values ignores match[] (${names.length} names for a selector matching no series)`,
    };
  }
  const all = await source.labelValues("__name__", startSeconds, [], signal, meter);
  if (all.length === 0)
    return { mode: null, reason: "the backend has no series in the window, so match[] support cannot be told yet" };
  return { mode: "labels", reason: "the backend honours match[] on the labels endpoints" };
}

function refusal(error: unknown): error is PrometheusError {
  if (!(error instanceof PrometheusError)) return false;
  if (error.kind === "api") return true;
  const status = error.statusCode ?? 0;
  return error.kind === "bad_response" && status >= 400 && status < 500;
}

/** Shapes per seriesQuery, however they were found. */
export interface ShapeListing {
  readonly shapesByQuery: ReadonlyMap<string, readonly SeriesShape[]>;
  /** Series downloaded (0 for queries answered from the label index). */
  readonly seriesSeen: number;
  /** Labels mode: queries that had to be listed series by series, with the reason. */
  readonly fellBack: readonly { readonly query: string; readonly reason: string }[];
}

/** The label-index questions for `compiled`: each seriesQuery with the labels its custom rules map to resources. */
export function labelIndexQueries(
  compiled: CompiledRules,
  queries: readonly string[] = compiled.seriesQueries,
): LabelIndexQuery[] {
  return queries.map((query) => {
    const rules = compiled.custom.filter((rule) => rule.namer.seriesQuery === query);
    return {
      query,
      decides: (label: string) => rules.some((rule) => rule.resources.resourceForLabel(label) !== null),
      needsAllNames: compiled.external.some((rule) => rule.namer.seriesQuery === query),
    };
  });
}

/** Lists the shapes of `queries` (default: all of `compiled`'s) in `mode`. */
export async function listShapes(
  source: SeriesSource & LabelIndexSource,
  compiled: CompiledRules,
  mode: ResolvedDiscoveryMode,
  startSeconds: number,
  {
    signal,
    meter,
    queries = compiled.seriesQueries,
  }: { signal?: AbortSignal; meter?: TransferMeter; queries?: readonly string[] } = {},
): Promise<ShapeListing> {
  if (mode === "labels")
    return listLabelIndexShapes(source, labelIndexQueries(compiled, queries), startSeconds, signal, meter);
  const listing = await listSeriesShapes(source, queries, startSeconds, signal, meter);
  return { ...listing, fellBack: [] };
}
