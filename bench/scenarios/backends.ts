/**
 * Per-request overhead of several backends (issue 15): the same default rules served from one backend, and from
 * three (the default plus two named backends with namespace lists and a regex, all on the data set's Prometheus, so
 * every metric is registered by all three and each request is routed by namespace). Both run with
 * `--query-cache-ttl=0s` over every namespace (each request routes, renders and queries) and with the cache on
 * (one URL: routing plus a cache hit, no Prometheus). Runs alternate one/three for `rounds` rounds; the medians of
 * the rounds are compared.
 *
 * NB: both sides run with the fresh pass off and a 10 min relist, so the windows measure the per-request path. Here
 * the three backends are one local Prometheus on the same two cores as the adapter and the load generator, so three
 * backends' background discovery would load that one Prometheus three times and show up as request latency (one run
 * with the defaults measured 1.14× on misses and 1.24× on hits); in a cluster each backend is its own server.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_RULES_TEXT } from "../../src/config/defaults.ts";
import { spawnAdapter } from "../lib/adapter-process.ts";
import { metricName, NAMESPACES, type Dataset } from "../lib/dataset.ts";
import { load, type LoadSummary } from "../lib/load.ts";
import { podsPath } from "../lib/queries.ts";
import { median } from "../lib/stats.ts";

/** Medians over the rounds, per backend count. */
export interface BackendsSide {
  readonly missP50Ms: number;
  readonly missRps: number;
  readonly hitP50Ms: number;
  readonly hitRps: number;
  readonly rounds: readonly { readonly miss: LoadSummary; readonly hit: LoadSummary }[];
}

export interface BackendsResult {
  readonly one: BackendsSide;
  readonly three: BackendsSide;
  /** three / one, of the median p50 latency (1.00 = no overhead). */
  readonly missP50Ratio: number;
  readonly hitP50Ratio: number;
  /** one / three, of the median throughput (1.00 = no overhead). */
  readonly missRpsRatio: number;
  readonly hitRpsRatio: number;
}

const MISS_CONNECTIONS = 4;
const HIT_CONNECTIONS = 32;

function threeBackends(prometheusUrl: string): string {
  const firstThird = Array.from({ length: 33 }, (_, index) => `ns-${index}`).join(", ");
  return `backends:
- name: team-a
  url: ${prometheusUrl}
  namespaces: [${firstThird}]
- name: team-b
  url: ${prometheusUrl}
  namespaces: 'ns-(3[3-9]|[4-6][0-9])'
${DEFAULT_RULES_TEXT}`;
}

export async function measureBackends(
  dataset: Dataset,
  { binary, certDir, durationMs, rounds = 2 }: { binary: string; certDir: string; durationMs: number; rounds?: number },
): Promise<BackendsResult> {
  const dir = mkdtempSync(join(tmpdir(), "prom-adapter-bench-backends-"));
  try {
    const files = { one: join(dir, "one.yaml"), three: join(dir, "three.yaml") };
    writeFileSync(files.one, DEFAULT_RULES_TEXT);
    writeFileSync(files.three, threeBackends(dataset.prometheus.url));
    const metric = metricName(0);
    const missPaths = Array.from({ length: NAMESPACES }, (_, index) => podsPath(`ns-${index}`, metric));
    const common = { host: "127.0.0.1", durationMs, warmupMs: 1000, tls: true };

    const run = async (side: "one" | "three", ttl: string, paths: string[], connections: number) => {
      const adapter = await spawnAdapter({
        prometheusUrl: dataset.prometheus.url,
        binary,
        certDir,
        args: [
          ...["--config", files[side], "--metrics-max-age", "1h", "--v", "1", "--query-cache-ttl", ttl],
          ...["--metrics-fresh-interval", "0s", "--metrics-relist-interval", "10m"],
        ],
      });
      try {
        // One `discovery finished` line per backend.
        let from = 0;
        for (let seen = 0; seen < (side === "one" ? 1 : 3); seen++)
          from = (await adapter.waitForLine(/discovery finished/, from)).index + 1;
        return await load({ ...common, port: adapter.port, paths, connections });
      } finally {
        await adapter.stop();
      }
    };
    const sides = { one: [] as BackendsSide["rounds"][number][], three: [] as BackendsSide["rounds"][number][] };
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? (["one", "three"] as const) : (["three", "one"] as const)) {
        const miss = await run(side, "0s", missPaths, MISS_CONNECTIONS);
        const hit = await run(side, "5s", [podsPath("ns-50", metric)], HIT_CONNECTIONS);
        sides[side].push({ miss, hit });
      }
    }
    const summary = (runs: BackendsSide["rounds"]): BackendsSide => ({
      missP50Ms: median(runs.map((r) => r.miss.p50Ms)),
      missRps: median(runs.map((r) => r.miss.rps)),
      hitP50Ms: median(runs.map((r) => r.hit.p50Ms)),
      hitRps: median(runs.map((r) => r.hit.rps)),
      rounds: runs,
    });
    const one = summary(sides.one);
    const three = summary(sides.three);
    return {
      one,
      three,
      missP50Ratio: three.missP50Ms / one.missP50Ms,
      hitP50Ratio: three.hitP50Ms / one.hitP50Ms,
      missRpsRatio: one.missRps / three.missRps,
      hitRpsRatio: one.hitRps / three.hitRps,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
