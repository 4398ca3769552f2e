/**
 * `as=Table` answers (what `kubectl get` asks for) and metadata-only (`as=PartialObjectMetadata[List]`) answers.
 * NB: every resource gets the columns the apiextensions server gives a CRD without printer columns (Name, and Age
 * as a human duration); the built-in printers' extra columns (pod Ready/Status/Restarts...) are not reproduced.
 */
import type { StoredObject } from "./object-store.ts";

const NAME_DESCRIPTION =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client " +
  "to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and " +
  "configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_TIMESTAMP_DESCRIPTION =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be " +
  "set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 " +
  "form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: " +
  "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/** `includeObject` of TableOptions: what each row's `object` holds. */
export type IncludeObject = "None" | "Metadata" | "Object";

/** A PartialObjectMetadata body for `object` in meta.k8s.io/`version`. */
export function partialObjectMetadata(object: StoredObject, version: string): Record<string, unknown> {
  return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${version}`, metadata: object.metadata };
}

/** A PartialObjectMetadataList body. */
export function partialObjectMetadataList(
  objects: readonly StoredObject[],
  resourceVersion: string,
  version: string,
): Record<string, unknown> {
  return {
    kind: "PartialObjectMetadataList",
    apiVersion: `meta.k8s.io/${version}`,
    metadata: { resourceVersion },
    items: objects.map((object) => partialObjectMetadata(object, version)),
  };
}

/** A Table of `objects` with Name and Age columns; `resourceVersion` goes in its list metadata. */
export function tableOf(
  objects: readonly StoredObject[],
  options: { resourceVersion: string; version: string; includeObject: IncludeObject; noHeaders: boolean; now: Date },
): Record<string, unknown> {
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${options.version}`,
    metadata: { resourceVersion: options.resourceVersion },
    columnDefinitions: options.noHeaders
      ? []
      : [
          { name: "Name", type: "string", format: "name", description: NAME_DESCRIPTION, priority: 0 },
          { name: "Age", type: "date", format: "", description: CREATION_TIMESTAMP_DESCRIPTION, priority: 0 },
        ],
    rows: objects.map((object) => ({
      cells: [object.name, ageOf(object, options.now)],
      ...rowObject(object, options.includeObject, options.version),
    })),
  };
}

function rowObject(object: StoredObject, includeObject: IncludeObject, version: string): { object?: unknown } {
  if (includeObject === "None") return {};
  return { object: includeObject === "Object" ? object.body : partialObjectMetadata(object, version) };
}

function ageOf(object: StoredObject, now: Date): string {
  const created = Date.parse(String(object.metadata.creationTimestamp ?? ""));
  return Number.isNaN(created) ? "<unknown>" : humanDuration(now.getTime() - created);
}

/** apimachinery `duration.HumanDuration`: `45s`, `3m12s`, `5h4m`, `3d2h`, `2y10d`... for a span in ms. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const rest = seconds % 60;
    return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const rest = hours % 24;
    return rest === 0 ? `${hours / 24}d` : `${Math.trunc(hours / 24)}d${rest}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const rest = Math.trunc(hours / 24) % 365;
    return rest === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${rest}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}
