/** Plain HTTP calls to Prometheus for floors and counters (no prom-adapter code involved). */

/**
 * Downloads one API URL completely with fetch; resolves with bytes and milliseconds. Uncompressed, as prom-adapter
 * asks (compression makes Prometheus slower on a fast network).
 */
export async function download(url: string): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers: { "Accept-Encoding": "identity" } });
  const body = await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return { bytes: body.byteLength, ms: performance.now() - started };
}

/** `/api/v1/series?match[]=…&start=…` for one selector. */
export function seriesUrl(base: string, match: string, startSeconds: number): string {
  return `${base}/api/v1/series?match%5B%5D=${encodeURIComponent(match)}&start=${startSeconds}`;
}

/** How many `/api/v1/query` requests Prometheus has answered (its own `prometheus_http_requests_total`). */
export async function queryRequestCount(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("prometheus_http_requests_total{") && line.includes('handler="/api/v1/query"'))
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}
