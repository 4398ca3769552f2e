/**
 * Object lookup for `*` requests (docs/api.md, Custom metrics): a metadata-only LIST (`PartialObjectMetadataList`) of
 * the resource, in the request's namespace or cluster-wide, filtered by the label selector. Names keep LIST order.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { parseLabelSelectorParameter } from "../apimachinery/labels/selector.ts";
import type { ResourceInfo } from "../apimachinery/rest-mapper.ts";
import type { Logger } from "../observability/logger.ts";
import { InternalError } from "../apimachinery/status.ts";
import type { ObjectLister } from "../providers/custom-metrics-provider.ts";
import { kubeRequest } from "./kube-http.ts";
import { KubernetesHttpError } from "./errors.ts";

export const PARTIAL_OBJECT_METADATA_LIST =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/** The REST path of a resource's collection. */
export function collectionPath(
  resource: Pick<ResourceInfo, "group" | "version" | "resource" | "namespaced">,
  namespace: string | undefined,
): string {
  const root = resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope = resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${root}${scope}/${resource.resource}`;
}

export type CollectionFetcher = (path: string) => Promise<Response>;

export function kubeCollectionFetcher(kubeConfig: KubeConfig): CollectionFetcher {
  return (path) => kubeRequest(kubeConfig, path, { accept: PARTIAL_OBJECT_METADATA_LIST });
}

export function createObjectLister({
  fetchCollection,
  logger,
}: {
  fetchCollection: CollectionFetcher;
  logger: Logger;
}): ObjectLister {
  return {
    async listNames(resource, namespace, labelSelector) {
      parseLabelSelectorParameter(labelSelector);
      const items = await listMetadata(
        fetchCollection,
        collectionPath(resource, namespace),
        { labelSelector },
        logger,
        resource.resource,
      );
      return items.flatMap((item) => (item.metadata?.name ? [item.metadata.name] : []));
    },
  };
}

/** The items of a metadata-only list. */
export type MetadataItems = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } }[];

/**
 * One metadata-only LIST of `path` with the non-empty `query` parameters. A failure is the generic 500
 * `unable to list matching resources`; the log names the resource, the status and, for 403, the missing RBAC.
 */
export async function listMetadata(
  fetchCollection: CollectionFetcher,
  path: string,
  query: Readonly<Record<string, string>>,
  logger: Logger,
  what: string,
): Promise<MetadataItems> {
  const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== "")).toString();
  const url = search === "" ? path : `${path}?${search}`;
  let response: Response;
  try {
    response = await fetchCollection(url);
  } catch (error) {
    throw new InternalError("unable to list matching resources", error);
  }
  if (!response.ok) {
    const detail = (await response.text()).slice(0, 300);
    const hint = response.status === 403 ? ` (grant the adapter's ServiceAccount list on ${what})` : "";
    logger.error(`listing ${what} failed with ${response.status}${hint}`, { path: url, body: detail });
    throw new InternalError("unable to list matching resources", new KubernetesHttpError(response.status, url));
  }
  return ((await response.json()) as { items?: MetadataItems }).items ?? [];
}
