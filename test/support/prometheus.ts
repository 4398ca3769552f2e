/**
 * Runs a real Prometheus (Debian's 2.42 in CI, or `PROMETHEUS_BIN`) for integration tests: optional backfilled
 * samples, optional scrape targets, on a free 127.0.0.1 port with a throw-away data directory.
 *
 * Backfilling "now" (worked out against Prometheus/promtool 2.42; see prometheus.test.ts):
 * - `promtool tsdb create-blocks-from openmetrics <file> <data dir>` writes blocks straight into the data directory
 *   before Prometheus starts; Prometheus loads them at startup. An instant query at the current time sees a sample
 *   whose timestamp is within the lookback window (`--query.lookback-delta`, default 5m) before it, so samples at
 *   "now minus a few seconds" answer queries at "now" for about five minutes (backfilled series have no staleness
 *   markers). Pass `lookbackDelta` for tests that need longer.
 * - Timestamps are Unix SECONDS (fractions allowed). Milliseconds are taken as seconds (year ~58000) and never match.
 * - The input must end with `# EOF` and must not contain blank lines (promtool rejects both: "data does not end with
 *   # EOF", "\"INVALID\" \"\\n\" is not a valid start token"); {@link startPrometheus} normalises raw text for that.
 * - Samples of one series must be in time order: promtool silently DROPS an out-of-order sample (exit code 0).
 *   {@link openMetricsText} sorts them.
 * - A `counter` family's samples should be named `<family>_total`; promtool 2.42 also accepts a bare name, but the
 *   OpenMetrics format does not, so {@link openMetricsText} requires the suffix.
 * - promtool cuts blocks at 2-hour-aligned boundaries, so data spanning one gives two blocks. Overlapping blocks load
 *   fine: since 2.39 overlap is always allowed (`--storage.tsdb.allow-overlapping-blocks` is a deprecated no-op,
 *   Prometheus only logs "Overlapping blocks found").
 * - Time retention counts back from the NEWEST block, not from the clock: with the default 15d, backfilling a sample
 *   from 20 days ago next to one from now deletes the old block at startup ("Deleting obsolete block"). The harness
 *   passes `--storage.tsdb.retention.time=100y`.
 * - Do not backfill future timestamps: queries at "now" do not see them, and until the clock passes the newest
 *   block's end the head drops EVERY scraped sample, `up` included ("out of bounds" in the log).
 *
 * Scraping: Prometheus 2.42 hands new targets to the scrape manager on a 5-second ticker, so the FIRST scrape comes
 * 5–6 s after "ready" whatever `scrapeInterval` says (later ones follow the interval). Wait with
 * {@link Exporter.scraped}, give such tests a timeout well above 6 s, and share one Prometheus per test file.
 *
 * Measured on a 2-CPU container (`timings` on the handle): promtool for a few series 0.10–0.18 s, Prometheus spawn
 * to ready 0.09–0.16 s; a whole startPrometheus() with backfill ≈ 0.2–0.35 s.
 */
import { spawn, spawnSync, which, type Subprocess } from "bun";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { missingTool } from "./skip.ts";

/** Paths of the two Prometheus binaries. */
export interface PrometheusBinaries {
  readonly prometheus: string;
  readonly promtool: string;
}

/**
 * Finds `prometheus` and `promtool`: `PROMETHEUS_BIN` (path of the prometheus binary; promtool beside it, else on
 * PATH), otherwise both on PATH. Null when either is missing.
 */
export function findPrometheus(): PrometheusBinaries | null {
  const configured = process.env.PROMETHEUS_BIN;
  if (configured !== undefined && configured !== "") {
    if (!isExecutable(configured)) return null;
    const beside = join(dirname(configured), "promtool");
    const promtool = isExecutable(beside) ? beside : which("promtool");
    return promtool === null ? null : { prometheus: configured, promtool };
  }
  const prometheus = which("prometheus");
  const promtool = which("promtool");
  return prometheus === null || promtool === null ? null : { prometheus, promtool };
}

/** Why Prometheus tests cannot run here, or null when they can. Use with `test.skipIf(prometheusSkipReason() !== null)`. */
export function prometheusSkipReason(): string | null {
  return findPrometheus() === null
    ? missingTool(
        "prometheus",
        "prometheus/promtool not found on PATH (set PROMETHEUS_BIN or apt-get install prometheus)",
      )
    : null;
}

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** OpenMetrics text backfilled with promtool before start (see the file comment; build it with {@link openMetricsText}). */
  readonly openMetrics?: string;
  /** `host:port` targets scraped every `scrapeInterval` under `job=<scrapeJob>`. Default none. */
  readonly scrapeTargets?: readonly string[];
  /** The `job` label of scraped targets. Default `"harness"`. */
  readonly scrapeJob?: string;
  /** More `scrape_configs` entries, written as given (JSON is YAML), e.g. an HTTPS job with a bearer token. */
  readonly scrapeConfigs?: readonly Readonly<Record<string, unknown>>[];
  /** Rule files to load (`rule_files`), evaluated every `scrapeInterval`. Default none. */
  readonly ruleFiles?: readonly string[];
  /** Scrape (and scrape timeout) interval, Prometheus duration syntax. Default `"1s"`. */
  readonly scrapeInterval?: string;
  /**
   * Serve everything under this path (e.g. `"/prefix"`) via `--web.external-url=http://127.0.0.1:<port><prefix>`;
   * `url` then includes it. Default: served at the root.
   */
  readonly routePrefix?: string;
  /** `--query.lookback-delta`, e.g. `"1h"`. Default Prometheus' 5m. */
  readonly lookbackDelta?: string;
  /** More command-line flags. */
  readonly extraArgs?: readonly string[];
  /** Milliseconds to wait for readiness. Default 30 000. */
  readonly readyTimeoutMs?: number;
}

/** A running Prometheus started by {@link startPrometheus}. */
export interface RunningPrometheus {
  /** Base URL including any route prefix, no trailing slash, e.g. `http://127.0.0.1:40123/prefix`. */
  readonly url: string;
  readonly port: number;
  /** The temporary directory holding `data/`, `prometheus.yml` and the backfill input; removed by stop/kill. */
  readonly dir: string;
  /** Milliseconds spent in promtool (0 without `openMetrics`) and from spawn to ready. */
  readonly timings: { readonly backfillMs: number; readonly startMs: number };
  /** Prometheus' log so far (its stderr, last 256 KiB). */
  log(): string;
  /** SIGTERM (after SIGCONT if paused), wait for exit (SIGKILL after 10 s), remove the directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGSTOP, returning once every thread has stopped: the port stays open but nothing answers (timeouts). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL, wait for exit, remove the directory (connections are then refused). Idempotent. */
  kill(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const READY_LINE = "Server is ready to receive web requests.";
const LOG_LIMIT = 256 * 1024;
const START_ATTEMPTS = 5;

/**
 * Starts Prometheus: backfills `openMetrics`, writes a config scraping `scrapeTargets`, binds a free port (found by
 * binding port 0; retried if another process takes it first) and resolves once the log says it is ready, the child
 * is still running, `/-/ready` answers 200 and `/api/v1/status/config` shows this run's token. If the test process
 * ends without stop()/kill() (even by SIGKILL), a watchdog kills Prometheus and removes its directory.
 *
 * NB: the port is free when picked but not reserved, so on a loaded machine another process can take it before
 * Prometheus binds. Prometheus then exits with "address already in use" (retried on a new port); and whoever answers
 * on the port must prove it is our child by echoing the per-run token, an external label written into our config
 * only. A server that is not ours fails the start loudly instead of making a test talk to it.
 */
export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<RunningPrometheus> {
  const binaries = findPrometheus();
  if (binaries === null) throw new Error(prometheusSkipReason() ?? "prometheus not found");
  const dir = mkdtempSync(join(tmpdir(), "prom-adapter-prometheus-"));
  try {
    const dataDir = join(dir, "data");
    const backfillStarted = performance.now();
    if (options.openMetrics !== undefined) backfill(binaries.promtool, options.openMetrics, dir, dataDir);
    const backfillMs = options.openMetrics === undefined ? 0 : performance.now() - backfillStarted;
    const configFile = join(dir, "prometheus.yml");
    const runToken = crypto.randomUUID();
    writeFileSync(configFile, prometheusConfig(options, runToken));

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const startStarted = performance.now();
      const started = await spawnPrometheus(binaries.prometheus, {
        ...options,
        port,
        dir,
        dataDir,
        configFile,
        runToken,
      });
      if (started.ok)
        return handle(started, port, dir, options.routePrefix, {
          backfillMs,
          startMs: performance.now() - startStarted,
        });
      if (!started.portTaken || attempt === START_ATTEMPTS)
        throw new Error(`prometheus did not start: ${started.reason}\n${tail(started.log)}`);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function backfill(promtool: string, text: string, dir: string, dataDir: string): void {
  const input = join(dir, "backfill.om");
  writeFileSync(input, normaliseOpenMetrics(text));
  const result = spawnSync([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", input, dataDir], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `promtool backfill failed (exit ${result.exitCode}): ${result.stderr.toString()}${result.stdout.toString()}`,
    );
  }
}

/** Drops blank lines and makes sure the text ends with `# EOF` and a newline. */
function normaliseOpenMetrics(text: string): string {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  if (lines.at(-1)?.trim() !== "# EOF") lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

/** The external label that carries a run's token; it never reaches query results (only federation and alerts). */
export const RUN_TOKEN_LABEL = "prom_adapter_harness_run";

function prometheusConfig(options: StartPrometheusOptions, runToken: string): string {
  const { scrapeTargets: targets = [], scrapeInterval: interval = "1s", scrapeJob: job = "harness" } = options;
  const { scrapeConfigs = [], ruleFiles = [] } = options;
  const jobs = [...(targets.length === 0 ? [] : [{ job_name: job, static_configs: [{ targets }] }]), ...scrapeConfigs];
  const entries = jobs.map((entry) => `  - ${JSON.stringify(entry)}\n`).join("");
  const scrape = jobs.length === 0 ? "scrape_configs: []\n" : `scrape_configs:\n${entries}`;
  const rules = ruleFiles.length === 0 ? "" : `rule_files: ${JSON.stringify(ruleFiles)}\n`;
  const settings = ["scrape_interval", "scrape_timeout", "evaluation_interval"].map((key) => `  ${key}: ${interval}\n`);
  const token = `  external_labels:\n    ${RUN_TOKEN_LABEL}: ${JSON.stringify(runToken)}\n`;
  return `global:\n${settings.join("")}${token}${rules}${scrape}`;
}

type Started =
  | { ok: true; process: Subprocess; watchdog: Subprocess; log: () => string }
  | { ok: false; reason: string; portTaken: boolean; log: string };

async function spawnPrometheus(
  binary: string,
  options: StartPrometheusOptions & {
    port: number;
    dir: string;
    dataDir: string;
    configFile: string;
    runToken: string;
  },
): Promise<Started> {
  const { port, dataDir, configFile, routePrefix, lookbackDelta, extraArgs = [], readyTimeoutMs = 30_000 } = options;
  const args = [
    binary,
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    // NB: retention counts back from the newest block; see the file comment.
    "--storage.tsdb.retention.time=100y",
    `--web.listen-address=127.0.0.1:${port}`,
    ...(routePrefix === undefined ? [] : [`--web.external-url=http://127.0.0.1:${port}${routePrefix}`]),
    ...(lookbackDelta === undefined ? [] : [`--query.lookback-delta=${lookbackDelta}`]),
    ...extraArgs,
  ];
  const child = spawn(args, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const watchdog = startWatchdog(child, options.dir);

  let log = "";
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  // NB: keep draining stderr for the whole life of the process; a full pipe would block Prometheus' logging.
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr as ReadableStream<Uint8Array>) {
      log += decoder.decode(chunk, { stream: true });
      if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
      if (log.includes(READY_LINE)) resolveReady();
    }
  })().catch(() => {});

  let timer: Timer | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready" as const),
    child.exited.then(() => "exited" as const),
    new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), readyTimeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome === "ready") {
    const base = `http://127.0.0.1:${port}${routePrefix ?? ""}`;
    const failure = await answeringProcessProblem(child, base, options.runToken);
    if (failure === null) return { ok: true, process: child, watchdog, log: () => log };
    child.kill("SIGKILL");
    await child.exited;
    return { ok: false, reason: failure, portTaken: false, log };
  }
  if (outcome === "timeout") {
    child.kill("SIGKILL");
    await child.exited;
    return { ok: false, reason: `not ready within ${readyTimeoutMs} ms`, portTaken: false, log };
  }
  return {
    ok: false,
    reason: `exited with code ${child.exitCode}`,
    portTaken: log.includes("address already in use"),
    log,
  };
}

/**
 * Why the server on `base` is not proven to be `child`, or null when it is: the child must still run, `/-/ready`
 * must answer 200, and `/api/v1/status/config` must carry this run's token (written only into the child's config).
 */
export async function answeringProcessProblem(
  child: Subprocess,
  base: string,
  runToken: string,
): Promise<string | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return `exited (${child.exitCode ?? child.signalCode}) after logging ready`;
  const ready = await fetch(`${base}/-/ready`).catch((error: Error) => error);
  if (!(ready instanceof Response)) return `/-/ready failed: ${ready.message}`;
  if (!ready.ok) return `/-/ready answered ${ready.status}`;
  const status = await fetch(`${base}/api/v1/status/config`).catch((error: Error) => error);
  if (!(status instanceof Response)) return `/api/v1/status/config failed: ${status.message}`;
  const body = (await status.json().catch(() => null)) as { data?: { yaml?: unknown } } | null;
  const yaml = typeof body?.data?.yaml === "string" ? body.data.yaml : "";
  if (!yaml.includes(runToken))
    return `the server on ${base} is not the Prometheus just started (run token missing from its config)`;
  if (child.exitCode !== null || child.signalCode !== null)
    return `exited (${child.exitCode ?? child.signalCode}) while answering`;
  return null;
}

/**
 * Waits until every thread of `pid` is stopped (state `T` in /proc/<pid>/stat). SIGSTOP is delivered when the
 * target next runs, so without this a request sent right after kill() can still be answered on a loaded machine.
 */
function waitUntilStopped(pid: number): void {
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    let state: string | undefined;
    try {
      // The state follows the command name in parentheses, which may itself contain spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    } catch {
      return; // no /proc (not Linux) or the process is gone: nothing left to wait for
    }
    if (state === "T" && threadsStopped(pid)) return;
    // NB: the kernel offers no event for "stopped" to a process that is not the parent's waitpid; poll /proc.
    Bun.sleepSync(1);
  }
  throw new Error(`prometheus (pid ${pid}) did not stop within 5 s of SIGSTOP`);
}

function threadsStopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "T";
    });
  } catch {
    return true;
  }
}

function handle(
  started: Extract<Started, { ok: true }>,
  port: number,
  dir: string,
  routePrefix: string | undefined,
  timings: RunningPrometheus["timings"],
): RunningPrometheus {
  const child = started.process;
  // NB: hold the watchdog (and with it its stdin pipe) for as long as the handle lives.
  const watchdog = started.watchdog;
  let paused = false;
  const finish = async (signal: "SIGTERM" | "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null) {
      watchdog.kill("SIGKILL");
      if (paused && signal === "SIGTERM") child.kill("SIGCONT");
      child.kill(signal);
      let timer: Timer | undefined;
      const exited = await Promise.race([
        child.exited.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000))),
      ]);
      clearTimeout(timer);
      if (!exited) {
        child.kill("SIGKILL");
        await child.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const stop = () => finish("SIGTERM");
  return {
    url: `http://127.0.0.1:${port}${routePrefix ?? ""}`,
    port,
    dir,
    timings,
    log: started.log,
    stop,
    pause() {
      paused = true;
      child.kill("SIGSTOP");
      waitUntilStopped(child.pid);
    },
    resume() {
      paused = false;
      child.kill("SIGCONT");
    },
    kill: () => finish("SIGKILL"),
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Kills `child` and removes `dir` if the test process dies without calling stop()/kill(): a `sh` that blocks reading
 * a pipe from us and acts when the pipe closes, which the kernel does whenever our process ends, even on SIGKILL.
 * It is killed itself as soon as `child` exits, so it never signals a reused PID.
 *
 * NB: `bun test` (1.4.5) neither emits process "exit" nor kills the subprocesses a passing test leaves running, and a
 * module-level `afterAll` only attaches to the first test file that imports the module.
 */
function startWatchdog(child: Subprocess, dir: string): Subprocess {
  const watchdog = spawn(
    ["sh", "-c", 'read _ignored; kill -9 "$1" 2>/dev/null; rm -rf "$2"', "prometheus-watchdog", String(child.pid), dir],
    {
      stdin: "pipe",
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  watchdog.unref();
  void child.exited.then(() => watchdog.kill("SIGKILL"));
  return watchdog;
}

/** A port that was free a moment ago: bind 127.0.0.1:0, read the port, close. */
export async function freePort(): Promise<number> {
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
  return log.split("\n").slice(-20).join("\n");
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** One series for {@link openMetricsText}. */
export interface OpenMetricsSeries {
  /** Sample name. A `counter` needs the `_total` suffix (the family is the name without it). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `[Unix seconds, value]`; any order (they are sorted). Numbers: NaN → `NaN`, ±Infinity → `+Inf`/`-Inf`. */
  readonly samples: readonly (readonly [timestampSeconds: number, value: number | string])[];
  /** Default `gauge`. */
  readonly type?: "gauge" | "counter";
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Builds OpenMetrics text for promtool: one `# TYPE` line per family, series of a family kept together, label values
 * escaped (`\\`, `\"`, `\n`), samples in time order, `# EOF` at the end. Throws on invalid names, a counter without
 * `_total`, or one family declared with two types.
 */
export function openMetricsText(series: readonly OpenMetricsSeries[]): string {
  const families = new Map<string, { type: "gauge" | "counter"; lines: string[] }>();
  for (const { name, labels, samples, type = "gauge" } of series) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (type === "counter" && !name.endsWith("_total"))
      throw new Error(`counter ${JSON.stringify(name)} must end with _total`);
    const familyName = type === "counter" ? name.slice(0, -"_total".length) : name;
    const family = families.get(familyName) ?? { type, lines: [] };
    if (family.type !== type) throw new Error(`metric family ${JSON.stringify(familyName)} is both gauge and counter`);
    families.set(familyName, family);
    const labelText = Object.entries(labels)
      .map(([label, value]) => {
        if (!LABEL_NAME.test(label) || label === "__name__")
          throw new Error(`invalid label name ${JSON.stringify(label)}`);
        return `${label}="${escapeLabelValue(value)}"`;
      })
      .join(",");
    const selector = labelText === "" ? name : `${name}{${labelText}}`;
    for (const [timestamp, value] of [...samples].sort((a, b) => a[0] - b[0])) {
      family.lines.push(`${selector} ${formatValue(value)} ${timestamp}`);
    }
  }
  const out: string[] = [];
  for (const [familyName, { type, lines }] of families) out.push(`# TYPE ${familyName} ${type}`, ...lines);
  out.push("# EOF");
  return `${out.join("\n")}\n`;
}

function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatValue(value: number | string): string {
  if (typeof value === "string") return value;
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** A scrape target started by {@link startExporter}. */
export interface Exporter {
  /** `127.0.0.1:<port>`, for `scrapeTargets`. */
  readonly target: string;
  /** How many times it has been scraped. */
  scrapes(): number;
  /**
   * Resolves when the exporter has been scraped `count` times in all. NB: Prometheus commits a scrape's samples
   * before it sends the next scrape, so after `scraped(n + 1)` the answer of scrape n is queryable — no polling.
   */
  scraped(count: number): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Serves `text()` (Prometheus text format 0.0.4) on 127.0.0.1 at a free port, for every path. */
export function startExporter(text: () => string): Exporter {
  let count = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      count++;
      for (const waiter of waiters.filter((candidate) => candidate.count <= count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      return new Response(text(), { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
    },
  });
  const stop = () => server.stop(true);
  return {
    target: `127.0.0.1:${server.port}`,
    scrapes: () => count,
    scraped: (wanted) =>
      count >= wanted ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count: wanted, resolve })),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
