/**
 * Startup of the compiled binary: spawn to the "serving" log line (the listener is bound), with a serving
 * certificate already in the cert dir (generating one is a one-time cost of the first start).
 */
import { spawnAdapter } from "../lib/adapter-process.ts";
import { median } from "../lib/stats.ts";

export interface StartupResult {
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
}

export async function measureStartup({
  binary,
  certDir,
  prometheusUrl,
  runs = 7,
}: {
  binary: string;
  certDir: string;
  prometheusUrl: string;
  runs?: number;
}): Promise<StartupResult> {
  const runsMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const adapter = await spawnAdapter({ prometheusUrl, binary, certDir });
    runsMs.push(adapter.startupMs);
    await adapter.stop();
  }
  return { runsMs, medianMs: median(runsMs), minMs: Math.min(...runsMs) };
}
