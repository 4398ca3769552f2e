/**
 * metrics.k8s.io objects from the Kubernetes API (docs/api.md, Resource metrics): Running pods
 * (`fieldSelector=status.phase=Running`) and all nodes, as metadata-only lists, labels copied. A single pod is a list
 * narrowed to its name, so a pod that is not Running reads as absent, as metrics-server answers.
 */
import type { Logger } from "../observability/logger.ts";
import type { NodeRef, PodRef, ResourceObjectSource } from "../providers/resource-object-source.ts";
import { listMetadata, type CollectionFetcher } from "./object-lister.ts";

/** Object names Kubernetes can hold (DNS subdomain characters); anything else names no object and is never sent on. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function createKubernetesObjectSource({
  fetchCollection,
  logger,
}: {
  fetchCollection: CollectionFetcher;
  logger: Logger;
}): ResourceObjectSource {
  const pods = async (
    namespace: string | undefined,
    labelSelector: string,
    fieldSelector: string,
  ): Promise<PodRef[]> => {
    const path = namespace === undefined ? "/api/v1/pods" : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const items = await listMetadata(fetchCollection, path, { labelSelector, fieldSelector }, logger, "pods");
    return items.flatMap(({ metadata }) =>
      metadata?.name && metadata.namespace
        ? [{ namespace: metadata.namespace, name: metadata.name, labels: metadata.labels ?? {} }]
        : [],
    );
  };
  const nodes = async (labelSelector: string, fieldSelector: string): Promise<NodeRef[]> => {
    const items = await listMetadata(
      fetchCollection,
      "/api/v1/nodes",
      { labelSelector, fieldSelector },
      logger,
      "nodes",
    );
    return items.flatMap(({ metadata }) =>
      metadata?.name ? [{ name: metadata.name, labels: metadata.labels ?? {} }] : [],
    );
  };
  return {
    listPods: (namespace, labelSelector) => pods(namespace, labelSelector, "status.phase=Running"),
    async getPod(namespace, name) {
      if (!OBJECT_NAME.test(name)) return null;
      return (await pods(namespace, "", `metadata.name=${name},status.phase=Running`))[0] ?? null;
    },
    listNodes: (labelSelector) => nodes(labelSelector, ""),
    async getNode(name) {
      if (!OBJECT_NAME.test(name)) return null;
      return (await nodes("", `metadata.name=${name}`))[0] ?? null;
    },
  };
}
