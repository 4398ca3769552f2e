import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPrometheusAuthConfig } from "./auth-config.ts";
import { PrometheusConfigError } from "./errors.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "prom-adapter-auth-config-"));
  mkdirSync(join(dir, "certs"));
  writeFileSync(join(dir, "certs", "ca.pem"), "CA PEM");
  writeFileSync(join(dir, "certs", "client.pem"), "CLIENT CERT PEM");
  writeFileSync(join(dir, "certs", "client-key.pem"), "CLIENT KEY PEM");
  writeFileSync(join(dir, "token"), "file-token\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function kubeconfig(yaml: string): string {
  const path = join(dir, `kubeconfig-${counter++}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("loadPrometheusAuthConfig", () => {
  test("takes the current context's user and cluster, resolving relative files against the kubeconfig's directory", async () => {
    const config = loadPrometheusAuthConfig(
      kubeconfig(`
current-context: b
contexts:
- {name: a, context: {cluster: ca, user: ua}}
- {name: b, context: {cluster: cb, user: ub}}
clusters:
- {name: ca, cluster: {server: "https://a", insecure-skip-tls-verify: true}}
- {name: cb, cluster: {server: "https://b", certificate-authority: certs/ca.pem, tls-server-name: prom.internal}}
users:
- {name: ua, user: {token: wrong}}
- {name: ub, user: {tokenFile: token, client-certificate: certs/client.pem, client-key: ${join(dir, "certs", "client-key.pem")}}}
`),
    );
    const { tokenFile, ...rest } = config;
    expect(rest).toEqual({
      caPem: "CA PEM",
      insecureSkipTlsVerify: false,
      tlsServerName: "prom.internal",
      clientCertPem: "CLIENT CERT PEM",
      clientKeyPem: "CLIENT KEY PEM",
    });
    expect(tokenFile?.path).toBe(join(dir, "token"));
    expect(await tokenFile?.read()).toBe("file-token");
  });

  test("inline -data fields win over file paths", () => {
    const config = loadPrometheusAuthConfig(
      kubeconfig(`
current-context: c
contexts: [{name: c, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {certificate-authority: /nonexistent, certificate-authority-data: ${b64("INLINE CA")}}}]
users: [{name: u, user: {client-certificate-data: ${b64("INLINE CERT")}, client-key-data: ${b64("INLINE KEY")}, token: static}}]
`),
    );
    expect(config).toEqual({
      caPem: "INLINE CA",
      insecureSkipTlsVerify: false,
      clientCertPem: "INLINE CERT",
      clientKeyPem: "INLINE KEY",
      token: "static",
    });
  });

  test("username and password become basic auth", () => {
    const config = loadPrometheusAuthConfig(
      kubeconfig(
        "current-context: c\ncontexts: [{name: c, context: {user: u}}]\nusers: [{name: u, user: {username: alice, password: secret}}]\n",
      ),
    );
    expect(config).toEqual({ insecureSkipTlsVerify: false, basicAuth: { username: "alice", password: "secret" } });
  });

  test("a file with one context and no current-context uses that context", () => {
    const config = loadPrometheusAuthConfig(
      kubeconfig("contexts: [{name: only, context: {user: u}}]\nusers: [{name: u, user: {token: t}}]\n"),
    );
    expect(config.token).toBe("t");
  });

  test.each([
    {
      name: "no current-context among several contexts",
      yaml: "contexts: [{name: a}, {name: b}]\n",
      message: "current-context is not set",
    },
    {
      name: "an unknown current context",
      yaml: "current-context: x\ncontexts: []\n",
      message: 'context "x" not found',
    },
    {
      name: "an unknown user",
      yaml: "current-context: c\ncontexts: [{name: c, context: {user: u}}]\n",
      message: 'user "u" not found',
    },
    {
      name: "an unknown cluster",
      yaml: "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n",
      message: 'cluster "k" not found',
    },
    {
      name: "an exec plugin",
      yaml: "current-context: c\ncontexts: [{name: c, context: {user: u}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\n",
      message: '"exec" credentials are not supported',
    },
    {
      name: "an auth-provider plugin",
      yaml: "current-context: c\ncontexts: [{name: c, context: {user: u}}]\nusers: [{name: u, user: {auth-provider: {name: gcp}}}]\n",
      message: '"auth-provider" credentials are not supported',
    },
    {
      name: "token and basic auth together",
      yaml: "current-context: c\ncontexts: [{name: c, context: {user: u}}]\nusers: [{name: u, user: {token: t, username: a, password: b}}]\n",
      message: "username/password or bearer token may be set, but not both",
    },
    {
      name: "a client certificate without key",
      yaml: "current-context: c\ncontexts: [{name: c, context: {user: u}}]\nusers: [{name: u, user: {client-certificate-data: eA==}}]\n",
      message: "client-certificate and client-key must be set together",
    },
    {
      name: "a missing referenced file",
      yaml: "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {certificate-authority: missing.pem}}]\n",
      message: "certificate-authority",
    },
    {
      name: "a non-boolean insecure-skip-tls-verify",
      yaml: 'current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {insecure-skip-tls-verify: "yes"}}]\n',
      message: "insecure-skip-tls-verify must be true or false",
    },
    { name: "a document that is not a mapping", yaml: "- just\n- a list\n", message: "not a kubeconfig" },
    { name: "invalid YAML", yaml: "a: [unclosed\n", message: "prometheus auth config" },
  ])("rejects $name", ({ yaml, message }) => {
    const path = kubeconfig(yaml);
    expect(() => loadPrometheusAuthConfig(path)).toThrow(PrometheusConfigError);
    expect(() => loadPrometheusAuthConfig(path)).toThrow(message);
  });
});
