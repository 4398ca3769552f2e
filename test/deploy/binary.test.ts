/**
 * The compiled binary runs with nothing but itself and the shared libraries `ldd` lists, as in a distroless image:
 * under chroot with /proc mounted when the test runs as root (as CI does), else from a temporary directory outside
 * the checkout with an empty environment. It must serve discovery against a real Prometheus. Its size and
 * startup-to-listening time are printed (measured, not asserted; see bench/ for the benchmark).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { REPO_ROOT } from "../support/process.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(120_000);
const skip = prometheusSkipReason();
announceSkip("the compiled binary test", skip);
const isRoot = process.getuid?.() === 0;

describe.skipIf(skip !== null)("the compiled binary", () => {
  let prometheus: RunningPrometheus;
  let work: string;
  let root: string;
  let procMounted = false;

  beforeAll(async () => {
    if (skip) return;
    work = mkdtempSync(join(tmpdir(), "prom-adapter-binary-"));
    const binary = join(work, "prom-adapter");
    const build = Bun.spawnSync([process.execPath, "run", join(REPO_ROOT, "scripts", "build.ts"), binary], {
      cwd: REPO_ROOT,
      stderr: "pipe",
    });
    expect(build.exitCode).toBe(0);
    root = join(work, "root");
    mkdirSync(join(root, "proc"), { recursive: true });
    mkdirSync(join(root, "tmp"), { recursive: true });
    copyFileSync(binary, join(root, "prom-adapter"));
    const ldd = Bun.spawnSync(["ldd", binary]).stdout.toString();
    for (const library of ldd.match(/\/\S+/g) ?? []) {
      mkdirSync(join(root, dirname(library)), { recursive: true });
      copyFileSync(library, join(root, library));
    }
    if (isRoot) {
      // NB: a compiled Bun binary reads itself through /proc/self/exe and aborts without /proc, as every container
      // runtime provides it.
      procMounted = Bun.spawnSync(["mount", "-t", "proc", "proc", join(root, "proc")]).exitCode === 0;
    }
    const now = Math.floor(Date.now() / 1000);
    prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        { name: "queue_length", labels: { namespace: "default", pod: "worker-0" }, samples: [[now - 20, 3]] },
      ]),
    });
  });

  afterAll(async () => {
    if (procMounted) Bun.spawnSync(["umount", join(root, "proc")]);
    await prometheus?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("serves discovery from a root holding only the binary and its libraries", async () => {
    const args = ["--standalone", "--secure-port=0", "--cert-dir=/tmp/certs", `--prometheus-url=${prometheus.url}`];
    const command = procMounted
      ? [Bun.which("chroot") ?? "/usr/sbin/chroot", root, "/prom-adapter", ...args]
      : [join(root, "prom-adapter"), ...args.map((a) => a.replace("=/tmp/certs", `=${join(root, "tmp", "certs")}`))];
    const started = performance.now();
    const child = Bun.spawn(command, {
      cwd: procMounted ? "/" : root,
      env: {},
      stdout: "ignore",
      stderr: "pipe",
      stdin: "ignore",
    });
    try {
      const reader = child.stderr.getReader();
      let log = "";
      let port = 0;
      while (port === 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the binary exited before serving:\n${log}`);
        log += new TextDecoder().decode(value);
        port = Number(/serving address=https:\/\/[^:\s]+:(\d+)/.exec(log)?.[1] ?? 0);
      }
      const listeningMs = performance.now() - started;
      const get = (path: string) =>
        fetch(`https://127.0.0.1:${port}${path}`, { tls: { rejectUnauthorized: false } } as RequestInit);
      let ready = await get("/readyz");
      for (let i = 0; i < 200 && ready.status !== 200; i++) ready = await get("/readyz");
      const readyMs = performance.now() - started;
      expect(ready.status).toBe(200);
      const discovery = (await (await get("/apis/custom.metrics.k8s.io/v1beta1")).json()) as {
        resources: { name: string }[];
      };
      expect(discovery.resources.map((r) => r.name)).toContain("pods/queue_length");
      const sizeMb = statSync(join(root, "prom-adapter")).size / 1024 / 1024;
      console.log(
        `compiled binary: ${sizeMb.toFixed(1)} MiB, ${procMounted ? "chroot with /proc" : "temporary directory, empty environment"}, listening after ${listeningMs.toFixed(0)} ms, ready after ${readyMs.toFixed(0)} ms`,
      );
    } finally {
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    }
  });
});
