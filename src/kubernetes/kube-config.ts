/**
 * Where the Kubernetes credentials come from: `--kubeconfig` (and the per-use authentication/authorization
 * kubeconfigs), else the in-cluster service account (KUBERNETES_SERVICE_HOST, token, CA), else `~/.kube/config`.
 * Parsing and token handling (token files, exec and auth-provider plugins) are @kubernetes/client-node's.
 */
import { KubeConfig } from "@kubernetes/client-node";

export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
}

export interface KubeConfigSource {
  /** `--kubeconfig` (or a per-use override); undefined = in-cluster, then the default file. */
  readonly file: string | undefined;
  /** Environment, for the in-cluster check; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Loads a KubeConfig. Throws KubeConfigError naming the source when nothing usable is found. */
export function loadKubeConfig({ file, env = process.env }: KubeConfigSource): KubeConfig {
  const config = new KubeConfig();
  try {
    if (file !== undefined) config.loadFromFile(file);
    else if (env.KUBERNETES_SERVICE_HOST) config.loadFromCluster();
    else config.loadFromDefault();
  } catch (error) {
    throw new KubeConfigError(
      `cannot load the kubeconfig ${file ?? "(in-cluster or ~/.kube/config)"}: ${(error as Error).message}`,
    );
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) {
    throw new KubeConfigError(
      file !== undefined
        ? `the kubeconfig ${file} has no current cluster with a server`
        : "no Kubernetes API found: not running in a cluster and no usable ~/.kube/config (pass --kubeconfig, or --standalone to run without Kubernetes)",
    );
  }
  return config;
}
