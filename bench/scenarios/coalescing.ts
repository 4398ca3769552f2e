/**
 * Concurrent identical requests: 50 HPA-like requests for a metric nobody asked for yet, all at once; counts the
 * `/api/v1/query` calls Prometheus received meanwhile (its own prometheus_http_requests_total).
 */
import { spawnAdapter } from "../lib/adapter-process.ts";
import { metricName, type Dataset } from "../lib/dataset.ts";
import { queryRequestCount } from "../lib/prometheus-api.ts";
import { podsPath } from "../lib/queries.ts";

export interface CoalescingResult {
  readonly requests: number;
  readonly ok: number;
  readonly prometheusQueries: number;
}

export async function measureCoalescing(
  dataset: Dataset,
  { binary, certDir, requests = 50 }: { binary: string; certDir: string; requests?: number },
): Promise<CoalescingResult> {
  const adapter = await spawnAdapter({
    prometheusUrl: dataset.prometheus.url,
    binary,
    certDir,
    args: ["--metrics-max-age", "1h", "--v", "1"],
  });
  try {
    await adapter.waitForLine(/discovery finished/);
    const url = `https://127.0.0.1:${adapter.port}${podsPath("ns-1", metricName(1))}`;
    const before = await queryRequestCount(dataset.prometheus.url);
    const answers = await Promise.all(
      Array.from({ length: requests }, () =>
        fetch(url, { tls: { ca: adapter.caPem } } as RequestInit).then(
          async (response) => (await response.arrayBuffer(), response.status),
        ),
      ),
    );
    const after = await queryRequestCount(dataset.prometheus.url);
    return { requests, ok: answers.filter((status) => status === 200).length, prometheusQueries: after - before };
  } finally {
    await adapter.stop();
  }
}
