/**
 * The synthetic data set: `series` series of `METRICS` gauge families, each on `series / METRICS` pods spread over
 * `NAMESPACES` namespaces, with `namespace`, `pod`, `job` and `instance` labels (the label set a real application
 * metric has). One sample per series, `SAMPLE_AGE_SECONDS` before generation, backfilled with promtool.
 */
import { startPrometheus, type RunningPrometheus } from "../../test/support/prometheus.ts";

/** Metric families (`bench_metric_00` …). */
export const METRICS = 10;
/** Namespaces (`ns-0` …); pods are spread round-robin. */
export const NAMESPACES = 100;
/** Age of the backfilled samples relative to the generation time, in seconds. */
export const SAMPLE_AGE_SECONDS = 30;

/** A started Prometheus with the data set, and when the samples were written. */
export interface Dataset {
  readonly prometheus: RunningPrometheus;
  readonly series: number;
  /** Unix seconds of the backfilled samples. */
  readonly sampleTimeSeconds: number;
  /** Milliseconds promtool took, and Prometheus from spawn to ready. */
  readonly timings: RunningPrometheus["timings"];
}

/** `bench_metric_07` */
export function metricName(index: number): string {
  return `bench_metric_${String(index).padStart(2, "0")}`;
}

/** The namespace of pod `pod` (round-robin). */
export function namespaceOf(pod: number): string {
  return `ns-${pod % NAMESPACES}`;
}

/** OpenMetrics text for `series` series (series / METRICS pods × METRICS families). */
export function openMetricsFor(series: number, sampleTimeSeconds: number): string {
  const pods = Math.ceil(series / METRICS);
  const lines: string[] = [];
  let written = 0;
  for (let metric = 0; metric < METRICS && written < series; metric++) {
    const name = metricName(metric);
    lines.push(`# TYPE ${name} gauge`);
    for (let pod = 0; pod < pods && written < series; pod++, written++) {
      const ip = `10.${(pod >> 16) & 255}.${(pod >> 8) & 255}.${pod & 255}`;
      lines.push(
        `${name}{instance="${ip}:8080",job="bench-app",namespace="${namespaceOf(pod)}",pod="bench-app-${pod}-7c9f8d6b5-x2k4q"} ${(pod % 97) + metric} ${sampleTimeSeconds}`,
      );
    }
  }
  lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

/** Backfills the data set and starts Prometheus on 127.0.0.1 (queries see the samples for an hour). */
export async function startDataset(series: number): Promise<Dataset> {
  const sampleTimeSeconds = Math.floor(Date.now() / 1000) - SAMPLE_AGE_SECONDS;
  const prometheus = await startPrometheus({
    openMetrics: openMetricsFor(series, sampleTimeSeconds),
    lookbackDelta: "1h",
    readyTimeoutMs: 600_000,
  });
  return { prometheus, series, sampleTimeSeconds, timings: prometheus.timings };
}

/**
 * OpenMetrics text for many names with few series each: `names` gauges `bench_name_00000` …, `seriesPerName` pods
 * each, same labels as {@link openMetricsFor}. The case where one index call per name would lose to listing series.
 */
export function openMetricsForManyNames(names: number, seriesPerName: number, sampleTimeSeconds: number): string {
  const lines: string[] = [];
  for (let index = 0; index < names; index++) {
    const name = `bench_name_${String(index).padStart(5, "0")}`;
    lines.push(`# TYPE ${name} gauge`);
    for (let pod = 0; pod < seriesPerName; pod++) {
      lines.push(
        `${name}{instance="10.0.0.${pod}:8080",job="bench-app",namespace="${namespaceOf(index)}",pod="bench-app-${index}-${pod}"} ${pod} ${sampleTimeSeconds}`,
      );
    }
  }
  lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

/** Backfills {@link openMetricsForManyNames} and starts Prometheus on 127.0.0.1. */
export async function startManyNamesDataset(names: number, seriesPerName: number): Promise<Dataset> {
  const sampleTimeSeconds = Math.floor(Date.now() / 1000) - SAMPLE_AGE_SECONDS;
  const openMetrics = openMetricsForManyNames(names, seriesPerName, sampleTimeSeconds);
  const prometheus = await startPrometheus({ openMetrics, lookbackDelta: "1h", readyTimeoutMs: 600_000 });
  return { prometheus, series: names * seriesPerName, sampleTimeSeconds, timings: prometheus.timings };
}
