/**
 * Discovery at scale: the adapter's discovery run time and peak RSS against the time a plain HTTP client needs to
 * download the same `/api/v1/series` answers (the floor). Prometheus' own time to answer varies a lot from call to
 * call at 1M series, so floor downloads and discovery runs alternate (a run is triggered by SIGHUP, which reloads
 * --config and relists) and each pair gives a ratio; the first run at startup (cold JIT) is reported separately.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { logField, REPO_ROOT, spawnAdapter } from "../lib/adapter-process.ts";
import type { Dataset } from "../lib/dataset.ts";
import { download, seriesUrl } from "../lib/prometheus-api.ts";
import { DEFAULT_SERIES_QUERIES } from "../lib/queries.ts";
import { median } from "../lib/stats.ts";

export interface DiscoveryResult {
  readonly series: number;
  /** Bytes of all series answers together. */
  readonly responseBytes: number;
  /** Median milliseconds to download all series answers (concurrently, as the adapter asks them). */
  readonly floorMs: number;
  readonly floorRunsMs: readonly number[];
  /** The adapter's first discovery run, at startup (ms). */
  readonly firstRunMs: number;
  /** Median of the triggered runs (ms). */
  readonly discoveryMs: number;
  readonly runsMs: readonly number[];
  /** Median of (run / the floor download just before it). */
  readonly medianRatio: number;
  /** VmHWM of the adapter after the runs, and its RSS once serving, before the first run finished. */
  readonly peakRssBytes: number;
  readonly idleRssBytes: number;
  readonly seriesSeen: number;
}

export async function measureDiscovery(
  dataset: Dataset,
  { binary, certDir, workDir, pairs }: { binary: string; certDir: string; workDir: string; pairs: number },
): Promise<DiscoveryResult> {
  // NB: the adapter lists from now - max-age; the floor asks for the same window.
  const startSeconds = Math.floor(Date.now() / 1000) - 3600;
  const urls = DEFAULT_SERIES_QUERIES.map((query) => seriesUrl(dataset.prometheus.url, query, startSeconds));
  let responseBytes = 0;
  const downloadAll = async () => {
    const started = performance.now();
    const results = await Promise.all(urls.map(download));
    responseBytes = results.reduce((sum, result) => sum + result.bytes, 0);
    return performance.now() - started;
  };
  await downloadAll(); // warms Prometheus' caches for both sides

  const rulesFile = join(workDir, "rules.yaml");
  copyFileSync(join(REPO_ROOT, "rules", "default.yaml"), rulesFile);
  const adapter = await spawnAdapter({
    prometheusUrl: dataset.prometheus.url,
    binary,
    certDir,
    args: [
      "--config",
      rulesFile,
      "--discovery-mode",
      "series",
      "--metrics-relist-interval",
      "1h",
      "--metrics-max-age",
      "1h",
      "--v",
      "1",
    ],
  });
  const idleRssBytes = adapter.memory().currentBytes;
  const floorRunsMs: number[] = [];
  const runsMs: number[] = [];
  let seriesSeen = 0;
  let peakRssBytes = 0;
  try {
    const nextRun = async (from: number) => {
      const { line, index } = await adapter.waitForLine(/discovery (finished|failed)/, from);
      if (line.includes("failed")) throw new Error(`discovery failed: ${line}`);
      seriesSeen = Number(logField(line, "series"));
      return { ms: Number(logField(line, "ms")), index };
    };
    const first = await nextRun(0);
    let from = first.index + 1;
    for (let pair = 0; pair < pairs; pair++) {
      floorRunsMs.push(await downloadAll());
      adapter.signal("SIGHUP");
      const run = await nextRun(from);
      runsMs.push(run.ms);
      from = run.index + 1;
    }
    peakRssBytes = adapter.memory().peakBytes;
    return {
      series: dataset.series,
      responseBytes,
      floorMs: median(floorRunsMs),
      floorRunsMs,
      firstRunMs: first.ms,
      discoveryMs: median(runsMs),
      runsMs,
      medianRatio: median(runsMs.map((ms, index) => ms / (floorRunsMs[index] as number))),
      peakRssBytes,
      idleRssBytes,
      seriesSeen,
    };
  } finally {
    await adapter.stop();
  }
}
