/**
 * The connections `check` and `explain` need, built from the server's flags with the server's modules: the
 * Prometheus client (http-transport.ts + client.ts) and, in cluster mode, the discovery REST mapper and the object
 * lister (kubernetes/*); standalone mode uses the built-in REST mapper table, as the server does.
 */
import { type ClusterLookups, connectLookups, DiscoveryUnreachableError } from "../kubernetes/cluster-lookups.ts";
import { KubeConfigError, loadKubeConfig } from "../kubernetes/kube-config.ts";
import type { KubeConfig } from "@kubernetes/client-node";
import { connectStandaloneMapper, StandaloneKubeconfigError } from "../kubernetes/standalone-rest-mapper.ts";
import { BUILTIN_RESOURCES, createTableRestMapper, type RestMapper } from "../apimachinery/rest-mapper.ts";
import type { Logger } from "../observability/logger.ts";
import type { Options } from "../options.ts";
import type { PrometheusClient } from "../prometheus/client.ts";
import { PrometheusConfigError } from "../prometheus/errors.ts";
import { prometheusFromOptions } from "../app/prometheus-connection.ts";
import type { ObjectLister } from "../providers/custom-metrics-provider.ts";
import type { ResourceObjectSource } from "../providers/resource-object-source.ts";
import type { MapperKind } from "./check/rules-report.ts";

/** Prometheus or the Kubernetes API cannot be reached (exit code 3). */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";
}

/** The command line cannot be used as given (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Where resources and objects come from. */
export interface KubernetesAccess {
  readonly mapperKind: MapperKind;
  /** The current REST mapper (read per use, as the server does). */
  readonly mapper: () => RestMapper;
  /** Cluster mode only: LISTs objects for `*` requests. */
  readonly objects: ObjectLister | undefined;
  /** Cluster mode only: Running pods and nodes for metrics.k8s.io (standalone asks Prometheus instead). */
  readonly resourceObjects: ResourceObjectSource | undefined;
  /** The API server URL in cluster mode. */
  readonly server: string | undefined;
}

/**
 * What a `--standalone` server uses (kubernetes/standalone-rest-mapper.ts): the cluster's API discovery for the REST
 * mapper when a kubeconfig is at hand (`--kubeconfig`, $KUBECONFIG, ~/.kube/config), else the built-in table; never
 * objects (they come from Prometheus). Throws UnreachableError when `--kubeconfig` was given but does not work.
 */
export async function standaloneAccess(
  kubeconfigFlag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<KubernetesAccess> {
  try {
    const source = await connectStandaloneMapper({ kubeconfigFlag, env, logger });
    if (source.kind === "builtin") return builtinAccess();
    const { restMapper, server } = source;
    return {
      mapperKind: "cluster",
      mapper: () => restMapper.current(),
      objects: undefined,
      resourceObjects: undefined,
      server,
    };
  } catch (error) {
    if (error instanceof StandaloneKubeconfigError) throw new UnreachableError(error.message);
    throw error;
  }
}

/** The built-in table standalone mode uses. */
export function builtinAccess(): KubernetesAccess {
  const mapper = createTableRestMapper(BUILTIN_RESOURCES);
  return {
    mapperKind: "builtin",
    mapper: () => mapper,
    objects: undefined,
    resourceObjects: undefined,
    server: undefined,
  };
}

/**
 * Cluster mode: loads the kubeconfig (`--kubeconfig`, else in-cluster, else ~/.kube/config) and reads API
 * discovery once. Throws UnreachableError when no kubeconfig can be loaded or discovery cannot be read.
 */
export async function connectKubernetes(kubeconfig: string | undefined, logger: Logger): Promise<KubernetesAccess> {
  let config: KubeConfig;
  try {
    config = loadKubeConfig({ file: kubeconfig });
  } catch (error) {
    if (error instanceof KubeConfigError) throw new UnreachableError(error.message);
    throw error;
  }
  let lookups: ClusterLookups;
  try {
    lookups = await connectLookups(config, logger);
  } catch (error) {
    if (!(error instanceof DiscoveryUnreachableError)) throw error;
    const advice =
      kubeconfig === undefined
        ? " (no --kubeconfig given: pass --kubeconfig FILE, or --standalone to run without Kubernetes)"
        : "";
    throw new UnreachableError(`${error.message}${advice}`);
  }
  const { restMapper, objects, resourceObjects, server } = lookups;
  return { mapperKind: "cluster", mapper: () => restMapper.current(), objects, resourceObjects, server };
}

/** The Prometheus client the server would use for these flags. Throws UsageError for unusable credential files. */
export function connectPrometheus(options: Options): PrometheusClient {
  try {
    return prometheusFromOptions(options).client;
  } catch (error) {
    if (error instanceof PrometheusConfigError) throw new UsageError(error.message);
    throw error;
  }
}
