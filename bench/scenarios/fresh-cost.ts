/**
 * What an incremental discovery pass costs Prometheus, for the two candidate designs:
 * - label values: `/api/v1/label/__name__/values` (no matcher: answered from the index) plus, for a new name, one
 *   series call narrowed to it;
 * - short window: the rule's series call with `start` one scrape interval back, which still returns every active series.
 * Samples of the data set are SAMPLE_AGE_SECONDS old, so a 60 s window covers all of them, as a short window does
 * on a live Prometheus where every active series was scraped within the last interval.
 */
import type { Dataset } from "../lib/dataset.ts";
import { download, seriesUrl } from "../lib/prometheus-api.ts";
import { DEFAULT_SERIES_QUERIES } from "../lib/queries.ts";
import { median } from "../lib/stats.ts";
import { restrictToNames } from "../../src/discovery/name-restricted-selector.ts";

export interface CallCost {
  readonly ms: number;
  readonly bytes: number;
}

export interface FreshCostResult {
  readonly labelValues: CallCost;
  readonly narrowedSeries: CallCost;
  readonly shortWindowSeries: CallCost;
}

export async function measureFreshCost(dataset: Dataset, repeats = 3): Promise<FreshCostResult> {
  const base = dataset.prometheus.url;
  const start = dataset.sampleTimeSeconds - 30;
  const query =
    DEFAULT_SERIES_QUERIES.find((candidate) => candidate.includes('namespace!="",__name__!~')) ??
    (DEFAULT_SERIES_QUERIES[0] as string);
  const narrowed = restrictToNames(query, ["bench_metric_03"]) as string;
  const measure = async (url: string): Promise<CallCost> => {
    const runs = [];
    for (let i = 0; i < repeats; i++) runs.push(await download(url));
    return { ms: median(runs.map((run) => run.ms)), bytes: runs[0]?.bytes ?? 0 };
  };
  return {
    labelValues: await measure(`${base}/api/v1/label/__name__/values?start=${start}`),
    narrowedSeries: await measure(seriesUrl(base, narrowed, start)),
    shortWindowSeries: await measure(seriesUrl(base, query, start)),
  };
}
