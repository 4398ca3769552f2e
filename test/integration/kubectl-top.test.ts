/**
 * The real `kubectl top pod` and `kubectl top node` against the metrics.k8s.io API served over HTTPS (the adapter's
 * listener and certificates) from a real Prometheus, in standalone mode. kubectl reads `/apis` first (it needs
 * metrics.k8s.io listed) and, for `top node`, the core `/api/v1/nodes` for allocatable capacity, served here as a
 * minimal NodeList (and an empty PodList for the empty-namespace check). The printed rows are checked against the adapter's own JSON, read the way kubectl reads it
 * (CPU: MilliValue() + "m"; memory: Value() / 2^20 + "Mi").
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Elysia } from "elysia";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_RULES_TEXT } from "../../src/config/defaults.ts";
import { createMemoryLogger } from "../../src/observability/logger.ts";
import { parseQuantityMilliValue } from "../../src/apimachinery/quantity.ts";
import { generateCertificateAuthority, generateSignedCertificate } from "../../src/server/certificates.ts";
import { startHttpsServer, type HttpsServer } from "../../src/server/serve.ts";
import { compileRulesText, createMetricsApp, prometheusClient } from "../support/metrics-app.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type OpenMetricsSeries,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { announceSkip, KUBECTL, kubectlSkipReason } from "../support/skip.ts";

setDefaultTimeout(60_000);
const kubectl = KUBECTL;
const skip = prometheusSkipReason() ?? kubectlSkipReason();
announceSkip("kubectl top tests", skip);

const NOW = Math.floor(Date.now() / 1000);
const TIMES = Array.from({ length: 15 }, (_, i) => NOW - 240 + i * 15);
const MI = 1024 * 1024;
const cpu = (labels: Record<string, string>, perScrape: number): OpenMetricsSeries => ({
  name: "container_cpu_usage_seconds_total",
  type: "counter",
  labels,
  samples: TIMES.map((t, i) => [t, 1000 + perScrape * i] as const),
});
const memory = (labels: Record<string, string>, bytes: number): OpenMetricsSeries => ({
  name: "container_memory_working_set_bytes",
  labels,
  samples: TIMES.map((t) => [t, bytes] as const),
});

const SERIES: OpenMetricsSeries[] = [
  cpu({ namespace: "shop", pod: "web-0", container: "nginx" }, 6),
  cpu({ namespace: "shop", pod: "web-0", container: "sidecar" }, 3),
  memory({ namespace: "shop", pod: "web-0", container: "nginx" }, 100 * MI),
  memory({ namespace: "shop", pod: "web-0", container: "sidecar" }, 28 * MI),
  cpu({ namespace: "shop", pod: "worker-0", container: "worker" }, 20),
  memory({ namespace: "shop", pod: "worker-0", container: "worker" }, 1536 * MI),
  cpu({ instance: "n1", id: "/" }, 40),
  memory({ instance: "n1", id: "/" }, 4096 * MI),
  cpu({ instance: "n2", id: "/" }, 10),
  memory({ instance: "n2", id: "/" }, 3584 * MI),
];

/** The core NodeList kubectl top node reads for allocatable CPU and memory. */
const NODE_LIST = {
  kind: "NodeList",
  apiVersion: "v1",
  metadata: { resourceVersion: "1" },
  items: ["n1", "n2"].map((name) => ({
    metadata: { name },
    status: { capacity: { cpu: "4", memory: "8Gi" }, allocatable: { cpu: "4", memory: "8Gi" } },
  })),
};
const ALLOCATABLE = { cpuMilli: 4000n, memoryBytes: 8n * 1024n * BigInt(MI) };

let prometheus: RunningPrometheus;
let server: HttpsServer;
let dir: string;

beforeAll(async () => {
  if (skip) return;
  prometheus = await startPrometheus({ openMetrics: openMetricsText(SERIES) });
  const logger = createMemoryLogger(0);
  const core = new Elysia()
    .get("/api/v1/nodes", () => Response.json(NODE_LIST))
    // kubectl top pod lists the pods when the metrics list is empty, to tell "no pods" from "no metrics yet".
    .get("/api/v1/namespaces/:namespace/pods", () =>
      Response.json({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: [] }),
    );
  const app = createMetricsApp({
    logger,
    resource: { rules: compileRulesText(DEFAULT_RULES_TEXT).resource!, client: prometheusClient(prometheus.url) },
    extra: core,
  });
  const now = new Date();
  const ca = generateCertificateAuthority({ commonName: "kubectl-top-test-ca", now });
  const serving = generateSignedCertificate({
    ca,
    commonName: "localhost",
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validityDays: 1,
    now,
  });
  server = await startHttpsServer({
    handle: (request) => app.handle(request),
    host: "127.0.0.1",
    port: 0,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
  });
  dir = mkdtempSync(join(tmpdir(), "prom-adapter-kubectl-top-"));
});

afterAll(async () => {
  await server?.close(1000);
  await prometheus?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // NB: this kubectl build asks for credentials when it has none; the token is never checked here.
  const child = Bun.spawn(
    [
      kubectl!,
      ...args,
      `--server=https://127.0.0.1:${server.port}`,
      "--insecure-skip-tls-verify",
      "--token=unused",
      `--cache-dir=${join(dir, "cache")}`,
    ],
    {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      env: { ...process.env, KUBECONFIG: join(dir, "no-kubeconfig"), HOME: dir },
    },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/** The data rows of kubectl's table, split on whitespace. */
const rows = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/));

async function served<T>(path: string): Promise<T> {
  const response = await fetch(`https://127.0.0.1:${server.port}${path}`, {
    tls: { rejectUnauthorized: false },
  } as RequestInit);
  return (await response.json()) as T;
}
const milli = (quantity: string) => parseQuantityMilliValue(quantity);
/** apimachinery's Value(): milli-units rounded up to whole units. */
const units = (quantity: string) => (milli(quantity) + 999n) / 1000n;

type Usage = { cpu: string; memory: string };

describe.skipIf(skip !== null)("kubectl top against the resource metrics API", () => {
  test("kubectl top pod prints each pod's summed CPU and memory", async () => {
    const { code, stdout, stderr } = await run(["top", "pod", "-n", "shop"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout.split("\n")[0]).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);

    const list = await served<{ items: { metadata: { name: string }; containers: { usage: Usage }[] }[] }>(
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
    );
    const expected = list.items.map((pod) => {
      const cpuMilli = pod.containers.reduce((sum, c) => sum + milli(c.usage.cpu), 0n);
      const memoryBytes = pod.containers.reduce((sum, c) => sum + units(c.usage.memory), 0n);
      return [pod.metadata.name, `${cpuMilli}m`, `${memoryBytes / BigInt(MI)}Mi`];
    });
    expect(expected.map((row) => row[0])).toEqual(["web-0", "worker-0"]);
    expect(rows(stdout)).toEqual(expected);
    expect(expected[0]?.[2]).toBe("128Mi");
    expect(expected[1]).toEqual(["worker-0", "1000m", "1536Mi"]);
  });

  test("kubectl top pod <name> prints that pod", async () => {
    const { code, stdout } = await run(["top", "pod", "worker-0", "-n", "shop"]);
    expect(code).toBe(0);
    expect(rows(stdout)).toEqual([["worker-0", "1000m", "1536Mi"]]);
  });

  test("kubectl top node prints usage and its share of allocatable", async () => {
    const { code, stdout, stderr } = await run(["top", "node"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout.split("\n")[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU(\(%\))?\s+MEMORY\(bytes\)\s+MEMORY(\(%\))?\s*$/);

    const list = await served<{ items: { metadata: { name: string }; usage: Usage }[] }>(
      "/apis/metrics.k8s.io/v1beta1/nodes",
    );
    const expected = list.items.map(({ metadata, usage }) => {
      const cpuMilli = milli(usage.cpu);
      const memoryBytes = units(usage.memory);
      return [
        metadata.name,
        `${cpuMilli}m`,
        `${(cpuMilli * 100n) / ALLOCATABLE.cpuMilli}%`,
        `${memoryBytes / BigInt(MI)}Mi`,
        `${(memoryBytes * 100n) / ALLOCATABLE.memoryBytes}%`,
      ];
    });
    expect(rows(stdout)).toEqual(expected);
    expect(expected).toEqual([
      ["n1", "2000m", "50%", "4096Mi", "50%"],
      ["n2", "500m", "12%", "3584Mi", "43%"],
    ]);
  });

  test("kubectl top pod accepts an empty list for a namespace without pods", async () => {
    const { code, stdout, stderr } = await run(["top", "pod", "-n", "empty"]);
    expect({ code, stdout, stderr }).toEqual({
      code: 0,
      stdout: "",
      stderr: "No resources found in empty namespace.\n",
    });
  });
});
