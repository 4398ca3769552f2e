/**
 * How soon a new metric is served: Prometheus scrapes an exporter every 5 s; the adapter runs with its defaults
 * (relist every minute, incremental pass every few seconds). For each trial the exporter starts exposing a new metric;
 * the time of the first scrape that carries it (its first sample) is compared with the moment the adapter's discovery
 * document lists it (polled every 100 ms). The full relist (1 minute) never gets the chance: each trial ends sooner.
 */
import { spawnAdapter } from "../lib/adapter-process.ts";
import { median } from "../lib/stats.ts";
import { startExporter, startPrometheus } from "../../test/support/prometheus.ts";

export interface FreshnessResult {
  readonly scrapeIntervalSeconds: number;
  /** Per trial: first sample → listed by the adapter (ms). */
  readonly firstSampleToListedMs: readonly number[];
  /** Per trial: exposed by the exporter → listed (adds the wait for the next scrape). */
  readonly exposedToListedMs: readonly number[];
  readonly medianMs: number;
  readonly maxMs: number;
}

/** Delays before starting each trial's adapter, spread over the 5 s scrape cycle. */
const PHASES_MS = [300, 2900, 1700, 4300, 1100, 3600];

export async function measureFreshness({
  binary,
  certDir,
  trials = 5,
}: {
  binary: string;
  certDir: string;
  trials?: number;
}): Promise<FreshnessResult> {
  const exposed: { name: string; exposedAt: number; firstScrapeAt?: number }[] = [];
  const exporter = startExporter(() => {
    const now = Date.now();
    const lines = ['bench_base{namespace="fresh",pod="web-0"} 1'];
    for (const metric of exposed) {
      metric.firstScrapeAt ??= now;
      lines.push(`${metric.name}{namespace="fresh",pod="web-0"} 1`);
    }
    return `${lines.join("\n")}\n`;
  });
  const prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeInterval: "5s" });
  try {
    await exporter.scraped(2);
    const firstSampleToListedMs: number[] = [];
    const exposedToListedMs: number[] = [];
    for (let trial = 1; trial <= trials; trial++) {
      // NB: a fresh adapter per trial, started at a different point of the scrape cycle each time: the pass and the
      // scrape both repeat every 5 s, so within one adapter their phase never changes and every trial would measure
      // the same case.
      await Bun.sleep(PHASES_MS[(trial - 1) % PHASES_MS.length] as number);
      const adapter = await spawnAdapter({ prometheusUrl: prometheus.url, binary, certDir, args: ["--v", "1"] });
      try {
        await adapter.waitForLine(/discovery finished/);
        const listed = async (name: string) => {
          const response = await fetch(`https://127.0.0.1:${adapter.port}/apis/custom.metrics.k8s.io/v1beta2`, {
            tls: { ca: adapter.caPem },
          } as RequestInit);
          const body = (await response.json()) as { resources?: { name: string }[] };
          return (body.resources ?? []).some((resource) => resource.name === `pods/${name}`);
        };
        const metric: { name: string; exposedAt: number; firstScrapeAt?: number } = {
          name: `bench_fresh_${trial}`,
          exposedAt: Date.now(),
        };
        exposed.push(metric);
        for (;;) {
          if (await listed(metric.name)) break;
          if (Date.now() - metric.exposedAt > 120_000) throw new Error(`${metric.name} not listed within 120 s`);
          await Bun.sleep(100);
        }
        const listedAt = Date.now();
        firstSampleToListedMs.push(listedAt - (metric.firstScrapeAt ?? listedAt));
        exposedToListedMs.push(listedAt - metric.exposedAt);
      } finally {
        await adapter.stop();
      }
    }
    return {
      scrapeIntervalSeconds: 5,
      firstSampleToListedMs,
      exposedToListedMs,
      medianMs: median(firstSampleToListedMs),
      maxMs: Math.max(...firstSampleToListedMs),
    };
  } finally {
    await prometheus.stop();
    await exporter.stop();
  }
}
