/**
 * Graceful shutdown of the real process: SIGTERM stops accepting, lets a request in flight finish, and exits 0;
 * a request that cannot finish within --shutdown-grace is cut off and the process still exits 0.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnAdapter, type AdapterProcess } from "../support/process.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("shutdown tests", skip);

describe.skipIf(skip !== null)("SIGTERM", () => {
  let prometheus: RunningPrometheus;
  let dir: string;
  const now = Math.floor(Date.now() / 1000);
  const path = "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/queue_length";

  beforeAll(async () => {
    if (skip) return;
    prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        { name: "queue_length", labels: { namespace: "default", pod: "w-0" }, samples: [[now - 20, 3]] },
      ]),
    });
    dir = mkdtempSync(join(tmpdir(), "shutdown-"));
  });
  afterAll(async () => {
    prometheus?.resume();
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function start(grace: string): Promise<AdapterProcess> {
    const adapter = await spawnAdapter([
      "--standalone",
      `--prometheus-url=${prometheus.url}`,
      "--secure-port=0",
      `--cert-dir=${join(dir, "certs")}`,
      `--shutdown-grace=${grace}`,
      "--v=1",
    ]);
    await adapter.waitForLog("discovery finished");
    return adapter;
  }
  const get = (adapter: AdapterProcess) =>
    fetch(`https://127.0.0.1:${adapter.port}${path}`, { tls: { rejectUnauthorized: false } } as RequestInit);

  test("a request in flight finishes, then the process exits 0", async () => {
    const adapter = await start("20s");
    prometheus.pause();
    const inFlight = get(adapter);
    // Let the request reach the adapter (and its query the stopped Prometheus) before the signal.
    await Bun.sleep(100);
    adapter.signal("SIGTERM");
    await adapter.waitForLog("shutting down");
    prometheus.resume();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { items: { value: string }[] }).items.map((i) => i.value)).toEqual(["3"]);
    expect(await adapter.stop()).toBe(0);
  });

  test("a request that outlives --shutdown-grace is cut off and the process still exits 0", async () => {
    const adapter = await start("1s");
    prometheus.pause();
    const inFlight = get(adapter).then(
      (response) => response.status,
      () => "connection closed",
    );
    await Bun.sleep(100);
    adapter.signal("SIGTERM");
    // The 10 s query timeout is far away: only the 1 s grace can end this request.
    expect(await adapter.stop()).toBe(0);
    expect(await inFlight).toBe("connection closed");
    prometheus.resume();
  });
});
