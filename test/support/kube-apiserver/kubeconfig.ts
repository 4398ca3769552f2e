/**
 * Kubeconfig files for the stand-in: one cluster (server URL + CA data), one user with a bearer token or an embedded
 * client certificate, one current context.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** How a kubeconfig user authenticates. */
export type KubeconfigIdentity = { token: string } | { clientCert: { certPem: string; keyPem: string } };

/** Options of {@link writeKubeconfig}. */
export interface KubeconfigOptions {
  /** Directory to write into. */
  directory: string;
  /** File name inside it. */
  fileName: string;
  /** `https://127.0.0.1:<port>`. */
  server: string;
  /** CA bundle that signs the serving certificate. */
  caPem: string;
  identity: KubeconfigIdentity;
  /** Namespace of the context; default none (kubectl then uses `default`). */
  namespace?: string;
}

/** Writes the kubeconfig and returns its path. */
export function writeKubeconfig({
  directory,
  fileName,
  server,
  caPem,
  identity,
  namespace,
}: KubeconfigOptions): string {
  const base64 = (text: string) => Buffer.from(text).toString("base64");
  const user =
    "token" in identity
      ? { token: identity.token }
      : {
          "client-certificate-data": base64(identity.clientCert.certPem),
          "client-key-data": base64(identity.clientCert.keyPem),
        };
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "stand-in", cluster: { server, "certificate-authority-data": base64(caPem) } }],
    users: [{ name: "stand-in-user", user }],
    contexts: [
      {
        name: "stand-in",
        context: { cluster: "stand-in", user: "stand-in-user", ...(namespace ? { namespace } : {}) },
      },
    ],
    "current-context": "stand-in",
    preferences: {},
  };
  const path = join(directory, fileName);
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}
