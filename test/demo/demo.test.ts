/**
 * scripts/demo.ts end to end, as a user runs it: a real Prometheus, prom-adapter from source, the real kubectl when
 * present. Checks what it prints and that it leaves no process or temporary directory behind.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { announceSkip, missingTool } from "../support/skip.ts";

setDefaultTimeout(30_000);
const REPO_ROOT = join(import.meta.dir, "..", "..");
const DEMO = join(REPO_ROOT, "scripts", "demo.ts");
const hasPrometheus = Bun.which("prometheus") !== null && Bun.which("promtool") !== null;
announceSkip(
  "the demo runs",
  hasPrometheus
    ? null
    : missingTool("prometheus", "prometheus/promtool not found on PATH (apt-get install prometheus)"),
);

function spawnDemo(args: string[], env: Record<string, string | undefined> = process.env) {
  return Bun.spawn([process.execPath, "run", DEMO, ...args], {
    cwd: REPO_ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env,
  });
}

/** The demo's temporary directory, from its first line. */
function workDir(stdout: string): string {
  const match = /working directory (\S+)\)/.exec(stdout);
  if (!match) throw new Error(`no working directory in:\n${stdout}`);
  return match[1]!;
}

/** Command lines of running processes that mention `text` (Linux /proc). */
function processesMentioning(text: string): string[] {
  if (!existsSync("/proc")) return [];
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(text)) found.push(`${entry}: ${cmdline}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

describe("scripts/demo.ts", () => {
  test("without Prometheus on PATH it prints the install command and exits 1", async () => {
    const child = spawnDemo(["--once"], { ...process.env, PATH: "/nonexistent" });
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("\n  sudo apt-get install prometheus\n");
  });

  test("rejects an unknown argument with the usage line", async () => {
    const child = spawnDemo(["--forever"]);
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(code).toBe(2);
    expect(stderr).toContain("usage: npx bun run scripts/demo.ts [--once] [--target=700m]");
  });

  test.skipIf(!hasPrometheus)(
    "--once prints the http_requests values and the HPA's decision, then cleans up",
    async () => {
      const child = spawnDemo(["--once"]);
      const [stdout, stderr, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });

      const json = /^\{\n[\s\S]*?\n\}$/m.exec(stdout);
      expect(json).not.toBeNull();
      const list = JSON.parse(json![0]) as {
        kind: string;
        items: { describedObject: { name: string }; metricName: string; value: string }[];
      };
      expect(list.kind).toBe("MetricValueList");
      expect(list.items.map((item) => item.describedObject.name).sort()).toEqual([
        "podinfo-7cd8684594-2xq7m",
        "podinfo-7cd8684594-h9tdl",
        "podinfo-7cd8684594-vcrcj",
      ]);
      for (const item of list.items) {
        expect(item.metricName).toBe("http_requests");
        // ~0.85-0.95 requests per second per pod.
        expect(item.value).toMatch(/^\d+m$/);
        expect(Number.parseInt(item.value, 10)).toBeGreaterThan(700);
        expect(Number.parseInt(item.value, 10)).toBeLessThan(1100);
      }
      expect(stdout).toContain(
        '$ kubectl get --raw "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/http_requests"',
      );
      expect(stdout).toMatch(/^ {2}average: {2}\(\d+m \+ \d+m \+ \d+m\) \/ 3 = \d+m$/m);
      expect(stdout).toMatch(/^ {2}desired: {2}ceil\(3 × 1\.\d{3}\) = ceil\(\d\.\d{3}\) = [45] replicas$/m);

      const dir = workDir(stdout);
      expect(existsSync(dir)).toBe(false);
      expect(processesMentioning(dir)).toEqual([]);
    },
  );

  test.skipIf(!hasPrometheus)(
    "SIGINT while it keeps running stops every process it started and removes its directory",
    async () => {
      const child = spawnDemo([]);
      let stdout = "";
      const reader = child.stdout.getReader();
      const decoder = new TextDecoder();
      while (!stdout.includes("Ctrl-C stops everything.")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the demo ended early:\n${stdout}\n${await new Response(child.stderr).text()}`);
        stdout += decoder.decode(value, { stream: true });
      }
      const dir = workDir(stdout);
      // prom-adapter runs with its cert dir under the demo's directory; Prometheus (the test harness's) has its own.
      expect(processesMentioning(dir).length).toBeGreaterThanOrEqual(1);
      const prometheusUrl = /Prometheus on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      expect(prometheusUrl).toBeDefined();
      expect((await fetch(`${prometheusUrl}/-/ready`)).status).toBe(200);

      child.kill("SIGINT");
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stdout += decoder.decode(value, { stream: true });
      }
      expect(await child.exited).toBe(0);
      expect(stdout).toContain("SIGINT: stopping prom-adapter, Prometheus and the simulated podinfo");
      expect(existsSync(dir)).toBe(false);
      expect(processesMentioning(dir)).toEqual([]);
      expect(
        await fetch(`${prometheusUrl}/-/ready`).then(
          () => "answered",
          () => "stopped",
        ),
      ).toBe("stopped");
    },
  );
});
