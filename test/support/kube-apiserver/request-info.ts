/**
 * Request attributes after k8s.io/apiserver `RequestInfoFactory.NewRequestInfo`: which resource, verb, namespace,
 * name and subresource a path means, or that it is a non-resource path (discovery, /version).
 */

/** What authorization and routing know about a request. */
export type RequestAttributes =
  | { isResourceRequest: false; path: string; verb: string }
  | {
      isResourceRequest: true;
      path: string;
      verb: string;
      /** `""` for the core group. */
      group: string;
      version: string;
      namespace: string;
      resource: string;
      subresource: string;
      /** From the path; for a list, the name a `metadata.name` field selector requires (or `""`). */
      name: string;
      /** Path segments after the subresource (e.g. a proxy path); never served. */
      extraParts: string[];
    };

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);
const VERB_BY_METHOD: Record<string, string> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** Attributes of `method` on `path` (percent-encoded, as received) with `query`. */
export function requestAttributesOf(method: string, path: string, query: URLSearchParams): RequestAttributes {
  const verbOfMethod = VERB_BY_METHOD[method.toUpperCase()] ?? "";
  // NB: a non-resource request's verb is the lower-cased method ("get", "post"...), not a resource verb.
  const nonResource: RequestAttributes = { isResourceRequest: false, path, verb: method.toLowerCase() };
  let parts = path
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map(safeDecode);
  if (parts.length < 3) return nonResource;
  const prefix = parts[0];
  if (prefix !== "api" && prefix !== "apis") return nonResource;
  parts = parts.slice(1);
  let group = "";
  if (prefix === "apis") {
    if (parts.length < 3) return nonResource;
    group = parts[0]!;
    parts = parts.slice(1);
  }
  const version = parts[0]!;
  parts = parts.slice(1);
  let verb = verbOfMethod;
  if (parts[0] === "watch") {
    verb = "watch";
    parts = parts.slice(1);
  }
  let namespace = "";
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  const [resource = "", pathName = "", subresource = "", ...extraParts] = parts;
  let name = pathName;
  if (name === "" && verb === "get") {
    verb = query.get("watch") === "true" || query.get("watch") === "1" ? "watch" : "list";
    // A list narrowed to one name by field selector is authorized as that name (resourceNames rules apply).
    name = exactNameOf(query.get("fieldSelector") ?? "") ?? "";
  }
  if (name === "" && verb === "delete") verb = "deletecollection";
  return { isResourceRequest: true, path, verb, group, version, namespace, resource, subresource, name, extraParts };
}

/** The name a field selector requires (`metadata.name=x` or `==`, alone or among other terms), if any. */
function exactNameOf(fieldSelector: string): string | undefined {
  for (const term of fieldSelector.split(",")) {
    const match = /^metadata\.name==?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(term);
    if (match) return match[1];
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
