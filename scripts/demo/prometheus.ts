/**
 * Runs a real Prometheus for the demo (Debian's `prometheus` package, 2.42, found on PATH): backfills a history
 * with promtool, scrapes one target under a given job name, listens on a free 127.0.0.1 port, keeps its data in a
 * directory the caller owns.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** Paths of the two Prometheus binaries. */
export interface PrometheusBinaries {
  readonly prometheus: string;
  readonly promtool: string;
}

/** `prometheus` and `promtool` on PATH, or null when either is missing. */
export function findPrometheusBinaries(): PrometheusBinaries | null {
  const prometheus = Bun.which("prometheus");
  const promtool = Bun.which("promtool");
  return prometheus === null || promtool === null ? null : { prometheus, promtool };
}

/** Options of {@link startDemoPrometheus}. */
export interface DemoPrometheusOptions {
  readonly binaries: PrometheusBinaries;
  /** Directory for the config, the backfill input and the TSDB; created if needed, removed by the caller. */
  readonly dir: string;
  /** `host:port` scraped as `job`. */
  readonly target: string;
  readonly job: string;
  /** Prometheus duration, e.g. `"5s"`. */
  readonly scrapeInterval: string;
  /** OpenMetrics text written into the TSDB with promtool before start (must end with `# EOF`). */
  readonly history?: string;
  /** Milliseconds to wait for `/-/ready`. Default 30 000. */
  readonly readyTimeoutMs?: number;
}

/** A running Prometheus. */
export interface DemoPrometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  /** The last 64 KiB of its log. */
  log(): string;
  /** SIGTERM, wait (SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
}

const LOG_LIMIT = 64 * 1024;

/** Backfills, writes the config, starts Prometheus and waits until `/-/ready` answers 200. */
export async function startDemoPrometheus(options: DemoPrometheusOptions): Promise<DemoPrometheus> {
  const { binaries, dir, target, job, scrapeInterval, history, readyTimeoutMs = 30_000 } = options;
  const dataDir = join(dir, "data");
  mkdirSync(dataDir, { recursive: true });
  if (history !== undefined) {
    const input = join(dir, "history.om");
    writeFileSync(input, history);
    const backfill = Bun.spawnSync([binaries.promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", input, dataDir], { stdout: "pipe", stderr: "pipe" });
    if (backfill.exitCode !== 0) throw new Error(`promtool could not backfill the history: ${backfill.stderr.toString()}${backfill.stdout.toString()}`);
  }
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(
    configFile,
    [
      "global:",
      `  scrape_interval: ${scrapeInterval}`,
      `  scrape_timeout: ${scrapeInterval}`,
      "scrape_configs:",
      `  - job_name: ${job}`,
      "    static_configs:",
      `      - targets: [${JSON.stringify(target)}]`,
      "",
    ].join("\n"),
  );

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = Bun.spawn(
    [binaries.prometheus, `--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  let log = "";
  // NB: drain stderr for the whole life of the process: a full pipe would block Prometheus.
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      log += decoder.decode(chunk, { stream: true });
      if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
    }
  })().catch(() => {});

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.exited;
      clearTimeout(timer);
    })());

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}:\n${tail(log)}`);
    const ready = await fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within ${readyTimeoutMs} ms:\n${tail(log)}`);
    }
    await Bun.sleep(100);
  }
  return { url, pid: child.pid, log: () => log, stop };
}

/** A port that was free a moment ago (bind 127.0.0.1:0, read it, close). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("could not read the bound port");
  return address.port;
}

function tail(log: string): string {
  return log.split("\n").slice(-15).join("\n");
}
