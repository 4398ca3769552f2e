/** Runs the load generator (load-worker.ts) in its own process and summarises what it measured. */
import { join } from "node:path";
import type { LoadResult, LoadSpec } from "./load-worker.ts";
import { percentile } from "./stats.ts";

const WORKER = join(import.meta.dir, "load-worker.ts");

/** Latency percentiles (ms) and throughput (requests per second). */
export interface LoadSummary {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly nonOk: number;
}

/** Loads `spec` from a separate process. */
export async function load(spec: LoadSpec): Promise<LoadSummary> {
  const child = Bun.spawn([process.execPath, "run", WORKER, JSON.stringify(spec)], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`load worker failed (${code}): ${err}`);
  const result = JSON.parse(out) as LoadResult;
  return {
    requests: result.requests,
    rps: result.requests / result.seconds,
    p50Ms: percentile(result.latenciesMs, 0.5),
    p99Ms: percentile(result.latenciesMs, 0.99),
    errors: result.errors,
    nonOk: result.nonOk,
  };
}
