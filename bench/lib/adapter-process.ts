/**
 * Runs prom-adapter as a separate process (the source entry point or a compiled binary), follows its log, and reads
 * its memory from /proc. A separate process keeps the benchmark's own allocations out of the adapter's peak RSS.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(REPO_ROOT, "src", "main.ts");

/** A running adapter. */
export interface AdapterProcess {
  readonly pid: number;
  /** HTTPS port it serves on. */
  readonly port: number;
  /** Milliseconds from spawn to the "serving" log line. */
  readonly startupMs: number;
  /** The CA that signs its serving certificate (PEM). */
  readonly caPem: string;
  /** Resolves with the first log line (after `fromLine`) matching `pattern`, and its index. */
  waitForLine(pattern: RegExp, fromLine?: number, timeoutMs?: number): Promise<{ line: string; index: number }>;
  /** Log lines so far. */
  lines(): readonly string[];
  /** Peak and current resident set size in bytes (VmHWM, VmRSS). */
  memory(): { peakBytes: number; currentBytes: number };
  /** Sends a signal, e.g. SIGHUP (with --config: reload the rules and run discovery now). */
  signal(name: "SIGHUP" | "SIGTERM"): void;
  stop(): Promise<void>;
}

/** Options of {@link spawnAdapter}. */
export interface SpawnAdapterOptions {
  readonly prometheusUrl: string;
  /** More flags. */
  readonly args?: readonly string[];
  /** A compiled binary to run instead of `bun run src/main.ts`. */
  readonly binary?: string;
  /** Reuse this cert dir (a generated certificate is kept there); default a new temporary one. */
  readonly certDir?: string;
}

/** Starts the adapter in standalone mode on a free port and resolves once it serves. */
export async function spawnAdapter({
  prometheusUrl,
  args = [],
  binary,
  certDir,
}: SpawnAdapterOptions): Promise<AdapterProcess> {
  const ownDir = certDir === undefined ? mkdtempSync(join(tmpdir(), "prom-adapter-bench-")) : undefined;
  const certs = certDir ?? join(ownDir as string, "certs");
  const command = binary === undefined ? [process.execPath, "run", MAIN] : [binary];
  const started = performance.now();
  const child: Subprocess<"ignore", "ignore", "pipe"> = Bun.spawn(
    [...command, "--standalone", "--prometheus-url", prometheusUrl, "--secure-port", "0", "--cert-dir", certs, ...args],
    { cwd: REPO_ROOT, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  const logLines: string[] = [];
  const waiters = new Set<() => void>();
  let exited = false;
  void (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of child.stderr) {
      partial += decoder.decode(chunk, { stream: true });
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      logLines.push(...parts);
      for (const wake of waiters) wake();
    }
    exited = true;
    for (const wake of waiters) wake();
  })();

  function waitForLine(pattern: RegExp, fromLine = 0, timeoutMs = 600_000): Promise<{ line: string; index: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          finish(
            new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${logLines.slice(-20).join("\n")}`),
          ),
        timeoutMs,
      );
      const check = () => {
        for (let index = fromLine; index < logLines.length; index++) {
          const line = logLines[index] as string;
          if (pattern.test(line)) return finish(undefined, { line, index });
        }
        if (exited) finish(new Error(`prom-adapter exited:\n${logLines.slice(-20).join("\n")}`));
      };
      const finish = (error: Error | undefined, found?: { line: string; index: number }) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(found as { line: string; index: number });
      };
      waiters.add(check);
      check();
    });
  }

  const serving = await waitForLine(/serving address=https:\/\/[^:\s]+:(\d+)/);
  const startupMs = performance.now() - started;
  const port = Number(/:(\d+)/.exec(serving.line.slice(serving.line.indexOf("address=")))?.[1]);
  return {
    pid: child.pid,
    port,
    startupMs,
    caPem: readFileSync(join(certs, "ca.crt"), "utf8"),
    waitForLine,
    lines: () => logLines,
    memory: () => readMemory(child.pid),
    signal: (name) => child.kill(name),
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.exited;
      clearTimeout(timer);
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

/** VmHWM and VmRSS of a process, in bytes. */
export function readMemory(pid: number): { peakBytes: number; currentBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { peakBytes: kib("VmHWM"), currentBytes: kib("VmRSS") };
}

/** A `key=value` field of a log line (`ms=1234` → "1234"). */
export function logField(line: string, key: string): string | undefined {
  return new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(line)?.[1];
}
