/**
 * Discovery modes side by side (issue 17): the adapter binary in `--discovery-mode=labels` and `=series`, and the raw
 * `/api/v1/series` download of the same seriesQueries, against one Prometheus. Per row: discovery time (median of
 * the runs), bytes and calls per run (the adapter's own `--v=2` relist line; the raw download counts its bodies),
 * Prometheus CPU seconds per run (its `process_cpu_seconds_total` before and after) and the peak increase of its
 * resident memory during the runs over the value just before them (sampled every 20 ms from /proc/<pid>/stat, the
 * source of its `process_resident_memory_bytes`, so the sampling itself costs Prometheus nothing), and the adapter's
 * peak RSS (VmHWM).
 *
 * Order matters for Prometheus' memory: Go keeps the heap a series answer grew for minutes, so a later row starts
 * from a bigger RSS and shows a smaller increase. Labels mode runs first (fresh Prometheus), then series mode, then
 * the raw download, whose RSS increase is therefore understated (shown, but read it as a lower bound).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { logField, REPO_ROOT, spawnAdapter } from "../lib/adapter-process.ts";
import { download, seriesUrl } from "../lib/prometheus-api.ts";
import { DEFAULT_SERIES_QUERIES } from "../lib/queries.ts";
import { median } from "../lib/stats.ts";
import type { RunningPrometheus } from "../../test/support/prometheus.ts";

export interface ModeRow {
  /** `labels`, `series` or `raw download`. */
  readonly mode: string;
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  /** Per run. */
  readonly bytes: number;
  readonly calls: number;
  /** Prometheus CPU seconds per run (for a failed adapter row: of its one, failed run). */
  readonly prometheusCpuSeconds: number;
  /** Peak Prometheus RSS during the runs minus its RSS just before them. */
  readonly prometheusRssIncreaseBytes: number;
  /** VmHWM of the adapter process; null for the raw download. */
  readonly adapterPeakRssBytes: number | null;
  /** Why the adapter's discovery failed (e.g. the series answer exceeds the 256 MiB body bound); null when it worked. */
  readonly failure: string | null;
}

export interface DiscoveryModesResult {
  readonly dataset: string;
  readonly rows: readonly ModeRow[];
}

const RUNS = 3;

export async function measureDiscoveryModes(
  prometheus: RunningPrometheus,
  { dataset, binary, certDir }: { dataset: string; binary: string; certDir: string },
): Promise<DiscoveryModesResult> {
  const pid = prometheusPid(prometheus.dir);
  const rows: ModeRow[] = [];
  for (const mode of ["labels", "series"] as const) {
    rows.push(await measureAdapter(prometheus, pid, mode, binary, certDir));
  }
  rows.push(await measureRawDownload(prometheus, pid));
  return { dataset, rows };
}

async function measureAdapter(
  prometheus: RunningPrometheus,
  pid: number,
  mode: "labels" | "series",
  binary: string,
  certDir: string,
): Promise<ModeRow> {
  const watch = await watchPrometheus(prometheus, pid);
  const adapter = await spawnAdapter({
    prometheusUrl: prometheus.url,
    binary,
    certDir,
    // NB: --config so that SIGHUP (reload) triggers the later runs.
    args: [
      "--config",
      join(REPO_ROOT, "rules", "default.yaml"),
      "--discovery-mode",
      mode,
      "--metrics-relist-interval",
      "1h",
      "--metrics-max-age",
      "1h",
      "--metrics-fresh-interval",
      "0s",
      "--v",
      "2",
    ],
  });
  try {
    const runsMs: number[] = [];
    let line = "";
    let from = 0;
    for (let run = 0; run < RUNS; run++) {
      if (run > 0) adapter.signal("SIGHUP");
      const found = await adapter.waitForLine(/discovery (finished|failed)/, from, 600_000);
      if (found.line.includes("failed")) {
        const { cpuSeconds, rssIncreaseBytes } = await watch.stop();
        return {
          mode,
          runsMs: [],
          medianMs: Number.NaN,
          bytes: Number.NaN,
          calls: Number.NaN,
          prometheusCpuSeconds: cpuSeconds,
          prometheusRssIncreaseBytes: rssIncreaseBytes,
          adapterPeakRssBytes: adapter.memory().peakBytes,
          failure: /\berror=("(?:[^"\\]|\\.)*"|\S+)/.exec(found.line)?.[1] ?? found.line,
        };
      }
      line = found.line;
      from = found.index + 1;
      runsMs.push(Number(logField(line, "ms")));
    }
    if (logField(line, "mode")?.replaceAll('"', "") !== mode) throw new Error(`expected mode ${mode}: ${line}`);
    const { cpuSeconds, rssIncreaseBytes } = await watch.stop();
    return {
      mode,
      runsMs,
      medianMs: median(runsMs),
      bytes: Number(logField(line, "bytes")),
      calls: Number(logField(line, "calls")),
      prometheusCpuSeconds: cpuSeconds / RUNS,
      prometheusRssIncreaseBytes: rssIncreaseBytes,
      adapterPeakRssBytes: adapter.memory().peakBytes,
      failure: null,
    };
  } finally {
    await adapter.stop();
  }
}

async function measureRawDownload(prometheus: RunningPrometheus, pid: number): Promise<ModeRow> {
  const startSeconds = Math.floor(Date.now() / 1000) - 3600;
  const urls = DEFAULT_SERIES_QUERIES.map((query) => seriesUrl(prometheus.url, query, startSeconds));
  const watch = await watchPrometheus(prometheus, pid);
  const runsMs: number[] = [];
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const results = await Promise.all(urls.map(download));
    runsMs.push(performance.now() - started);
    bytes = results.reduce((sum, result) => sum + result.bytes, 0);
  }
  const { cpuSeconds, rssIncreaseBytes } = await watch.stop();
  return {
    mode: "raw download",
    runsMs,
    medianMs: median(runsMs),
    bytes,
    calls: urls.length,
    prometheusCpuSeconds: cpuSeconds / RUNS,
    prometheusRssIncreaseBytes: rssIncreaseBytes,
    adapterPeakRssBytes: null,
    failure: null,
  };
}

/** Starts sampling Prometheus' RSS; `stop` gives its CPU seconds (own metric) and peak RSS increase since the start. */
async function watchPrometheus(prometheus: RunningPrometheus, pid: number) {
  const cpuBefore = await cpuSecondsOf(prometheus);
  const rssBefore = rssOf(pid);
  let peak = rssBefore;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 20);
  return {
    async stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssOf(pid));
      return { cpuSeconds: (await cpuSecondsOf(prometheus)) - cpuBefore, rssIncreaseBytes: peak - rssBefore };
    },
  };
}

/** Prometheus' own `process_cpu_seconds_total`. */
async function cpuSecondsOf(prometheus: RunningPrometheus): Promise<number> {
  const text = await (await fetch(`${prometheus.url}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith("process_cpu_seconds_total "));
  if (line === undefined) throw new Error("Prometheus has no process_cpu_seconds_total");
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Resident bytes from /proc/<pid>/stat (field 24, pages), as Prometheus' process collector reads it. */
function rssOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[21]) * 4096;
}

/** The pid of the Prometheus whose command line names `dir` (its data and config directory). */
function prometheusPid(dir: string): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.includes(dir) && cmdline.split("\0")[0]?.endsWith("prometheus")) return Number(entry);
  }
  throw new Error(`no Prometheus process runs with ${dir}`);
}
