/**
 * The one way prom-adapter connects to a cluster's API for lookups, shared by the server (app/cluster.ts), its
 * standalone REST mapper, and `check`/`explain`: API discovery for the REST mapper, read once here and refreshed by
 * the caller, plus metadata-only LISTs of objects and of pods and nodes.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../observability/logger.ts";
import type { ObjectLister } from "../providers/custom-metrics-provider.ts";
import type { ResourceObjectSource } from "../providers/resource-object-source.ts";
import { createDiscoveryRestMapper, type DiscoveryRestMapper, kubeDiscoveryFetcher } from "./discovery-rest-mapper.ts";
import { createObjectLister, kubeCollectionFetcher } from "./object-lister.ts";
import { createKubernetesObjectSource } from "./resource-object-source.ts";

/** API discovery could not be read at connection time; `server` is the kubeconfig's API server URL. */
export class DiscoveryUnreachableError extends Error {
  override readonly name = "DiscoveryUnreachableError";

  constructor(
    readonly server: string | undefined,
    cause: unknown,
  ) {
    super(`cannot read API discovery from ${server}: ${(cause as Error).message}`, { cause });
  }
}

/** The REST mapper from a cluster's discovery, and the API server it came from. */
export interface ClusterDiscovery {
  readonly server: string | undefined;
  readonly restMapper: DiscoveryRestMapper;
}

/** What cluster mode looks objects up with. */
export interface ClusterLookups extends ClusterDiscovery {
  /** LISTs the objects of a `*` request. */
  readonly objects: ObjectLister;
  /** Running pods and nodes for metrics.k8s.io. */
  readonly resourceObjects: ResourceObjectSource;
}

/** Reads API discovery once through `config`. Throws DiscoveryUnreachableError when it cannot. */
export async function connectDiscovery(config: KubeConfig, logger: Logger): Promise<ClusterDiscovery> {
  const server = config.getCurrentCluster()?.server;
  const restMapper = createDiscoveryRestMapper({ fetchDocument: kubeDiscoveryFetcher(config), logger });
  try {
    await restMapper.refresh();
  } catch (error) {
    throw new DiscoveryUnreachableError(server, error);
  }
  return { server, restMapper };
}

/** Discovery (as {@link connectDiscovery}) plus object and pod/node lookups through `config`. */
export async function connectLookups(config: KubeConfig, logger: Logger): Promise<ClusterLookups> {
  const discovery = await connectDiscovery(config, logger);
  const fetchCollection = kubeCollectionFetcher(config);
  return {
    ...discovery,
    objects: createObjectLister({ fetchCollection, logger }),
    resourceObjects: createKubernetesObjectSource({ fetchCollection, logger }),
  };
}
