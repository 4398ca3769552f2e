/**
 * A Kubernetes API request that got an HTTP error status. Callers branch on `status` (403 means missing RBAC),
 * never on the message text.
 */
export class KubernetesHttpError extends Error {
  override readonly name = "KubernetesHttpError";

  constructor(
    /** The HTTP status code, e.g. 403. */
    readonly status: number,
    /** The request path with its query, e.g. `/api/v1/namespaces/default/pods?labelSelector=app%3Dweb`. */
    readonly path: string,
    /** The start of the response body, part of the message; empty when the caller logs the body itself. */
    readonly bodyExcerpt = "",
  ) {
    super(`GET ${path}: ${status}${bodyExcerpt === "" ? "" : ` ${bodyExcerpt}`}`);
  }
}
