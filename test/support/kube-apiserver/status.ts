/**
 * metav1.Status answers with the messages of k8s.io/apimachinery/pkg/api/errors, fields in Go's order (kind,
 * apiVersion, metadata, status, message, reason, details, code; empty details fields omitted).
 */
import type { GroupResource } from "./types.ts";

/** metav1.StatusDetails; `details: {}` is what Kubernetes sends when every field is empty. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** A Status body plus its HTTP code. */
export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A JSON response with `Content-Type: application/json`, the body serialized in the given object's key order. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A failure Status with `message`, `reason` (omitted when empty) and `details` (omitted when undefined). */
export function failureStatus(code: number, message: string, reason: string, details?: StatusDetails): StatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    ...(reason === "" ? {} : { reason }),
    ...(details === undefined ? {} : { details: compactDetails(details) }),
    code,
  };
}

/** Sends a Status as the response, with its code as the HTTP status. */
export function statusResponse(status: StatusBody, headers: Record<string, string> = {}): Response {
  return jsonResponse(status, status.code, headers);
}

function compactDetails({ name, group, kind, causes, retryAfterSeconds }: StatusDetails): StatusDetails {
  return {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    ...(kind ? { kind } : {}),
    ...(causes && causes.length > 0 ? { causes } : {}),
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  };
}

/** `pods` or `deployments.apps`, as schema.GroupResource.String() writes it. */
export function qualifiedResource({ group, resource }: GroupResource): string {
  return group === "" ? resource : `${resource}.${group}`;
}

/** 401 for missing or failed credentials. */
export function unauthorized(): StatusBody {
  return failureStatus(401, "Unauthorized", "Unauthorized");
}

/** errors.NewForbidden: `<resource> "<name>" is forbidden: <why>`, or `forbidden: <why>` without a resource. */
export function forbidden(resource: GroupResource | undefined, name: string, why: string): StatusBody {
  if (!resource || resource.resource === "") return failureStatus(403, `forbidden: ${why}`, "Forbidden", {});
  const qualified = qualifiedResource(resource);
  const message =
    name === "" ? `${qualified} is forbidden: ${why}` : `${qualified} ${JSON.stringify(name)} is forbidden: ${why}`;
  return failureStatus(403, message, "Forbidden", { name, group: resource.group, kind: resource.resource });
}

/** errors.NewNotFound: `pods "x" not found`, details {name, group, kind}. */
export function notFound(resource: GroupResource, name: string): StatusBody {
  return failureStatus(404, `${qualifiedResource(resource)} ${JSON.stringify(name)} not found`, "NotFound", {
    name,
    group: resource.group,
    kind: resource.resource,
  });
}

/** The 404 for a path nothing is served at. */
export function pathNotFound(): StatusBody {
  return failureStatus(404, "the server could not find the requested resource", "NotFound", {});
}

/** errors.NewBadRequest. */
export function badRequest(message: string): StatusBody {
  return failureStatus(400, message, "BadRequest");
}

/** errors.NewMethodNotSupported for a verb the stand-in does not serve. */
export function methodNotAllowed(resource: GroupResource, verb: string): StatusBody {
  return failureStatus(
    405,
    `${verb} is not supported on resources of kind ${JSON.stringify(qualifiedResource(resource))}`,
    "MethodNotAllowed",
    {
      group: resource.group,
      kind: resource.resource,
    },
  );
}

/** The 406 of content negotiation. */
export function notAcceptable(message: string): StatusBody {
  return failureStatus(406, message, "NotAcceptable");
}

/** 500 InternalError as errors.NewInternalError words it. */
export function internalError(cause: string): StatusBody {
  return failureStatus(500, `Internal error occurred: ${cause}`, "InternalError", { causes: [{ message: cause }] });
}

/**
 * The Status Kubernetes answers for `code` (for fault injection): the reason and message of the matching
 * apimachinery constructor, with `cause` where the constructor takes one.
 */
export function statusForCode(code: number, cause: string): StatusBody {
  switch (code) {
    case 400:
      return badRequest(cause);
    case 401:
      return unauthorized();
    case 403:
      return failureStatus(403, `forbidden: ${cause}`, "Forbidden", {});
    case 404:
      return pathNotFound();
    case 409:
      return failureStatus(409, `Operation cannot be fulfilled: ${cause}`, "Conflict", {});
    case 410:
      return failureStatus(410, cause, "Expired");
    case 429:
      return failureStatus(429, "Too many requests, please try again later.", "TooManyRequests", {
        retryAfterSeconds: 1,
      });
    case 500:
      return internalError(cause);
    case 503:
      return failureStatus(503, "the server is currently unable to handle the request", "ServiceUnavailable", {});
    case 504:
      return failureStatus(504, `Timeout: ${cause}`, "Timeout", {});
    default:
      return failureStatus(code, cause, "");
  }
}
