/**
 * What a request asks to do, as authorization sees it (docs/api.md, Authorization): k8s.io/apiserver's
 * RequestInfoFactory rules. `/api/<v>/...` and `/apis/<g>/<v>/...` with at least a resource are resource requests (verb
 * from the method, `list` or `watch` when there is no name, namespace from `namespaces/<ns>/`); every other path
 * (`/apis`, `/apis/<g>`, `/apis/<g>/<v>`, health, `/metrics`, `/openapi/...`, `/version`) is a non-resource request
 * with the path and the lower-cased method as verb.
 *
 * NB: path segments are split first and percent-decoded once each by the routers' own decoder
 * (api/path-segments.ts), so `%2A` is `*` and an encoded `%2F` stays inside its segment: authorization
 * always sees the same name, namespace and metric that the handler will serve. (Go decodes the whole path before
 * splitting; the two differ only for `%2F`, which names no Kubernetes object.)
 */
import { decodePathSegment } from "../api/path-segments.ts";
import { pathNotFound } from "../api/status.ts";
import { ApiError, BadRequestError } from "../apimachinery/status.ts";

/** Attributes of a request on an API resource (`resourceAttributes` of a SubjectAccessReview). */
export interface ResourceRequestAttributes {
  readonly kind: "resource";
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, `proxy`, or "" for other methods. */
  readonly verb: string;
  /** API group; "" for the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  /** "" when the request is not namespaced. */
  readonly namespace: string;
  readonly resource: string;
  /** "" when there is none. */
  readonly subresource: string;
  /** "" when there is none (a list). */
  readonly name: string;
}

/** Attributes of a request on a plain path (`nonResourceAttributes` of a SubjectAccessReview). */
export interface NonResourceRequestAttributes {
  readonly kind: "nonResource";
  /** The method lower-cased: `get`, `head`, ... */
  readonly verb: string;
  /** The percent-decoded path, e.g. `/metrics`, `/apis/custom.metrics.k8s.io/v1beta2`. */
  readonly path: string;
}

export type RequestAttributes = ResourceRequestAttributes | NonResourceRequestAttributes;

const API_PREFIXES = new Set(["api", "apis"]);
const GROUPLESS_API_PREFIXES = new Set(["api"]);
const SPECIAL_VERBS = new Set(["proxy", "watch"]);
const SPECIAL_VERBS_WITHOUT_SUBRESOURCES = new Set(["proxy"]);
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

const VERB_OF_METHOD: Readonly<Record<string, string>> = {
  GET: "get",
  HEAD: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * The authorization attributes of a request with `method` on `url`. Throws BadRequestError (`invalid request path`)
 * when a path segment is not valid percent-encoding, or a `watch`/`proxy` path names nothing.
 */
export function requestAttributesOf(method: string, url: URL): RequestAttributes {
  const pathname = url.pathname;
  const trimmed = pathname.replace(/^\/+|\/+$/g, "");
  let parts = trimmed === "" ? [] : trimmed.split("/").map(decodePathSegment);
  const nonResource = (): NonResourceRequestAttributes => ({
    kind: "nonResource",
    verb: method.toLowerCase(),
    path: decodePathSegment(pathname),
  });

  if (parts.length < 3 || !API_PREFIXES.has(parts[0]!)) return nonResource();
  const prefix = parts[0]!;
  parts = parts.slice(1);
  let group = "";
  if (!GROUPLESS_API_PREFIXES.has(prefix)) {
    if (parts.length < 3) return nonResource();
    group = parts[0]!;
    parts = parts.slice(1);
  }
  const version = parts[0]!;
  parts = parts.slice(1);

  let verb: string;
  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) throw new BadRequestError("invalid request path");
    verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    verb = VERB_OF_METHOD[method.toUpperCase()] ?? "";
  }

  let namespace = "";
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1]!;
    // `namespaces/<ns>/status` is the Namespace object's own subresource; anything else is a resource in <ns>.
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }

  const resource = parts[0] ?? "";
  const name = parts[1] ?? "";
  const subresource = parts.length >= 3 && !SPECIAL_VERBS_WITHOUT_SUBRESOURCES.has(verb) ? parts[2]! : "";

  if (name === "" && verb === "get") {
    // NB: k8s.io/apiserver also takes the name from `fieldSelector=metadata.name=<n>` here, authorizing the list as
    // that one object. Not done: the external metrics route ignores fieldSelector, so such a request would be
    // authorized for one name and answered for all. A list is always authorized as a list (docs/api.md, Authorization).
    verb = isWatchRequested(url.searchParams) ? "watch" : "list";
  }
  if (name === "" && verb === "delete") verb = "deletecollection";

  return { kind: "resource", verb, group, version, namespace, resource, subresource, name };
}

/**
 * Whether the query asks for a watch: its first `watch` value is anything but `0` or `false` in any case, the empty
 * value included (apimachinery's Convert_Slice_string_To_bool). The one reading of `watch`: authorization
 * (`requestAttributesOf`) and the app's refusal (app/compose.ts) both use it, so a request authorized as a list is never one
 * the app would refuse as a watch and the reverse.
 */
export function isWatchRequested(query: URLSearchParams): boolean {
  const value = query.get("watch");
  if (value === null) return false;
  // NB: Go's strings.EqualFold also folds U+017F (ſ) to s; toLowerCase does not, so `falſe` counts as a watch here
  // and is refused, the safe side.
  const lowered = value.toLowerCase();
  return lowered !== "0" && lowered !== "false";
}

/**
 * Why the app must refuse a request rather than serve it, from the same reading authorization makes: 405 for a watch
 * (by parameter or `watch/` prefix), 404 for a `proxy/` request or a Namespace subresource (`namespaces/<ns>/status`);
 * undefined when it may be served. Throws
 * BadRequestError for an undecodable path, as `requestAttributesOf` does.
 */
export function refusalOf(method: string, url: URL): ApiError | undefined {
  if (isWatchRequested(url.searchParams)) return new ApiError(405, "MethodNotAllowed", "watch is not supported");
  const attributes = requestAttributesOf(method, url);
  if (attributes.kind !== "resource") return undefined;
  if (attributes.verb === "watch") return new ApiError(405, "MethodNotAllowed", "watch is not supported");
  if (attributes.verb === "proxy") return pathNotFound();
  // `namespaces/<ns>/status` and `/finalize` are the Namespace object's subresources to authorization; no API here
  // serves them, and the external metrics route would otherwise serve a metric named `status` in <ns> under them.
  if (attributes.resource === "namespaces" && NAMESPACE_SUBRESOURCES.has(attributes.subresource)) return pathNotFound();
  return undefined;
}
