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
 * name as long as no label name sorts before `__name__`. Per seriesQuery this module therefore asks:
 *   1. `/api/v1/label/__name__/values?match[]=<seriesQuery>`: the names;
 *   2. `/api/v1/labels?match[]=<seriesQuery>`: the union of label names over all of them;
 *   3. for each label of that union that some custom rule of the query maps to a resource:
 *      `/api/v1/label/__name__/values?match[]=<seriesQuery + label!="">`: the names having it on some series.
 * That is 2 + (resource labels) calls per query, however many names and series there are (a 20k-name dataset costs
 * what a 20-name one does). A query whose union holds a label sorting before `__name__` (then series order depends on
 * label values), or that cannot be extended with a matcher, is listed with /api/v1/series instead.
 */
import type { TransferMeter } from "../prometheus/types.ts";
import type { SeriesShape } from "../registry/metric-registry.ts";
import { SelectorShapeError, withMatcher } from "./name-restricted-selector.ts";
import { listOne, type SeriesSource } from "./series-lister.ts";

/** The index calls label discovery makes (PrometheusClient.labelValues and labelNames). */
export interface LabelIndexSource {
  labelValues(label: string, startSeconds: number, matches?: readonly string[], signal?: AbortSignal, meter?: TransferMeter): Promise<string[]>;
  labelNames(matches: readonly string[], startSeconds: number, signal?: AbortSignal, meter?: TransferMeter): Promise<string[]>;
}

/** One seriesQuery to discover, with the test for labels that can decide a custom rule's resources. */
export interface LabelIndexQuery {
  readonly query: string;
  /** True when some custom rule with this seriesQuery maps `label` to a resource. */
  readonly decides: (label: string) => boolean;
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
  const entries = await Promise.all(
    queries.map(async ({ query, decides }) => {
      const [names, union] = await Promise.all([
        limit(() => source.labelValues("__name__", startSeconds, [query], signal, meter)),
        limit(() => source.labelNames([query], startSeconds, signal, meter)),
      ]);
      const reason = fallbackReason(query, union);
      if (reason !== null) {
        fellBack.push({ query, reason });
        const { shapes, count } = await listOne(source, query, startSeconds, signal, meter);
        seriesSeen += count;
        return [query, shapes] as const;
      }
      const deciding = union.filter((label) => label !== "__name__" && decides(label)).sort(compareBytes);
      const namesWith = await Promise.all(
        deciding.map(async (label) => {
          const having = await limit(() => source.labelValues("__name__", startSeconds, [withMatcher(query, `${label}!=""`)], signal, meter));
          return new Set(having);
        }),
      );
      const shapes = [...new Set(names)].sort(compareBytes).map((name): SeriesShape => ({
        name,
        labelNames: deciding.filter((_, index) => namesWith[index]?.has(name)),
      }));
      return [query, shapes] as const;
    }),
  );
  return { shapesByQuery: new Map(entries), seriesSeen, fellBack };
}

/** Why `query` must be listed series by series, or null. */
function fallbackReason(query: string, union: readonly string[]): string | null {
  const early = union.find((label) => compareBytes(label, "__name__") < 0);
  if (early !== undefined) {
    return `label ${JSON.stringify(early)} sorts before __name__, so the order of /api/v1/series depends on label values`;
  }
  try {
    withMatcher(query, 'x!=""');
  } catch (error) {
    if (!(error instanceof SelectorShapeError)) throw error;
    return error.message;
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
