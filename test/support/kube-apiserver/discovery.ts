/**
 * The legacy discovery documents (`/version`, `/api`, `/apis`, `/apis/<g>`, `/api/v1`, `/apis/<g>/<v>`) built from
 * the resource definitions. Groups and versions keep definition order (the first version of a group is preferred);
 * resources of a group-version are sorted by name, subresources right after their parent, as kube-apiserver does.
 */
import type { ResourceDefinition } from "./types.ts";

/** The /version answer: kube-apiserver v1.32.3's build info. */
export const VERSION_INFO = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.3",
  gitCommit: "32cc146f75aad04beaaa245a7157eb35063a9f99",
  gitTreeState: "clean",
  buildDate: "2025-03-11T19:52:21Z",
  goVersion: "go1.23.6",
  compiler: "gc",
  platform: "linux/amd64",
};

/** GET /api. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** The versions of each non-core group, in definition order. */
function groupVersions(definitions: readonly ResourceDefinition[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { group, version } of definitions) {
    if (group === "") continue;
    const versions = groups.get(group) ?? [];
    if (!versions.includes(version)) versions.push(version);
    groups.set(group, versions);
  }
  return groups;
}

function apiGroupBody(name: string, versions: readonly string[]) {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: entries, preferredVersion: entries[0]! };
}

/** GET /apis. */
export function apiGroupList(definitions: readonly ResourceDefinition[]): Record<string, unknown> {
  const groups = [...groupVersions(definitions)].map(([name, versions]) => apiGroupBody(name, versions));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** GET /apis/<group>; undefined when the group is not served. */
export function apiGroup(
  definitions: readonly ResourceDefinition[],
  group: string,
): Record<string, unknown> | undefined {
  const versions = groupVersions(definitions).get(group);
  return versions ? { kind: "APIGroup", apiVersion: "v1", ...apiGroupBody(group, versions) } : undefined;
}

/** GET /api/v1 or /apis/<group>/<version>; undefined when that group-version is not served. */
export function apiResourceList(
  definitions: readonly ResourceDefinition[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const served = definitions.filter((definition) => definition.group === group && definition.version === version);
  if (served.length === 0) return undefined;
  const entries: { name: string; body: Record<string, unknown> }[] = [];
  for (const definition of served) {
    entries.push({
      name: definition.resource,
      body: {
        name: definition.resource,
        singularName: definition.singular,
        namespaced: definition.namespaced,
        kind: definition.kind,
        verbs: definition.verbs,
        ...(definition.shortNames && definition.shortNames.length > 0 ? { shortNames: definition.shortNames } : {}),
        ...(definition.categories && definition.categories.length > 0 ? { categories: definition.categories } : {}),
      },
    });
    for (const subresource of definition.subresources ?? []) {
      const name = `${definition.resource}/${subresource.name}`;
      entries.push({
        name,
        body: {
          name,
          singularName: "",
          namespaced: definition.namespaced,
          ...(subresource.group !== undefined ? { group: subresource.group } : {}),
          ...(subresource.version !== undefined ? { version: subresource.version } : {}),
          kind: subresource.kind ?? definition.kind,
          verbs: subresource.verbs,
        },
      });
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const resources = entries.map((entry) => entry.body);
  // NB: kube-apiserver's /api/v1 document has no apiVersion; group documents do.
  return group === ""
    ? { kind: "APIResourceList", groupVersion: version, resources }
    : { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${group}/${version}`, resources };
}
