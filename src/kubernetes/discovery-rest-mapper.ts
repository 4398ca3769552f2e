/**
 * A REST mapper built from the API server's discovery documents (`/api`, `/api/v1`, `/apis`, each group's preferred
 * version), refreshed on demand — at every relist — so CRDs created after startup become queryable without a
 * restart (upstream built its mapper once). Scope comes from discovery, so cluster-scoped custom resources work.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { createTableRestMapper, type ResourceInfo, type RestMapper } from "../apimachinery/rest-mapper.ts";
import type { Logger } from "../observability/logger.ts";
import { kubeRequest } from "./kube-http.ts";
import { KubernetesHttpError } from "./errors.ts";

interface ApiResourceList {
  resources?: { name: string; singularName?: string; namespaced: boolean; kind: string; shortNames?: string[] }[];
}
interface ApiGroupList {
  groups?: {
    name: string;
    preferredVersion?: { groupVersion: string; version: string };
    versions?: { groupVersion: string; version: string }[];
  }[];
}

/** Fetches one discovery document as JSON; throws with the path and status on failure. */
export type DiscoveryFetcher = (path: string) => Promise<unknown>;

export function kubeDiscoveryFetcher(kubeConfig: KubeConfig): DiscoveryFetcher {
  return async (path) => {
    const response = await kubeRequest(kubeConfig, path);
    if (!response.ok) throw new KubernetesHttpError(response.status, path, (await response.text()).slice(0, 200));
    return response.json();
  };
}

export interface DiscoveryRestMapper {
  /** The latest snapshot (a table mapper; its `generation` increases when the content changes). */
  current(): RestMapper;
  /** Re-reads discovery. Rejects when the core group cannot be read; other groups that fail are skipped and logged. */
  refresh(): Promise<void>;
}

/** Groups this server itself serves: never resources users ask about, and often unavailable while it starts. */
const OWN_GROUPS = new Set(["custom.metrics.k8s.io", "external.metrics.k8s.io", "metrics.k8s.io"]);

export function createDiscoveryRestMapper({
  fetchDocument,
  logger,
}: {
  fetchDocument: DiscoveryFetcher;
  logger: Logger;
}): DiscoveryRestMapper {
  let snapshot: RestMapper = createTableRestMapper([], 0);
  let fingerprint = "";

  async function listResources(groupVersion: string): Promise<ResourceInfo[]> {
    const path = groupVersion === "v1" ? "/api/v1" : `/apis/${groupVersion}`;
    const list = (await fetchDocument(path)) as ApiResourceList;
    const slash = groupVersion.indexOf("/");
    const group = slash < 0 ? "" : groupVersion.slice(0, slash);
    const version = slash < 0 ? groupVersion : groupVersion.slice(slash + 1);
    return (list.resources ?? [])
      .filter((resource) => !resource.name.includes("/"))
      .map((resource) => ({
        group,
        version,
        kind: resource.kind,
        resource: resource.name,
        singular: resource.singularName || resource.kind.toLowerCase(),
        namespaced: resource.namespaced,
        shortNames: resource.shortNames ?? [],
      }));
  }

  return {
    current: () => snapshot,
    async refresh() {
      const core = await listResources("v1");
      const groups = ((await fetchDocument("/apis")) as ApiGroupList).groups ?? [];
      const perGroup = await Promise.all(
        groups
          .filter((group) => !OWN_GROUPS.has(group.name))
          .map(async (group) => {
            const preferred = group.preferredVersion?.groupVersion ?? group.versions?.[0]?.groupVersion;
            if (!preferred) return [];
            try {
              return await listResources(preferred);
            } catch (error) {
              logger.warn("skipping an API group whose discovery failed", {
                groupVersion: preferred,
                error: (error as Error).message,
              });
              return [];
            }
          }),
      );
      const entries = [...core, ...perGroup.flat()];
      const nextFingerprint = JSON.stringify(entries);
      if (nextFingerprint !== fingerprint) {
        fingerprint = nextFingerprint;
        snapshot = createTableRestMapper(entries, snapshot.generation + 1);
        logger.info(2, "REST mapper refreshed", { resources: entries.length, generation: snapshot.generation });
      }
    },
  };
}
