/**
 * Runs prom-adapter from source for the demo (`bun run src/main.ts --standalone`) on a free port with a throw-away
 * certificate directory, and reads the metrics API over HTTPS, through the real kubectl when there is one.
 */
import { join } from "node:path";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(REPO_ROOT, "src", "main.ts");

/** A running prom-adapter. */
export interface DemoAdapter {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  /** Everything it logged so far. */
  log(): string;
  /** SIGTERM and wait (SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
}

/** Starts prom-adapter with `args` added to `--standalone --secure-port=0 --cert-dir=<certDir>`; resolves once it serves. */
export async function startDemoAdapter({
  certDir,
  args,
}: {
  certDir: string;
  args: readonly string[];
}): Promise<DemoAdapter> {
  const child = Bun.spawn(
    [process.execPath, "run", MAIN, "--standalone", "--secure-port=0", `--cert-dir=${certDir}`, ...args],
    {
      cwd: REPO_ROOT,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    },
  );
  let log = "";
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.exited;
      clearTimeout(timer);
    })());

  const port = await new Promise<number>((resolve, reject) => {
    void (async () => {
      const decoder = new TextDecoder();
      let found = false;
      // NB: keep draining after the port is known, so prom-adapter never blocks on a full pipe.
      for await (const chunk of child.stderr) {
        log += decoder.decode(chunk, { stream: true });
        const match = found ? null : /serving address=https:\/\/[^:\s]+:(\d+)/.exec(log);
        if (match) {
          found = true;
          resolve(Number(match[1]));
        }
      }
      if (!found) reject(new Error(`prom-adapter exited before serving:\n${log}`));
    })().catch(reject);
  });
  return { url: `https://127.0.0.1:${port}`, pid: child.pid, log: () => log, stop };
}

/** An answer of the metrics API. */
export interface ApiAnswer {
  /** The command a user would type to get the same answer. */
  readonly command: string;
  /** Whether the real kubectl produced it (otherwise fetch did). */
  readonly viaKubectl: boolean;
  readonly ok: boolean;
  readonly body: string;
}

/**
 * GET `path` from the adapter: with `kubectl get --raw --server=... --insecure-skip-tls-verify --token=unused` when
 * kubectl is on PATH (with no kubeconfig, so no real cluster is ever contacted), else with fetch.
 */
export async function getRaw(adapter: DemoAdapter, path: string, noKubeconfig: string): Promise<ApiAnswer> {
  const kubectl = Bun.which("kubectl");
  const flags = [`--server=${adapter.url}`, "--insecure-skip-tls-verify", "--token=unused"];
  const command = `kubectl get --raw "${path}" ${flags.join(" ")}`;
  if (kubectl !== null) {
    const child = Bun.spawn([kubectl, "get", "--raw", path, ...flags], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, KUBECONFIG: noKubeconfig },
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { command, viaKubectl: true, ok: code === 0, body: code === 0 ? stdout : stderr };
  }
  const response = await fetch(`${adapter.url}${path}`, { tls: { rejectUnauthorized: false } });
  return { command, viaKubectl: false, ok: response.ok, body: await response.text() };
}

/** Polls `/readyz` (self-signed certificate accepted) until it answers `ok`. */
export async function waitUntilReady(adapter: DemoAdapter, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${adapter.url}/readyz`, { tls: { rejectUnauthorized: false } }).then(
      async (response) => response.ok && (await response.text()).trim() === "ok",
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`prom-adapter was not ready within ${timeoutMs} ms:\n${adapter.log()}`);
    await Bun.sleep(100);
  }
}
