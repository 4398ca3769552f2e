/**
 * The request path under load, each side measured by the same keep-alive load generator in its own process:
 * - cache misses (`--query-cache-ttl=0s`, requests spread over all namespaces) through prom-adapter vs the same
 *   PromQL sent straight to Prometheus;
 * - cache hits (default TTL, one URL) with 32 connections vs a bare Bun.serve hello-world over TLS.
 */
import { join } from "node:path";
import { spawnAdapter } from "../lib/adapter-process.ts";
import { metricName, NAMESPACES, type Dataset } from "../lib/dataset.ts";
import { load, type LoadSummary } from "../lib/load.ts";
import { podsPath, podsQuery } from "../lib/queries.ts";

export interface RequestsResult {
  readonly podsPerNamespace: number;
  readonly missConnections: number;
  readonly adapterMiss: LoadSummary;
  readonly directMiss: LoadSummary;
  readonly hitConnections: number;
  readonly adapterHit: LoadSummary;
  readonly bareBunServe: LoadSummary;
}

const MISS_CONNECTIONS = 4;
const HIT_CONNECTIONS = 32;

export async function measureRequests(
  dataset: Dataset,
  { binary, certDir, durationMs }: { binary: string; certDir: string; durationMs: number },
): Promise<RequestsResult> {
  const metric = metricName(0);
  const namespaces = Array.from({ length: NAMESPACES }, (_, index) => `ns-${index}`);
  const prometheus = new URL(dataset.prometheus.url);
  const common = { host: "127.0.0.1", durationMs, warmupMs: 1000 };
  const adapterArgs = ["--metrics-max-age", "1h", "--v", "1"];

  const missAdapter = await spawnAdapter({
    prometheusUrl: dataset.prometheus.url,
    binary,
    certDir,
    args: [...adapterArgs, "--query-cache-ttl", "0s"],
  });
  let adapterMiss: LoadSummary;
  try {
    await missAdapter.waitForLine(/discovery finished/);
    adapterMiss = await load({
      ...common,
      port: missAdapter.port,
      tls: true,
      paths: namespaces.map((ns) => podsPath(ns, metric)),
      connections: MISS_CONNECTIONS,
    });
  } finally {
    await missAdapter.stop();
  }
  const directMiss = await load({
    ...common,
    port: Number(prometheus.port),
    tls: false,
    paths: namespaces.map(
      (ns) =>
        `${prometheus.pathname.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(podsQuery(ns, metric))}`,
    ),
    connections: MISS_CONNECTIONS,
  });

  const hitAdapter = await spawnAdapter({ prometheusUrl: dataset.prometheus.url, binary, certDir, args: adapterArgs });
  let adapterHit: LoadSummary;
  try {
    await hitAdapter.waitForLine(/discovery finished/);
    adapterHit = await load({
      ...common,
      port: hitAdapter.port,
      tls: true,
      paths: [podsPath("ns-0", metric)],
      connections: HIT_CONNECTIONS,
    });
  } finally {
    await hitAdapter.stop();
  }

  const hello = Bun.spawn(
    [
      process.execPath,
      "run",
      join(import.meta.dir, "..", "lib", "hello-server.ts"),
      join(certDir, "apiserver.crt"),
      join(certDir, "apiserver.key"),
    ],
    {
      stdout: "pipe",
      stderr: "inherit",
      stdin: "ignore",
    },
  );
  let bareBunServe: LoadSummary;
  try {
    const reader = hello.stdout.getReader();
    const { value } = await reader.read();
    const port = Number(new TextDecoder().decode(value).trim());
    bareBunServe = await load({ ...common, port, tls: true, paths: ["/"], connections: HIT_CONNECTIONS });
  } finally {
    hello.kill("SIGTERM");
    await hello.exited;
  }
  return {
    podsPerNamespace: Math.ceil(dataset.series / 10 / NAMESPACES),
    missConnections: MISS_CONNECTIONS,
    adapterMiss,
    directMiss,
    hitConnections: HIT_CONNECTIONS,
    adapterHit,
    bareBunServe,
  };
}
