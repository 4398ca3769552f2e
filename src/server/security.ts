/**
 * The per-request security check the app runs before any handler: authenticate (authn.ts), work out the request's
 * attributes (request-info.ts), authorize (authz.ts). It throws the ApiError the client gets (401, 403, 400 for an
 * undecodable path, 500 when authorization could not be checked), and remembers each request's user for the
 * request log.
 */
import type { UserInfo } from "../kubernetes/token-review.ts";
import type { Logger } from "../observability/logger.ts";
import { UnauthorizedError, type Authenticate } from "./authn.ts";
import type { Authorize } from "./authz.ts";
import { requestAttributesOf } from "./request-info.ts";

/** Dependencies of {@link createSecurityCheck}. */
export interface SecurityCheckDeps {
  readonly authenticate: Authenticate;
  readonly authorize: Authorize;
  readonly logger: Logger;
}

/** Resolves with the request's user when it may proceed; throws the ApiError to answer with otherwise. */
export type SecurityCheck = (request: Request) => Promise<{ user: UserInfo }>;

const userByRequest = new WeakMap<Request, UserInfo>();

/** The authenticated user of `request` (also set when authorization then refused it); undefined before authentication or after a 401. */
export function userOf(request: Request): UserInfo | undefined {
  return userByRequest.get(request);
}

export function createSecurityCheck({ authenticate, authorize, logger }: SecurityCheckDeps): SecurityCheck {
  return async (request) => {
    let user: UserInfo;
    try {
      user = await authenticate(request);
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        logger.info(2, "unable to authenticate the request", {
          path: new URL(request.url).pathname,
          reasons: error.failures.join("; "),
        });
      }
      throw error;
    }
    userByRequest.set(request, user);
    await authorize(user, requestAttributesOf(request.method, new URL(request.url)));
    return { user };
  };
}
