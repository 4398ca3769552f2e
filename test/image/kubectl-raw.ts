/**
 * `kubectl get --raw` against a server with a bearer token, skipping TLS verification as the APIServices do (the
 * container generates its self-signed certificate in its own tmpfs), isolated from the user's kubeconfig and cache.
 */
import { join } from "node:path";
import { runKubectl, type KubectlResult } from "../support/kube-apiserver.ts";
import { writeFileSync } from "node:fs";

/** Writes a kubeconfig for `server` and `token` into `workDir` and runs `kubectl get --raw <path>`. */
export function kubectlRaw(
  kubectl: string,
  server: string,
  token: string,
  path: string,
  workDir: string,
): Promise<KubectlResult> {
  const kubeconfig = join(workDir, "kubectl-kubeconfig.yaml");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: image, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: reader, user: {token: "${token}"}}]
contexts: [{name: image, context: {cluster: image, user: reader}}]
current-context: image
`,
  );
  return runKubectl(["get", "--raw", path], { binary: kubectl, kubeconfig, cacheDir: join(workDir, "kubectl-cache") });
}
