/**
 * Load and soak run (not part of `npm test`): many HPA-style clients poll prom-adapter for minutes while the
 * Prometheus behind it is slowed down and fails some calls. Loopback only, bounded in count and time.
 *
 *   npx bun run test/load/soak.ts [--minutes=2] [--clients=200] [--pods=50] [--latency=50] [--failure-rate=0.05]
 *
 * It reports, every 15 s and at the end: requests, errors by status (only 500 "unable to fetch metrics" is
 * expected, from injected failures), latency percentiles, and the adapter's RSS. The adapter runs as its own
 * process (src/main.ts --standalone) so its RSS is measured alone.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFaultyProxy } from "../support/faulty-proxy.ts";
import { spawnAdapter } from "../support/process.ts";
import { openMetricsText, startPrometheus } from "../support/prometheus.ts";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const minutes = arg("minutes", 2);
const clients = arg("clients", 200);
const pods = arg("pods", 50);
const latencyMs = arg("latency", 50);
const failureRate = arg("failure-rate", 0.05);
const namespaces = 5;

const now = Math.floor(Date.now() / 1000);
const times = Array.from({ length: 20 }, (_, i) => now - 300 + i * 15);
const series = [];
for (let n = 0; n < namespaces; n++) {
  for (let p = 0; p < pods; p++) {
    series.push({
      name: "http_requests_total",
      type: "counter" as const,
      labels: { namespace: `ns-${n}`, pod: `web-${p}` },
      samples: times.map((t) => [t, t - times[0]! + p] as const),
    });
  }
}
const prometheus = await startPrometheus({ openMetrics: openMetricsText(series), lookbackDelta: "1h" });
const proxy = startFaultyProxy(prometheus.url);
proxy.setTrouble({ latencyMs, jitterMs: latencyMs, failureRate });
const dir = mkdtempSync(join(tmpdir(), "soak-"));
// NB: the data is backfilled once, so it ages: discovery must look back further than its default minute.
const adapter = await spawnAdapter([
  "--standalone",
  `--prometheus-url=${proxy.url}`,
  "--secure-port=0",
  `--cert-dir=${join(dir, "certs")}`,
  "--prometheus-timeout=5s",
  "--metrics-max-age=2h",
]);
await adapter.waitForLog("serving");
for (let i = 0; i < 100; i++) {
  const ready = await fetch(`https://127.0.0.1:${adapter.port}/readyz`, {
    tls: { rejectUnauthorized: false },
  } as RequestInit).catch(() => null);
  if (ready?.status === 200) break;
  await Bun.sleep(100);
}

const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${adapter.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const latencies: number[] = [];
const codes = new Map<string, number>();
const rssSamples: { atSeconds: number; rssMb: number }[] = [];
const started = performance.now();
const deadline = started + minutes * 60_000;

async function client(id: number): Promise<void> {
  const namespace = `ns-${id % namespaces}`;
  const path = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${namespace}/pods/%2A/http_requests`;
  // HPAs poll every 15 s; many HPAs spread over the period. Here each client polls every 1-2 s to compress time.
  while (performance.now() < deadline) {
    const t0 = performance.now();
    let code: string;
    try {
      const response = await fetch(`https://127.0.0.1:${adapter.port}${path}`, {
        headers: { accept: "application/vnd.kubernetes.protobuf, */*" },
        tls: { rejectUnauthorized: false },
      } as RequestInit);
      const body = await response.text();
      code =
        response.status === 500 && body.includes("unable to fetch metrics")
          ? "500 unable to fetch metrics"
          : String(response.status);
    } catch (error) {
      code = `client error: ${(error as Error).message}`;
    }
    latencies.push(performance.now() - t0);
    codes.set(code, (codes.get(code) ?? 0) + 1);
    await Bun.sleep(1000 + Math.random() * 1000);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function report(label: string): void {
  const sorted = [...latencies].sort((a, b) => a - b);
  const atSeconds = Math.round((performance.now() - started) / 1000);
  const rssMb = rss();
  rssSamples.push({ atSeconds, rssMb });
  console.log(
    `${label.padEnd(6)} t=${String(atSeconds).padStart(4)}s requests=${latencies.length} p50=${percentile(sorted, 50).toFixed(1)}ms p99=${percentile(sorted, 99).toFixed(1)}ms rss=${rssMb.toFixed(1)}MB codes=${JSON.stringify(Object.fromEntries(codes))}`,
  );
}

console.log(
  `soak: ${clients} clients, ${namespaces}x${pods} pods, Prometheus latency ${latencyMs}±${latencyMs} ms, ${failureRate * 100}% injected failures, ${minutes} min`,
);
const timer = setInterval(() => report("tick"), 15_000);
await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
clearInterval(timer);
report("final");
const unexpected = [...codes].filter(([code]) => code !== "200" && code !== "500 unable to fetch metrics");
const growth = rssSamples.length > 2 ? rssSamples.at(-1)!.rssMb - rssSamples[1]!.rssMb : 0;
console.log(
  `unexpected errors: ${unexpected.length === 0 ? "none" : JSON.stringify(unexpected)}; RSS change after warm-up: ${growth.toFixed(1)} MB`,
);

await adapter.stop();
await proxy.stop();
await prometheus.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(unexpected.length === 0 ? 0 : 1);
