/**
 * `npm run bench`: prom-adapter against a real Prometheus on 127.0.0.1, side by side with the floors (see README.md).
 *
 *   bun run bench/run.ts [--sizes=10k,100k] [--1m] [--skip=discovery,modes,names,requests,coalescing,backends,freshness,startup,cost,client-cert]
 *                        [--duration=5s] [--out=bench/results.json]
 *
 * Prints a table of measurements and targets and writes the raw numbers as JSON.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { spawnAdapter, REPO_ROOT } from "./lib/adapter-process.ts";
import { startDataset, startManyNamesDataset } from "./lib/dataset.ts";
import { markdownTable, mb, ms, ratio, rps } from "./lib/table.ts";
import { measureCoalescing, type CoalescingResult } from "./scenarios/coalescing.ts";
import { measureBackends, type BackendsResult } from "./scenarios/backends.ts";
import { measureDiscovery, type DiscoveryResult } from "./scenarios/discovery.ts";
import { measureDiscoveryModes, type DiscoveryModesResult } from "./scenarios/discovery-modes.ts";
import { measureFreshCost, type FreshCostResult } from "./scenarios/fresh-cost.ts";
import { measureFreshness, type FreshnessResult } from "./scenarios/freshness.ts";
import { measureRequests, type RequestsResult } from "./scenarios/requests.ts";
import { measureStartup, type StartupResult } from "./scenarios/startup.ts";
import { measureClientCert, type ClientCertResult } from "./scenarios/client-cert.ts";

const SIZES: Readonly<Record<string, number>> = { "10k": 10_000, "100k": 100_000, "1m": 1_000_000, "5m": 5_000_000 };
const SCENARIOS = [
  "discovery",
  "modes",
  "names",
  "requests",
  "coalescing",
  "backends",
  "freshness",
  "startup",
  "cost",
  "client-cert",
] as const;
/** The many-names row of the discovery modes (`names` scenario): names × series per name. */
const MANY_NAMES = { names: 20_000, seriesPerName: 2 };
type Scenario = (typeof SCENARIOS)[number];

interface SizeResults {
  discovery?: DiscoveryResult;
  modes?: DiscoveryModesResult;
  requests?: RequestsResult;
  coalescing?: CoalescingResult;
  backends?: BackendsResult;
  cost?: FreshCostResult;
  backfillMs?: number;
}

function parseArgs(argv: readonly string[]) {
  let sizes = ["10k", "100k"];
  const skip = new Set<Scenario>();
  let durationMs = 5000;
  let out = join(REPO_ROOT, "bench", "results.json");
  for (const arg of argv) {
    const [flag, value = ""] = arg.split("=", 2) as [string, string?];
    if (flag === "--sizes") sizes = value.split(",").map((size) => size.trim().toLowerCase());
    else if (flag === "--1m") sizes = [...new Set([...sizes, "1m"])];
    else if (flag === "--skip") for (const name of value.split(",")) skip.add(name.trim() as Scenario);
    else if (flag === "--duration") durationMs = Number.parseFloat(value) * (value.endsWith("ms") ? 1 : 1000);
    else if (flag === "--out") out = value;
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const size of sizes)
    if (!(size in SIZES)) throw new Error(`unknown size ${size}; use ${Object.keys(SIZES).join(", ")}`);
  for (const name of skip)
    if (!SCENARIOS.includes(name)) throw new Error(`unknown scenario ${name}; use ${SCENARIOS.join(", ")}`);
  return { sizes, skip, durationMs, out };
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const { sizes, skip, durationMs, out } = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), "prom-adapter-bench-"));
  const binary = join(work, "prom-adapter");
  const certDir = join(work, "certs");
  mkdirSync(certDir);
  try {
    log("building the binary (scripts/build.ts)");
    const build = Bun.spawnSync([process.execPath, "run", join(REPO_ROOT, "scripts", "build.ts"), binary], {
      cwd: REPO_ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
    // The first start generates the serving certificate; every later start (and the hello-world floor) reuses it.
    await (await spawnAdapter({ prometheusUrl: "http://127.0.0.1:9", binary, certDir })).stop();

    const perSize: Record<string, SizeResults> = {};
    for (const size of sizes) {
      const series = SIZES[size] as number;
      log(`${size}: backfilling ${series} series and starting Prometheus`);
      const dataset = await startDataset(series);
      const results: SizeResults = { backfillMs: dataset.timings.backfillMs };
      perSize[size] = results;
      try {
        if (!skip.has("discovery")) {
          log(`${size}: discovery`);
          results.discovery = await measureDiscovery(dataset, {
            binary,
            certDir,
            workDir: work,
            pairs: series >= 1_000_000 ? 4 : 5,
          });
        }
        if (!skip.has("modes")) {
          log(`${size}: discovery modes (labels, series, raw download)`);
          results.modes = await measureDiscoveryModes(dataset.prometheus, {
            dataset: `${size} series`,
            binary,
            certDir,
          });
        }
        if (!skip.has("cost")) {
          log(`${size}: incremental pass cost`);
          results.cost = await measureFreshCost(dataset);
        }
        if (!skip.has("requests")) {
          log(`${size}: request path`);
          results.requests = await measureRequests(dataset, { binary, certDir, durationMs });
        }
        if (!skip.has("coalescing")) {
          log(`${size}: 50 concurrent identical requests`);
          results.coalescing = await measureCoalescing(dataset, { binary, certDir });
        }
        if (!skip.has("backends")) {
          log(`${size}: three backends vs one (cache misses and hits, alternating rounds)`);
          results.backends = await measureBackends(dataset, { binary, certDir, durationMs });
        }
      } finally {
        await dataset.prometheus.stop();
      }
    }

    let manyNames: DiscoveryModesResult | undefined;
    if (!skip.has("names")) {
      const { names, seriesPerName } = MANY_NAMES;
      log(`many names: backfilling ${names} names × ${seriesPerName} series and starting Prometheus`);
      const dataset = await startManyNamesDataset(names, seriesPerName);
      try {
        log("many names: discovery modes");
        manyNames = await measureDiscoveryModes(dataset.prometheus, {
          dataset: `${names / 1000}k names × ${seriesPerName} series`,
          binary,
          certDir,
        });
      } finally {
        await dataset.prometheus.stop();
      }
    }

    let freshness: FreshnessResult | undefined;
    if (!skip.has("freshness")) {
      log("new metric visibility (scrape interval 5 s)");
      freshness = await measureFreshness({ binary, certDir });
    }
    let startup: StartupResult | undefined;
    if (!skip.has("startup")) {
      log("binary startup");
      startup = await measureStartup({ binary, certDir, prometheusUrl: "http://127.0.0.1:9" });
    }

    let clientCert: ClientCertResult | undefined;
    if (!skip.has("client-cert")) {
      log("client certificate cost (no certificate, valid, leaf + 300 look-alike CAs)");
      clientCert = await measureClientCert();
    }

    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryBytes: totalmem(),
      bun: Bun.version,
      date: new Date().toISOString(),
    };
    const report = {
      machine,
      sizes: perSize,
      manyNames,
      freshness,
      startup,
      clientCert,
      targets: evaluateTargets(perSize, freshness, startup),
    };
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${renderReport(report)}\n\nwrote ${out}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

function evaluateTargets(
  perSize: Record<string, SizeResults>,
  freshness: FreshnessResult | undefined,
  startup: StartupResult | undefined,
): Target[] {
  const targets: Target[] = [];
  const add = (name: string, target: string, measured: string | undefined, met: boolean | undefined) =>
    targets.push({ name, target, measured: measured ?? "not measured", met: met ?? null });
  const d1m = perSize["1m"]?.discovery;
  const d100k = perSize["100k"]?.discovery;
  add("peak RSS at 1M series", "≤ 100 MiB", d1m && mb(d1m.peakRssBytes), d1m && d1m.peakRssBytes <= 100 * 1024 * 1024);
  const growth = d1m && d100k ? d1m.peakRssBytes - d100k.peakRssBytes : undefined;
  add(
    "RSS growth 100k → 1M",
    "≤ 20 MiB",
    growth === undefined ? undefined : mb(growth),
    growth === undefined ? undefined : growth <= 20 * 1024 * 1024,
  );
  for (const [size, results] of Object.entries(perSize)) {
    const d = results.discovery;
    if (d)
      add(
        `discovery vs raw download (${size}, median of paired runs)`,
        "≤ 1.10×",
        ratio(d.medianRatio),
        d.medianRatio <= 1.1,
      );
  }
  for (const [size, results] of Object.entries(perSize)) {
    const r = results.requests;
    if (!r) continue;
    add(
      `cache-miss p50 vs direct (${size})`,
      "≤ 1.15×",
      ratio(r.adapterMiss.p50Ms / r.directMiss.p50Ms),
      r.adapterMiss.p50Ms <= 1.15 * r.directMiss.p50Ms,
    );
    const share = r.adapterHit.rps / r.bareBunServe.rps;
    add(
      `cache-hit throughput vs bare Bun.serve (${size})`,
      "≥ 50%, p99 ≤ 2 ms",
      `${Math.round(share * 100)}%, p99 ${ms(r.adapterHit.p99Ms)}`,
      share >= 0.5 && r.adapterHit.p99Ms <= 2,
    );
  }
  for (const [size, results] of Object.entries(perSize)) {
    const b = results.backends;
    if (b)
      add(
        `per-request overhead, three backends vs one (${size}, cache-miss and cache-hit p50)`,
        "≤ 1.05×",
        `${ratio(b.missP50Ratio)} miss, ${ratio(b.hitP50Ratio)} hit`,
        b.missP50Ratio <= 1.05 && b.hitP50Ratio <= 1.05,
      );
    const c = results.coalescing;
    if (c)
      add(
        `Prometheus queries for 50 identical requests (${size})`,
        "≤ 2",
        String(c.prometheusQueries),
        c.prometheusQueries <= 2 && c.ok === c.requests,
      );
  }
  const m1m = perSize["1m"]?.modes;
  const labels1m = m1m?.rows.find((row) => row.mode === "labels");
  const series1m = m1m?.rows.find((row) => row.mode === "series");
  add(
    "label discovery transfer at 1M series",
    "≤ 1 MB",
    labels1m && `${labels1m.bytes} B`,
    labels1m && labels1m.bytes <= 1_000_000,
  );
  const timeShare = labels1m && series1m ? labels1m.medianMs / series1m.medianMs : undefined;
  add(
    "label discovery time vs series mode (1M)",
    "≤ 10%",
    timeShare === undefined ? undefined : `${(timeShare * 100).toFixed(1)}%`,
    timeShare === undefined ? undefined : timeShare <= 0.1,
  );
  const rssShare =
    labels1m && series1m ? labels1m.prometheusRssIncreaseBytes / series1m.prometheusRssIncreaseBytes : undefined;
  add(
    "Prometheus peak RSS increase, labels vs series mode (1M)",
    "≤ 10%",
    rssShare === undefined ? undefined : `${(rssShare * 100).toFixed(1)}%`,
    rssShare === undefined ? undefined : rssShare <= 0.1,
  );
  add(
    "new metric visible (first sample → listed, worst trial)",
    "≤ 15 s",
    freshness && ms(freshness.maxMs),
    freshness && freshness.maxMs <= 15_000,
  );
  add(
    "binary startup to listening (median)",
    "≤ 150 ms",
    startup && ms(startup.medianMs),
    startup && startup.medianMs <= 150,
  );
  return targets;
}

function renderReport(report: {
  machine: { cpus: number; cpuModel: string; memoryBytes: number; bun: string };
  sizes: Record<string, SizeResults>;
  manyNames?: DiscoveryModesResult | undefined;
  freshness?: FreshnessResult | undefined;
  startup?: StartupResult | undefined;
  clientCert?: ClientCertResult | undefined;
  targets: Target[];
}): string {
  const sections: string[] = [];
  const { machine } = report;
  sections.push(
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${mb(machine.memoryBytes)} RAM, Bun ${machine.bun}`,
  );

  const discoveryRows = Object.entries(report.sizes).flatMap(([size, results]) => {
    const d = results.discovery;
    if (!d) return [];
    return [
      [
        size,
        mb(d.responseBytes),
        ms(d.floorMs),
        ms(d.discoveryMs),
        ratio(d.medianRatio),
        ms(d.firstRunMs),
        mb(d.idleRssBytes),
        mb(d.peakRssBytes),
      ],
    ];
  });
  if (discoveryRows.length > 0) {
    sections.push(
      "Discovery (adapter binary, default rules; floor = fetch + arrayBuffer of the same series answers, uncompressed; runs alternate with floor downloads)",
      markdownTable(
        [
          "series",
          "answer size",
          "raw download (median)",
          "discovery (median)",
          "ratio (median of pairs)",
          "first run (cold)",
          "RSS when serving",
          "peak RSS (VmHWM)",
        ],
        discoveryRows,
      ),
    );
  }

  const modeResults = [
    ...Object.values(report.sizes).flatMap((results) => (results.modes ? [results.modes] : [])),
    ...(report.manyNames ? [report.manyNames] : []),
  ];
  if (modeResults.length > 0) {
    const rows = modeResults.flatMap(({ dataset, rows: modeRows }) =>
      modeRows.map((row) => [
        dataset,
        row.mode,
        row.failure === null ? ms(row.medianMs) : `failed: ${row.failure.slice(0, 60)}`,
        Number.isNaN(row.bytes)
          ? "—"
          : row.bytes >= 1024 * 1024
            ? mb(row.bytes)
            : `${(row.bytes / 1024).toFixed(1)} KiB`,
        Number.isNaN(row.calls) ? "—" : String(row.calls),
        `${row.prometheusCpuSeconds.toFixed(2)} s`,
        mb(row.prometheusRssIncreaseBytes),
        row.adapterPeakRssBytes === null ? "—" : mb(row.adapterPeakRssBytes),
      ]),
    );
    sections.push(
      "Discovery modes (adapter binary, default rules; per run, median of 3; Prometheus RSS increase of the raw download is a lower bound: it runs last)",
      markdownTable(
        [
          "dataset",
          "mode",
          "discovery time",
          "bytes received",
          "calls",
          "Prometheus CPU",
          "Prometheus peak RSS increase",
          "adapter peak RSS",
        ],
        rows,
      ),
    );
  }

  const costRows = Object.entries(report.sizes).flatMap(([size, results]) => {
    const c = results.cost;
    if (!c) return [];
    return [
      [
        size,
        `${ms(c.labelValues.ms)} / ${c.labelValues.bytes} B`,
        `${ms(c.narrowedSeries.ms)} / ${mb(c.narrowedSeries.bytes)}`,
        `${ms(c.shortWindowSeries.ms)} / ${mb(c.shortWindowSeries.bytes)}`,
      ],
    ];
  });
  if (costRows.length > 0) {
    sections.push(
      "Incremental pass cost per call (time / bytes)",
      markdownTable(
        [
          "series",
          "label values (chosen, every pass)",
          "series narrowed to 1 new name (N/10 series; only when a name is new)",
          "series with a 60 s start window (rejected)",
        ],
        costRows,
      ),
    );
  }

  const requestRows = Object.entries(report.sizes).flatMap(([size, results]) => {
    const r = results.requests;
    if (!r) return [];
    const row = (label: string, s: { p50Ms: number; p99Ms: number; rps: number; errors: number; nonOk: number }) => [
      size,
      label,
      ms(s.p50Ms),
      ms(s.p99Ms),
      rps(s.rps),
      String(s.errors + s.nonOk),
    ];
    return [
      row(`miss: prom-adapter (${r.missConnections} conns, ${r.podsPerNamespace} pods)`, r.adapterMiss),
      row(`miss: direct PromQL (${r.missConnections} conns)`, r.directMiss),
      row(`hit: prom-adapter (${r.hitConnections} conns)`, r.adapterHit),
      row(`hit floor: bare Bun.serve TLS (${r.hitConnections} conns)`, r.bareBunServe),
    ];
  });
  if (requestRows.length > 0) {
    sections.push(
      "Request path (pods/*/metric; HTTPS keep-alive; load generator in its own process)",
      markdownTable(["series", "path", "p50", "p99", "throughput", "errors"], requestRows),
    );
  }

  const backendRows = Object.entries(report.sizes).flatMap(([size, results]) => {
    const b = results.backends;
    if (!b) return [];
    return (["one", "three"] as const).map((side) => [
      size,
      side === "one" ? "one backend" : "three backends",
      `${ms(b[side].missP50Ms)}, ${rps(b[side].missRps)}`,
      `${ms(b[side].hitP50Ms)}, ${rps(b[side].hitRps)}`,
    ]);
  });
  if (backendRows.length > 0) {
    sections.push(
      "Backends (same rules; three = default + two named backends on the same Prometheus, routed by namespace; medians of alternating rounds)",
      markdownTable(
        ["series", "backends", "miss p50, throughput (4 conns)", "hit p50, throughput (32 conns)"],
        backendRows,
      ),
    );
  }

  const other: string[][] = [];
  for (const [size, results] of Object.entries(report.sizes)) {
    const c = results.coalescing;
    if (c)
      other.push([
        `${c.requests} concurrent identical requests (${size})`,
        `${c.prometheusQueries} Prometheus queries, ${c.ok}/${c.requests} answered 200`,
      ]);
  }
  if (report.freshness) {
    const f = report.freshness;
    other.push([
      "new metric: first sample → listed",
      `median ${ms(f.medianMs)}, worst ${ms(f.maxMs)} (trials ${f.firstSampleToListedMs.map(ms).join(", ")})`,
    ]);
    other.push(["new metric: exposed → listed (adds the scrape wait)", f.exposedToListedMs.map(ms).join(", ")]);
  }
  if (report.startup)
    other.push([
      "binary startup to listening",
      `median ${ms(report.startup.medianMs)}, best ${ms(report.startup.minMs)}`,
    ]);
  if (other.length > 0) sections.push("Other", markdownTable(["measurement", "result"], other));
  if (report.clientCert) {
    sections.push(
      "Client certificate cost (server CPU from /proc; one keep-alive connection, then one connection per request)",
      markdownTable(
        ["client", "CPU per request", "CPU per handshake + request", "status"],
        report.clientCert.rows.map((row) => [
          row.client,
          ms(row.cpuPerRequestMs),
          ms(row.cpuPerHandshakeMs),
          String(row.status),
        ]),
      ),
    );
  }

  sections.push(
    "Targets",
    markdownTable(
      ["target", "goal", "measured", "met"],
      report.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? "—" : t.met ? "yes" : "NO"]),
    ),
  );
  return sections.join("\n\n");
}

await main();
