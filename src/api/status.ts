/**
 * Every error becomes a Kubernetes `Status` here, and only here (docs/api.md, Errors). Known ApiErrors keep their code,
 * reason and message; anything else is a 500 whose cause goes to the log, never to the client.
 */
import type { Logger } from "../observability/logger.ts";
import { ApiError, InternalError, NotFoundError } from "../apimachinery/status.ts";
import { jsonResponse } from "./json.ts";
import type { Status } from "./schemas.ts";

/** The `Status` object, keys in Kubernetes' order; `reason` and `details` omitted when empty. */
export function statusBody(error: ApiError): typeof Status.static {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: error.message,
    ...(error.reason === "" ? {} : { reason: error.reason }),
    ...(error.details === undefined ? {} : { details: error.details }),
    code: error.code,
  };
}

/** Turns anything thrown while answering into a Status response, logging causes of server-side failures. */
export function statusResponse(error: unknown, logger: Logger, pretty = false): Response {
  const apiError = error instanceof ApiError ? error : new InternalError("an unexpected error occurred", error);
  if (apiError.code >= 500) {
    const cause = apiError.cause ?? (apiError === error ? undefined : error);
    logger.error(apiError.message, {
      cause: cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause),
    });
  }
  const response = jsonResponse(statusBody(apiError), { status: apiError.code, pretty });
  if (apiError.code === 429) response.headers.set("retry-after", "1");
  return response;
}

/** 404 for a path nothing serves, with the empty `details` k8s.io/apiserver sends. */
export function pathNotFound(): NotFoundError {
  return new NotFoundError("the server could not find the requested resource", {});
}
