/**
 * The objects the stand-in serves, per group-resource, in insertion order, each already laid out as Kubernetes
 * serializes it (TypeMeta, ObjectMeta in Go field order, then `data` or `spec` and `status`), with a resourceVersion
 * from one counter shared by every resource.
 */
import { createHash } from "node:crypto";
import type { GroupResource, ObjectInput, ResourceDefinition } from "./types.ts";

/** A stored object: its JSON body and where it lives. */
export interface StoredObject {
  readonly name: string;
  /** `""` for cluster-scoped objects. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The full JSON body, `kind` and `apiVersion` first. */
  readonly body: Record<string, unknown>;
  /** The `metadata` part of `body`. */
  readonly metadata: Record<string, unknown>;
}

/** The object store. */
export interface ObjectStore {
  /** Replaces every object of `definition`'s group-resource. Throws on a scope mistake or duplicate name. */
  replace(definition: ResourceDefinition, objects: readonly ObjectInput[]): void;
  /** Adds `object`, or replaces the one with its namespace and name in place. */
  upsert(definition: ResourceDefinition, object: ObjectInput): void;
  /** Removes the object with that namespace (`""` when cluster-scoped) and name, if present. */
  remove(resource: GroupResource, namespace: string, name: string): void;
  /** Objects of a group-resource in insertion order (all namespaces). */
  list(resource: GroupResource): readonly StoredObject[];
  /** The current resourceVersion (the one lists report). */
  resourceVersion(): string;
}

/** The error of a fixture that Kubernetes would never have stored. */
export class InvalidFixtureError extends Error {
  override name = "InvalidFixtureError";
}

/** Creates an empty store; resourceVersions start after `firstResourceVersion` (default 1000). */
export function createObjectStore(now: () => Date, firstResourceVersion = 1000): ObjectStore {
  const objects = new Map<string, StoredObject[]>();
  let counter = firstResourceVersion;
  return {
    replace(definition, inputs) {
      const seen = new Set<string>();
      const stored = inputs.map((input) => {
        const object = buildObject(definition, input, String(++counter), now());
        const key = `${object.namespace}/${object.name}`;
        if (seen.has(key)) throw new InvalidFixtureError(`duplicate ${definition.resource} ${JSON.stringify(key)}`);
        seen.add(key);
        return object;
      });
      counter += 1;
      objects.set(keyOf(definition), stored);
    },
    upsert(definition, input) {
      const object = buildObject(definition, input, String(++counter), now());
      const current = objects.get(keyOf(definition)) ?? [];
      const index = current.findIndex(
        (candidate) => candidate.namespace === object.namespace && candidate.name === object.name,
      );
      objects.set(
        keyOf(definition),
        index < 0 ? [...current, object] : current.map((candidate, at) => (at === index ? object : candidate)),
      );
    },
    remove(resource, namespace, name) {
      const current = objects.get(keyOf(resource)) ?? [];
      const kept = current.filter((candidate) => candidate.namespace !== namespace || candidate.name !== name);
      if (kept.length !== current.length) {
        counter += 1;
        objects.set(keyOf(resource), kept);
      }
    },
    list(resource) {
      return objects.get(keyOf(resource)) ?? [];
    },
    resourceVersion() {
      return String(counter);
    },
  };
}

function keyOf({ group, resource }: GroupResource): string {
  return `${resource}.${group}`;
}

/** The `apiVersion` of a group-version: `v1` or `apps/v1`. */
export function apiVersionOf({ group, version }: { group: string; version: string }): string {
  return group === "" ? version : `${group}/${version}`;
}

const DEFAULT_PHASE: Record<string, string> = { "/pods": "Running", "/namespaces": "Active" };

function buildObject(
  definition: ResourceDefinition,
  input: ObjectInput,
  resourceVersion: string,
  now: Date,
): StoredObject {
  if (!input.name) throw new InvalidFixtureError(`a ${definition.kind} needs a name`);
  if (!definition.namespaced && input.namespace !== undefined) {
    throw new InvalidFixtureError(`${definition.resource} are cluster-scoped; ${input.name} must not have a namespace`);
  }
  const namespace = definition.namespaced ? (input.namespace ?? "default") : "";
  const labels = input.labels ?? {};
  // ObjectMeta field order: name, generateName, namespace, selfLink, uid, resourceVersion, generation,
  // creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, labels, annotations, ownerReferences, ...
  const metadata: Record<string, unknown> = {
    name: input.name,
    ...(namespace === "" ? {} : { namespace }),
    uid: input.uid ?? stableUid(definition, namespace, input.name),
    resourceVersion,
    creationTimestamp: input.creationTimestamp ?? wholeSeconds(now),
    ...(Object.keys(labels).length > 0 ? { labels: sortedMap(labels) } : {}),
    ...(input.annotations && Object.keys(input.annotations).length > 0
      ? { annotations: sortedMap(input.annotations) }
      : {}),
    ...(input.ownerReferences && input.ownerReferences.length > 0 ? { ownerReferences: input.ownerReferences } : {}),
  };
  const phase = input.phase ?? DEFAULT_PHASE[`${definition.group}/${definition.resource}`];
  const status = phase === undefined ? input.status : { phase, ...input.status };
  const body: Record<string, unknown> = {
    kind: definition.kind,
    apiVersion: apiVersionOf(definition),
    metadata,
    ...(input.data === undefined ? {} : { data: sortedMap(input.data) }),
    ...(input.spec === undefined ? {} : { spec: input.spec }),
    ...(status === undefined ? {} : { status }),
  };
  return { name: input.name, namespace, labels, body, metadata };
}

/** NB: Go's encoding/json writes map keys in sorted order, so labels, annotations and data come out sorted. */
function sortedMap(map: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function wholeSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** A version-4-shaped UUID from a hash of where the object lives, so fixtures get the same uid on every run. */
function stableUid({ group, resource }: GroupResource, namespace: string, name: string): string {
  const hex = createHash("sha256").update(`${group}/${resource}/${namespace}/${name}`).digest("hex");
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
