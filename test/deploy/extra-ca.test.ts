/**
 * What deploy/Dockerfile relies on for builds behind a TLS-intercepting proxy: `bun install` (the pinned Bun) trusts
 * only its bundled roots, and trusts one more CA when NODE_EXTRA_CA_CERTS names a PEM file. Checked against a local
 * HTTPS "registry" whose certificate is signed by a per-run CA: without the variable the TLS handshake fails and the
 * registry sees no request; with it the registry is asked for the package.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clusterPki } from "../support/kube-apiserver/pki.ts";

setDefaultTimeout(60_000);

const pki = clusterPki();
let dir: string;
let requested: string[] = [];
let registry: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "prom-adapter-extra-ca-"));
  registry = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pki.serving.certPem, key: pki.serving.keyPem },
    fetch(request) {
      requested.push(new URL(request.url).pathname);
      return Response.json({ error: "not found" }, { status: 404 });
    },
  });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "extra-ca-probe", private: true, dependencies: { "left-pad": "1.3.0" } }),
  );
  writeFileSync(join(dir, "bunfig.toml"), `[install]\nregistry = "https://127.0.0.1:${registry.port}/"\n`);
  writeFileSync(join(dir, "proxy-ca.pem"), pki.clusterCa.certPem);
});

afterAll(async () => {
  await registry.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `bun install` in the probe directory. NB: asynchronously, so this process's registry can answer it. */
async function bunInstall(extraEnv: Record<string, string>) {
  requested = [];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: dir,
    BUN_INSTALL_CACHE_DIR: join(dir, "cache"),
    ...extraEnv,
  };
  const child = Bun.spawn([process.execPath, "install", "--no-save"], {
    cwd: dir,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, output: `${stdout}${stderr}` };
}

describe("bun install behind a TLS-intercepting proxy", () => {
  test("fails the TLS handshake with a CA it does not bundle, so the registry sees nothing", async () => {
    const { code, output } = await bunInstall({});
    expect(code).not.toBe(0);
    expect(output).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
    expect(requested).toEqual([]);
  });

  test("reaches the registry once NODE_EXTRA_CA_CERTS names the proxy's CA", async () => {
    const { output } = await bunInstall({ NODE_EXTRA_CA_CERTS: join(dir, "proxy-ca.pem") });
    expect(requested).toContain("/left-pad");
    expect(output).not.toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });
});
