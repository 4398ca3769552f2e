/** Series fixtures shared by the integration tests, built for promtool backfill (test/support/prometheus.ts). */
import type { OpenMetricsSeries } from "./prometheus.ts";

/**
 * Sample times every 15 s from now-240 s to now-30 s. NB: both ends of a [5m] range are then more than 1.1 intervals
 * from a sample, so rate() extrapolates by a fixed half interval and gives the same value at any evaluation time in
 * the next minute: the adapter's answer and the same query sent directly agree exactly. The last sample is inside
 * the default --metrics-max-age (1m) and the query lookback (5m).
 */
export function recentSampleTimes(nowSeconds = Math.floor(Date.now() / 1000)): number[] {
  return Array.from({ length: 15 }, (_, i) => nowSeconds - 240 + i * 15);
}

/** A counter rising by `perSecond` from 100 over `times` (default `http_requests_total`). */
export function risingCounter(
  labels: Record<string, string>,
  perSecond: number,
  times: readonly number[],
  name = "http_requests_total",
): OpenMetricsSeries {
  const first = times[0] ?? 0;
  return { name, type: "counter", labels, samples: times.map((t) => [t, 100 + perSecond * (t - first)] as const) };
}

/** A gauge holding `value` over `times`. */
export function steadyGauge(
  name: string,
  labels: Record<string, string>,
  value: number,
  times: readonly number[],
): OpenMetricsSeries {
  return { name, labels, samples: times.map((t) => [t, value] as const) };
}
