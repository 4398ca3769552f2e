/**
 * The REST mapper contract: turns what users write (`pod`, `Pods`, `deployments.apps`, `deploy`) into the resource
 * the API serves, with its kind, preferred version and scope. The Kubernetes-backed implementation lives in
 * kubernetes/; this file holds the contract, a table-backed implementation, and the built-in table that standalone
 * mode uses.
 */

/** A resource in an API group. `group` is `""` for the core group. `resource` is the plural, lower-case name. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** What the mapper knows about one resource. */
export interface ResourceInfo extends GroupResource {
  /** Preferred version of the group, e.g. `v1`. */
  readonly version: string;
  /** Kind, e.g. `Deployment`. */
  readonly kind: string;
  /** Singular lower-case name, e.g. `deployment`. */
  readonly singular: string;
  /** false for cluster-scoped resources (nodes, namespaces, persistentvolumes, cluster-scoped CRDs). */
  readonly namespaced: boolean;
  /** Short names, e.g. `deploy`. Default none. */
  readonly shortNames?: readonly string[];
}

export interface RestMapper {
  /**
   * Resolves a group-resource written by a user: singular, plural, kind or short name, any case. An empty group means
   * "any group": the core group wins, then groups in discovery order. Throws UnknownResourceError.
   */
  resolve(written: GroupResource): ResourceInfo;
  /**
   * Every resource known, in discovery order. Resolution failures are UnknownResourceError (AmbiguousResourceError
   * when a group-less name matches several non-core groups).
   */
  all(): readonly ResourceInfo[];
  /** Increases whenever the mapper's content changes (e.g. after a discovery refresh). */
  readonly generation: number;
}

export class UnknownResourceError extends Error {
  override readonly name: string = "UnknownResourceError";
  constructor(readonly written: GroupResource) {
    super(`the server doesn't have a resource type "${formatGroupResource(written)}"`);
  }
}

/** A name without a group that several non-core groups serve (e.g. `ingresses` in extensions and networking.k8s.io). */
export class AmbiguousResourceError extends UnknownResourceError {
  override readonly name = "AmbiguousResourceError";
  constructor(
    written: GroupResource,
    readonly candidates: readonly GroupResource[],
  ) {
    super(written);
    this.message = `the resource name "${written.resource}" is ambiguous: it matches ${candidates.map(formatGroupResource).join(", ")}; write it with its group`;
  }
}

/** `resource` or `resource.group`, the way kubectl and the custom metrics paths write it. */
export function formatGroupResource({ group, resource }: GroupResource): string {
  return group === "" ? resource : `${resource}.${group}`;
}

/** Splits `resource.group` at the first dot (`deployments.apps`, `ingresses.networking.k8s.io`). */
export function parseGroupResource(text: string): GroupResource {
  const dot = text.indexOf(".");
  return dot < 0 ? { group: "", resource: text } : { group: text.slice(dot + 1), resource: text.slice(0, dot) };
}

/** A mapper over a fixed table (tests, standalone mode, and each snapshot of the Kubernetes-backed mapper). */
export function createTableRestMapper(entries: readonly ResourceInfo[], generation = 0): RestMapper {
  // Lower-case name -> candidates, core group first, then table (discovery) order.
  const byName = new Map<string, ResourceInfo[]>();
  const ordered = [...entries.filter((e) => e.group === ""), ...entries.filter((e) => e.group !== "")];
  for (const entry of ordered) {
    const names = new Set(
      [entry.resource, entry.singular, entry.kind, ...(entry.shortNames ?? [])].map((n) => n.toLowerCase()),
    );
    for (const name of names) {
      if (name === "") continue;
      const list = byName.get(name) ?? [];
      list.push(entry);
      byName.set(name, list);
    }
  }
  return {
    generation,
    all: () => entries,
    resolve(written) {
      const candidates = byName.get(written.resource.toLowerCase()) ?? [];
      const group = written.group.toLowerCase();
      if (group !== "") {
        const found = candidates.find((c) => c.group === group);
        if (!found) throw new UnknownResourceError(written);
        return found;
      }
      const first = candidates[0];
      if (!first) throw new UnknownResourceError(written);
      // NB: the core group wins outright; among other groups a name served by two of them is refused rather than
      // guessed, so `ingress` never silently means extensions on one cluster and networking.k8s.io on another.
      if (first.group !== "") {
        const groups = [...new Set(candidates.map((c) => c.group))];
        if (groups.length > 1)
          throw new AmbiguousResourceError(
            written,
            candidates.map(({ group: g, resource }) => ({ group: g, resource })),
          );
      }
      return first;
    },
  };
}

const core = (kind: string, resource: string, namespaced: boolean, shortNames: string[] = []): ResourceInfo => ({
  group: "",
  version: "v1",
  kind,
  resource,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames,
});
const grouped = (
  group: string,
  version: string,
  kind: string,
  resource: string,
  shortNames: string[] = [],
): ResourceInfo => ({
  group,
  version,
  kind,
  resource,
  singular: kind.toLowerCase(),
  namespaced: true,
  shortNames,
});

/**
 * The built-in table standalone mode uses instead of cluster discovery: the common core, apps, batch, networking,
 * autoscaling and policy resources with their current preferred versions.
 */
export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  core("Pod", "pods", true, ["po"]),
  core("Service", "services", true, ["svc"]),
  core("Endpoints", "endpoints", true, ["ep"]),
  core("Namespace", "namespaces", false, ["ns"]),
  core("Node", "nodes", false, ["no"]),
  core("PersistentVolume", "persistentvolumes", false, ["pv"]),
  core("PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"]),
  core("ReplicationController", "replicationcontrollers", true, ["rc"]),
  core("ServiceAccount", "serviceaccounts", true, ["sa"]),
  core("ConfigMap", "configmaps", true, ["cm"]),
  grouped("apps", "v1", "Deployment", "deployments", ["deploy"]),
  grouped("apps", "v1", "StatefulSet", "statefulsets", ["sts"]),
  grouped("apps", "v1", "DaemonSet", "daemonsets", ["ds"]),
  grouped("apps", "v1", "ReplicaSet", "replicasets", ["rs"]),
  grouped("batch", "v1", "Job", "jobs"),
  grouped("batch", "v1", "CronJob", "cronjobs", ["cj"]),
  grouped("networking.k8s.io", "v1", "Ingress", "ingresses", ["ing"]),
  grouped("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", ["hpa"]),
  grouped("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", ["pdb"]),
];
