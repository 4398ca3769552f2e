/**
 * Starts prom-adapter in-process for a test: standalone, real HTTPS on a free 127.0.0.1 port, serving certificate
 * generated per run in a temporary cert dir, rules from text. `get()` speaks HTTPS with the generated CA.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAdapter, type RunningAdapter } from "../../src/app/start.ts";
import { createMemoryLogger } from "../../src/observability/logger.ts";
import { parseOptions } from "../../src/options.ts";
import { systemClock } from "../../src/util/clock.ts";

export interface TestAdapter {
  readonly adapter: RunningAdapter;
  readonly baseUrl: string;
  readonly logs: string[];
  /** The generated serving CA. */
  readonly caPem: string;
  /** GET over HTTPS, trusting the generated CA. */
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  request(path: string, init: RequestInit): Promise<Response>;
  /** GET presenting a client certificate. */
  getWithCertificate(
    path: string,
    certificate: { certPem: string; keyPem: string },
    headers?: Record<string, string>,
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestAdapter({
  prometheusUrl,
  rules,
  extraArgs = [],
  kubeconfig,
  env,
}: {
  prometheusUrl: string;
  /** Cluster mode with this kubeconfig; default standalone. */
  kubeconfig?: string;
  /** Rules file text; default: the embedded default rules. */
  rules?: string;
  extraArgs?: string[];
  /** Environment the adapter reads ($KUBECONFIG, $HOME); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}): Promise<TestAdapter> {
  const dir = mkdtempSync(join(tmpdir(), "prom-adapter-test-"));
  const mode =
    kubeconfig === undefined ? ["--standalone"] : ["--kubeconfig", kubeconfig, "--bind-address", "127.0.0.1"];
  const args = [
    ...mode,
    "--prometheus-url",
    prometheusUrl,
    "--secure-port",
    "0",
    "--cert-dir",
    join(dir, "certs"),
    ...extraArgs,
  ];
  if (rules !== undefined) {
    writeFileSync(join(dir, "rules.yaml"), rules);
    args.push("--config", join(dir, "rules.yaml"));
  }
  const logger = createMemoryLogger(6);
  const adapter = await startAdapter(parseOptions(args), {
    logger,
    clock: systemClock,
    ...(env === undefined ? {} : { env }),
  });
  const ca = readFileSync(join(dir, "certs", "ca.crt"), "utf8");
  const baseUrl = `https://127.0.0.1:${adapter.port}`;
  const request = (path: string, init: RequestInit) =>
    fetch(`${baseUrl}${path}`, { ...init, tls: { ca } } as RequestInit);
  return {
    adapter,
    baseUrl,
    caPem: ca,
    logs: logger.lines,
    request,
    get: (path, headers = {}) => request(path, { headers }),
    getWithCertificate: (path, { certPem, keyPem }, headers = {}) =>
      fetch(`${baseUrl}${path}`, { headers, tls: { ca, cert: certPem, key: keyPem } } as RequestInit),
    async close() {
      await adapter.close(1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
