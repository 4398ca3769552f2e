/**
 * GET of stored resources: lists (namespaced or across namespaces) with label and field selectors, single objects
 * and their `status` subresource, in the representation the Accept header negotiates (object, Table or
 * PartialObjectMetadata[List]). Every other verb of a stored resource answers 405.
 */
import {
  parseLabelSelector,
  SelectorSyntaxError,
  type Requirement,
} from "../../../src/apimachinery/labels/selector.ts";
import { selectorMatches } from "../../../src/apimachinery/labels/conversions.ts";
import { fieldsMatch, FieldSelectorError, parseFieldSelector, type FieldTerm } from "./field-selector.ts";
import { negotiateOutput, NotAcceptableError, type OutputTarget } from "./negotiation.ts";
import { apiVersionOf, type ObjectStore, type StoredObject } from "./object-store.ts";
import type { RequestAttributes } from "./request-info.ts";
import {
  badRequest,
  jsonResponse,
  methodNotAllowed,
  notAcceptable,
  notFound,
  pathNotFound,
  statusResponse,
} from "./status.ts";
import { partialObjectMetadata, partialObjectMetadataList, tableOf, type IncludeObject } from "./table.ts";
import type { ResourceDefinition } from "./types.ts";

type ResourceAttributes = Extract<RequestAttributes, { isResourceRequest: true }>;

/** What serving a resource request needs. */
export interface ResourceContext {
  definitions: readonly ResourceDefinition[];
  store: ObjectStore;
  query: URLSearchParams;
  accept: string | null;
  now: Date;
}

const INCLUDE_OBJECT_VALUES = new Set(["", "None", "Metadata", "Object"]);

/** Answers a resource request that passed authentication and authorization. */
export function serveResource(attributes: ResourceAttributes, context: ResourceContext): Response {
  const definition = context.definitions.find(
    (candidate) =>
      candidate.group === attributes.group &&
      candidate.version === attributes.version &&
      candidate.resource === attributes.resource,
  );
  if (!definition || attributes.extraParts.length > 0) return statusResponse(pathNotFound());
  const pathName =
    attributes.verb === "list" || attributes.verb === "watch" || attributes.verb === "deletecollection"
      ? ""
      : attributes.name;
  // NB: request-info reads /api/v1/namespaces/<ns> as namespace <ns>; for the Namespace object itself that is its name.
  const namespace = definition.group === "" && definition.resource === "namespaces" ? "" : attributes.namespace;
  if (!definition.namespaced && namespace !== "") return statusResponse(pathNotFound());
  if (definition.namespaced && namespace === "" && pathName !== "") return statusResponse(pathNotFound());
  const resource = { group: definition.group, resource: definition.resource };
  if (attributes.verb !== "get" && attributes.verb !== "list")
    return statusResponse(methodNotAllowed(resource, attributes.verb));
  if (!definition.verbs.includes(attributes.verb)) return statusResponse(methodNotAllowed(resource, attributes.verb));

  let target: OutputTarget;
  try {
    target = negotiateOutput(context.accept);
  } catch (error) {
    if (error instanceof NotAcceptableError) return statusResponse(notAcceptable(error.message));
    throw error;
  }
  const includeObject = context.query.get("includeObject") ?? "";
  if (target.kind === "Table" && !INCLUDE_OBJECT_VALUES.has(includeObject)) {
    return statusResponse(badRequest(`unrecognized includeObject value: ${JSON.stringify(includeObject)}`));
  }
  const render: Renderer = {
    definition,
    target,
    includeObject: (includeObject || "Metadata") as IncludeObject,
    context,
  };
  return attributes.verb === "list"
    ? serveList(render, namespace)
    : serveGet(render, namespace, pathName, attributes.subresource);
}

interface Renderer {
  definition: ResourceDefinition;
  target: OutputTarget;
  includeObject: IncludeObject;
  context: ResourceContext;
}

function serveList({ definition, target, includeObject, context }: Renderer, namespace: string): Response {
  if (target.kind === "PartialObjectMetadata") {
    return statusResponse(
      notAcceptable(
        `you requested PartialObjectMetadata, but the requested object is a list (${goTypeOf(definition, true)})`,
      ),
    );
  }
  let labels: Requirement[];
  let fields: FieldTerm[];
  try {
    labels = parseLabelSelector(context.query.get("labelSelector") ?? "");
    fields = parseFieldSelector(context.query.get("fieldSelector") ?? "", definition);
  } catch (error) {
    if (error instanceof SelectorSyntaxError || error instanceof FieldSelectorError)
      return statusResponse(badRequest(error.message));
    throw error;
  }
  const objects = context.store
    .list(definition)
    .filter(
      (object) =>
        (namespace === "" || object.namespace === namespace) &&
        selectorMatches(labels, object.labels) &&
        fieldsMatch(fields, object, definition),
    )
    .map((object) => inVersionOf(object, definition));
  const resourceVersion = context.store.resourceVersion();
  if (target.kind === "PartialObjectMetadataList")
    return jsonResponse(partialObjectMetadataList(objects, resourceVersion, target.version));
  if (target.kind === "Table") {
    return jsonResponse(
      tableOf(objects, { resourceVersion, version: target.version, includeObject, noHeaders: false, now: context.now }),
    );
  }
  return jsonResponse({
    kind: `${definition.kind}List`,
    apiVersion: apiVersionOf(definition),
    metadata: { resourceVersion },
    items: objects.map((object) => listItemOf(object, definition)),
  });
}

function serveGet(
  { definition, target, includeObject, context }: Renderer,
  namespace: string,
  name: string,
  subresource: string,
): Response {
  const resource = { group: definition.group, resource: definition.resource };
  if (subresource !== "") {
    const listed = definition.subresources?.some((candidate) => candidate.name === subresource) ?? false;
    if (!listed) return statusResponse(pathNotFound());
    if (subresource !== "status") return statusResponse(methodNotAllowed(resource, "get"));
  }
  const stored = context.store
    .list(definition)
    .find((candidate) => candidate.namespace === namespace && candidate.name === name);
  if (!stored) return statusResponse(notFound(resource, name));
  const object = inVersionOf(stored, definition);
  if (target.kind === "PartialObjectMetadataList") {
    return statusResponse(
      notAcceptable(
        `you requested PartialObjectMetadataList, but the requested object is not a list (${goTypeOf(definition, false)})`,
      ),
    );
  }
  if (target.kind === "PartialObjectMetadata") return jsonResponse(partialObjectMetadata(object, target.version));
  if (target.kind === "Table") {
    const resourceVersion = String(object.metadata.resourceVersion);
    return jsonResponse(
      tableOf([object], {
        resourceVersion,
        version: target.version,
        includeObject,
        noHeaders: false,
        now: context.now,
      }),
    );
  }
  return jsonResponse(object.body);
}

/** The object as the requested version shows it (objects are stored once per group-resource, like etcd does). */
function inVersionOf(object: StoredObject, definition: ResourceDefinition): StoredObject {
  const apiVersion = apiVersionOf(definition);
  return object.body.apiVersion === apiVersion ? object : { ...object, body: { ...object.body, apiVersion } };
}

/** NB: built-in list items carry no kind/apiVersion (the typed list encoder drops them); custom resources keep them. */
function listItemOf(object: StoredObject, definition: ResourceDefinition): Record<string, unknown> {
  if (definition.custom) return object.body;
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = object.body;
  return rest;
}

/** Go's `%T` of the object the apiserver transforms: the internal type, or unstructured for custom resources. */
function goTypeOf(definition: ResourceDefinition, list: boolean): string {
  if (definition.custom) return list ? "*unstructured.UnstructuredList" : "*unstructured.Unstructured";
  const goPackage = definition.group === "" ? "core" : definition.group.split(".")[0];
  return `*${goPackage}.${definition.kind}${list ? "List" : ""}`;
}
