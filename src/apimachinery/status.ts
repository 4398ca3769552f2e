/**
 * What providers throw. Each error carries the HTTP code and Kubernetes `reason` it becomes; api/status.ts turns any
 * of them into a `Status` in one place. Messages of 5xx errors are generic on purpose: the cause is logged, never sent.
 */

export type StatusReason =
  | "BadRequest"
  | "NotFound"
  | "InternalError"
  | "Forbidden"
  | "Unauthorized"
  | "MethodNotAllowed"
  | "TooManyRequests"
  | "";

/** Extra Status fields (`details`), as Kubernetes writes them. */
export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: { readonly message: string }[];
}

export class ApiError extends Error {
  override readonly name: string = "ApiError";
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 400: the client sent something we cannot use (path, selector). */
export class BadRequestError extends ApiError {
  override readonly name = "BadRequestError";
  constructor(message: string) {
    super(400, "BadRequest", message);
  }
}

/** 404 with the given message. */
export class NotFoundError extends ApiError {
  override readonly name = "NotFoundError";
  constructor(message: string, details?: StatusDetails) {
    super(404, "NotFound", message, details);
  }
}

/**
 * 500 `Internal error occurred: <what>` with `details.causes` (k8s.io/apiserver's NewInternalError format).
 * `cause` is for the log only.
 */
export class InternalError extends ApiError {
  override readonly name = "InternalError";
  constructor(what: string, cause?: unknown) {
    super(500, "InternalError", `Internal error occurred: ${what}`, { causes: [{ message: what }] }, { cause });
  }
}

/** The custom and external providers' "Prometheus failed" error (docs/api.md, Errors). */
export function unableToFetchMetrics(cause: unknown): InternalError {
  return new InternalError("unable to fetch metrics", cause);
}

/**
 * 500 with no `reason` and no `details`: what k8s.io/apiserver answers for a plain (non-Status) error, e.g. the
 * external provider's `encountered an unexpected query result type` (docs/api.md: External metrics, Errors). `cause` is
 * for the log only.
 */
export class UnknownServerError extends ApiError {
  override readonly name = "UnknownServerError";
  constructor(message: string, cause?: unknown) {
    super(500, "", message, undefined, { cause });
  }
}
