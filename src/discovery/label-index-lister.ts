/**
 * Label-index discovery: the same shapes the registry needs, asked from Prometheus' index instead of listing every
 * series, so the transfer and our work follow the number of metric names and resource labels, not of series.
 *
 * Why this reproduces series mode exactly (buildMetricRegistry): a custom entry depends on a series' label names only
 * through `resourcesForLabels`, which is a union over the labels (`resources(A ∪ B) = resources(A) ∪ resources(B)`),
 * and its scope comes from the REST mapper, not from the labels; filters and `name.matches`/`as` read the name only;
 * the entry's value (series name, rule) is the same for every shape of a name. So the keys a name registers are those
 * of the union of its series' label names, restricted to the labels that map to a resource: mixed shapes (a resource
 * or namespace label on some series of a name only) register nothing a single union shape would not. What remains is
 * order: later entries overwrite earlier ones, and /api/v1/series answers sorted by label set, which is by metric
 * name as long as no label name sorts before `__name__`. So discovery asks:
 *   1. once, `/api/v1/labels` without `match[]`: every label name in the window, from the index alone (cheap);
 *   2. per seriesQuery, for each of those labels that some custom rule of the query maps to a resource:
 *      `/api/v1/label/__name__/values?match[]=<seriesQuery + label!="">`: the names having it on some series;
 *   3. per seriesQuery used by an external rule: `/api/v1/label/__name__/values?match[]=<seriesQuery>` (custom rules
 *      register nothing for a name without resource labels, so their names are those found in step 2);
 *   4. per seriesQuery, for each label sorting before `__name__` (usually none): the names having it; if any, the
 *      order of /api/v1/series depends on label values, and that query is listed with /api/v1/series instead (so is
 *      one that cannot be extended with a matcher).
 * That is a few calls per query, however many names and series there are (a 20k-name dataset costs what a 20-name
 * one does). Prometheus still walks the matching series' index entries for each call (2.42), but sends no series.
 *
 * One difference remains, from Prometheus itself: /api/v1/series keeps series with a sample in the window, the label
 * endpoints keep series of any block overlapping it (2.42; the head block spans ~2-3 h). A metric, or a resource
 * label of one, whose every series stopped before `--metrics-max-age` stays registered until its block leaves the
 * window (discovery-mode.test.ts shows it). Queries for it then find no samples, as for one that stopped within it.
 */
import type { PrometheusClient } from "../prometheus/client.ts";
import type { TransferMeter } from "../prometheus/types.ts";
import type { SeriesShape } from "./registry.ts";
import { SelectorShapeError, withMatcher } from "./name-restricted-selector.ts";
import { listOne, type SeriesSource } from "./series-lister.ts";

/** The index calls label discovery makes. */
export type LabelIndexSource = Pick<PrometheusClient, "labelValues" | "labelNames">;

/** One seriesQuery to discover, with the test for labels that can decide a custom rule's resources. */
export interface LabelIndexQuery {
  readonly query: string;
  /** True when some custom rule with this seriesQuery maps `label` to a resource. */
  readonly decides: (label: string) => boolean;
  /** True when an external rule uses the query: every name counts, with or without resource labels. */
  readonly needsAllNames: boolean;
}

export interface LabelIndexListing {
  /** Per seriesQuery, one shape per metric name, sorted by name: label names are the resource labels it has. */
  readonly shapesByQuery: ReadonlyMap<string, readonly SeriesShape[]>;
  /** Series received by the queries listed with /api/v1/series instead (see {@link fellBack}). */
  readonly seriesSeen: number;
  /** Queries listed with /api/v1/series, with the reason. */
  readonly fellBack: readonly { readonly query: string; readonly reason: string }[];
}

/** Index calls in flight at once across all queries (per-label name lookups). */
const CONCURRENCY = 4;

/** Lists every query from the index; rejects if any call fails (the caller then keeps its previous registry). */
export async function listLabelIndexShapes(
  source: LabelIndexSource & SeriesSource,
  queries: readonly LabelIndexQuery[],
  startSeconds: number,
  signal?: AbortSignal,
  meter?: TransferMeter,
): Promise<LabelIndexListing> {
  const limit = createLimiter(CONCURRENCY);
  const fellBack: { query: string; reason: string }[] = [];
  let seriesSeen = 0;
  const everyLabel = queries.length === 0 ? [] : await source.labelNames([], startSeconds, signal, meter);
  const early = everyLabel.filter((label) => compareBytes(label, "__name__") < 0);
  const namesHaving = (query: string, label: string) =>
    limit(() => source.labelValues("__name__", startSeconds, [withMatcher(query, `${label}!=""`)], signal, meter));
  const entries = await Promise.all(
    queries.map(async ({ query, decides, needsAllNames }) => {
      const reason = await fallbackReason(query, early, namesHaving);
      if (reason !== null) {
        fellBack.push({ query, reason });
        const { shapes, count } = await listOne(source, query, startSeconds, signal, meter);
        seriesSeen += count;
        return [query, shapes] as const;
      }
      const deciding = everyLabel.filter((label) => label !== "__name__" && decides(label)).sort(compareBytes);
      const [all, namesWith] = await Promise.all([
        needsAllNames ? limit(() => source.labelValues("__name__", startSeconds, [query], signal, meter)) : null,
        Promise.all(deciding.map(async (label) => new Set(await namesHaving(query, label)))),
      ]);
      const names = all ?? namesWith.flatMap((set) => [...set]);
      const shapes = [...new Set(names)].sort(compareBytes).map(
        (name): SeriesShape => ({
          name,
          labelNames: deciding.filter((_, index) => namesWith[index]?.has(name)),
        }),
      );
      return [query, shapes] as const;
    }),
  );
  return { shapesByQuery: new Map(entries), seriesSeen, fellBack };
}

/** Why `query` must be listed series by series, or null. `early`: labels sorting before `__name__`. */
async function fallbackReason(
  query: string,
  early: readonly string[],
  namesHaving: (query: string, label: string) => Promise<string[]>,
): Promise<string | null> {
  try {
    withMatcher(query, 'x!=""');
  } catch (error) {
    if (!(error instanceof SelectorShapeError)) throw error;
    return error.message;
  }
  for (const label of early) {
    if ((await namesHaving(query, label)).length > 0) {
      return `label ${JSON.stringify(label)} sorts before __name__, so the order of /api/v1/series depends on label values`;
    }
  }
  return null;
}

/** Byte-order comparison, as Go's sort.Strings (equal to UTF-16 order for the ASCII of names and labels). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs at most `size` of the given tasks at once (a few lines; no dependency carries just this). */
function createLimiter(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // NB: a finishing task hands its slot straight to the next waiter, so `running` never exceeds `size`.
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running--;
      else next();
    }
  };
}
