/**
 * The REST mapper of a `--standalone` run: the cluster's API discovery when a kubeconfig is at hand (`--kubeconfig`,
 * else the first file of $KUBECONFIG, else ~/.kube/config), so CRDs named in the rules are known; otherwise the
 * built-in table. Only discovery is read: objects still come from Prometheus labels, and nothing is authenticated.
 */
import type { Logger } from "../observability/logger.ts";
import { connectDiscovery, DiscoveryUnreachableError } from "./cluster-lookups.ts";
import type { DiscoveryRestMapper } from "./discovery-rest-mapper.ts";
import { KubeConfigError, loadKubeConfig } from "./kube-config.ts";
import { standaloneKubeconfigPath } from "./standalone-kubeconfig.ts";

export type StandaloneMapperSource =
  /** The cluster's discovery, refreshed before every relist. */
  | {
      readonly kind: "cluster";
      readonly restMapper: DiscoveryRestMapper;
      readonly server: string;
      readonly kubeconfig: string;
    }
  /** No kubeconfig (or a default one that did not answer): the built-in table. */
  | { readonly kind: "builtin" };

/** Thrown when the kubeconfig given with `--kubeconfig` cannot be loaded or its discovery cannot be read. */
export class StandaloneKubeconfigError extends Error {
  override readonly name = "StandaloneKubeconfigError";
}

/**
 * Reads discovery once through the kubeconfig, if there is one. A kubeconfig given with `--kubeconfig` must work
 * (StandaloneKubeconfigError otherwise); a default one that fails is logged and the built-in table used instead.
 */
export async function connectStandaloneMapper({
  kubeconfigFlag,
  env,
  logger,
}: {
  kubeconfigFlag: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}): Promise<StandaloneMapperSource> {
  const path = standaloneKubeconfigPath(kubeconfigFlag, env);
  if (path === undefined) return { kind: "builtin" };
  let server = "";
  try {
    const config = loadKubeConfig({ file: path, env: {} });
    server = config.getCurrentCluster()?.server ?? "";
    const { restMapper } = await connectDiscovery(config, logger);
    logger.info(0, "standalone: resources from the cluster's API discovery", { kubeconfig: path, server });
    return { kind: "cluster", restMapper, server, kubeconfig: path };
  } catch (error) {
    if (!(error instanceof KubeConfigError || error instanceof DiscoveryUnreachableError)) throw error;
    const detail = error.message;
    if (kubeconfigFlag !== undefined) throw new StandaloneKubeconfigError(detail);
    logger.warn("standalone: the default kubeconfig did not work; using the built-in resource table", {
      kubeconfig: path,
      error: detail,
    });
    return { kind: "builtin" };
  }
}
