/**
 * Runs the real kubectl against a stand-in (or any server) with a given kubeconfig, isolated from the user's
 * environment: its own discovery cache directory, no ambient KUBECONFIG, no proxy.
 *
 * NB: /usr/bin/kubectl on this machine is the Google Cloud SDK "dispatcher" build: it reads the server's /version
 * and runs the matching `kubectl.1.xx` beside it, and prompts for credentials when the kubeconfig has none. Always
 * give it a kubeconfig with a token or a client certificate (KubeApiServer.kubeconfigFor).
 */
import { spawn, which } from "bun";

/** The kubectl binary: `KUBECTL_BIN`, else `kubectl` on PATH; null when there is none. */
export function findKubectl(): string | null {
  const configured = process.env.KUBECTL_BIN;
  if (configured !== undefined && configured !== "") return configured;
  return which("kubectl");
}

/** What a kubectl run printed and how it exited. */
export interface KubectlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runKubectl}. */
export interface KubectlOptions {
  /** The kubectl binary (see {@link findKubectl}). */
  binary: string;
  /** Path of the kubeconfig to use. */
  kubeconfig: string;
  /** Discovery/HTTP cache directory; use one per server so no stale discovery from another run is read. */
  cacheDir: string;
  /** Kills kubectl after this many ms; default 15 000. */
  timeoutMs?: number;
}

/** Runs `kubectl --kubeconfig <k> --cache-dir <d> <args...>` with stdin closed. */
export async function runKubectl(
  args: readonly string[],
  { binary, kubeconfig, cacheDir, timeoutMs = 15_000 }: KubectlOptions,
): Promise<KubectlResult> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(KUBECONFIG|KUBERNETES_|HTTPS?_PROXY|ALL_PROXY)/i.test(name)) env[name] = value;
  }
  env.NO_PROXY = "127.0.0.1,localhost";
  const child = spawn([binary, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args], {
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}
