/**
 * Who sent a request (docs/api.md, Authentication), tried in k8s.io/apiserver's order, first success wins:
 *  1. front proxy: a client certificate chaining to the request-header CA (and, when allowed names are set, with one
 *     of those CNs) vouches for the `X-Remote-*` headers;
 *  2. x509: a client certificate chaining to the client CA: user = CN, groups = O;
 *  3. a bearer token, asked of the TokenReview API;
 *  4. anonymous, only when nothing above was presented.
 * Credentials that were presented and failed (a certificate neither CA trusts, a CN not allowed, a rejected token, a
 * TokenReview that could not be made) give 401 and never fall through to anonymous. Authenticated users get
 * `system:authenticated` appended.
 *
 * NB: the `X-Remote-*` headers are only ever read after the certificate check passed: without a trusted front-proxy
 * certificate they are ignored, whoever sent them.
 */
import type { AuthenticationConfig, RequestHeaderConfig } from "../kubernetes/authentication-config.ts";
import type { TokenReviewer, UserInfo } from "../kubernetes/token-review.ts";
import { ApiError } from "../apimachinery/status.ts";
import { systemClock, type Clock } from "../util/clock.ts";
import { headersWithPrefixOf, headerValuesOf } from "./raw-headers.ts";
import { isPeerTrustedBy, peerCertificateOf, type PeerCertificate } from "./tls-peer.ts";

export type { UserInfo } from "../kubernetes/token-review.ts";

/** The user of requests that present no credentials. */
export const ANONYMOUS_USER: UserInfo = Object.freeze({
  username: "system:anonymous",
  uid: "",
  groups: Object.freeze(["system:unauthenticated"]),
  extra: Object.freeze({}),
});

const AUTHENTICATED_GROUP = "system:authenticated";
const UNAUTHENTICATED_GROUP = "system:unauthenticated";

/** 401 `Unauthorized`: credentials were presented and none succeeded. `failures` say why, for the log only. */
export class UnauthorizedError extends ApiError {
  override readonly name = "UnauthorizedError";
  constructor(readonly failures: readonly string[]) {
    super(401, "Unauthorized", "Unauthorized");
  }
}

/** Decides who sent `request`; throws UnauthorizedError. */
export type Authenticate = (request: Request) => Promise<UserInfo>;

/** Dependencies of {@link createAuthenticator}. */
export interface AuthenticatorDeps {
  /** The configuration in force (read per request: the ConfigMap may change). */
  readonly config: () => AuthenticationConfig;
  readonly tokenReviewer: TokenReviewer;
  /** The time certificates are checked at; default the system clock. */
  readonly clock?: Clock;
}

type Outcome = { readonly user: UserInfo } | { readonly failure: string } | undefined;

export function createAuthenticator({ config, tokenReviewer, clock = systemClock }: AuthenticatorDeps): Authenticate {
  return async (request) => {
    const settings = config();
    const now = new Date(clock.now());
    const failures: string[] = [];
    const peer = peerCertificateOf(request);

    const outcomes: Array<() => Outcome | Promise<Outcome>> = [
      () =>
        peer && settings.requestHeader ? frontProxyOutcome(request, peer, settings.requestHeader, now) : undefined,
      () => (peer && settings.clientCaPem !== undefined ? x509Outcome(peer, settings.clientCaPem, now) : undefined),
      () => tokenOutcome(request, tokenReviewer),
    ];
    for (const next of outcomes) {
      const outcome = await next();
      if (outcome === undefined) continue;
      if ("user" in outcome) return withAuthenticatedGroup(outcome.user);
      failures.push(outcome.failure);
    }
    if (failures.length > 0) throw new UnauthorizedError(failures);
    return ANONYMOUS_USER;
  };
}

/** `user` with `system:authenticated` appended, unless it already says authenticated or unauthenticated. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(AUTHENTICATED_GROUP) || user.groups.includes(UNAUTHENTICATED_GROUP)) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

function frontProxyOutcome(request: Request, peer: PeerCertificate, settings: RequestHeaderConfig, now: Date): Outcome {
  if (!isPeerTrustedBy(peer, settings.caPem, now)) {
    return { failure: `front proxy: certificate not signed by the requestheader CA, or expired${reasonOf(peer)}` };
  }
  if (settings.allowedNames.length > 0 && !settings.allowedNames.includes(peer.subjectCommonName)) {
    return { failure: `front proxy: subject with cn=${peer.subjectCommonName} is not in the allowed list` };
  }
  const username = firstNonEmptyValue(request, settings.usernameHeaders);
  // A trusted proxy that names no user vouches for nobody: the later methods decide.
  if (username === undefined) return undefined;
  const groups = settings.groupHeaders.flatMap((header) =>
    headerValuesOf(request, header).filter((value) => value !== ""),
  );
  const extra = new Map<string, string[]>();
  for (const prefix of settings.extraHeaderPrefixes) {
    for (const [name, value] of headersWithPrefixOf(request, prefix)) {
      const key = unescapeExtraKey(name.slice(prefix.length).toLowerCase());
      const values = extra.get(key);
      if (values) values.push(value);
      else extra.set(key, [value]);
    }
  }
  return {
    user: {
      username,
      uid: firstNonEmptyValue(request, settings.uidHeaders) ?? "",
      groups,
      extra: Object.fromEntries(extra),
    },
  };
}

function x509Outcome(peer: PeerCertificate, clientCaPem: string, now: Date): Outcome {
  if (!isPeerTrustedBy(peer, clientCaPem, now)) {
    return { failure: `x509: certificate not signed by the client CA, or expired${reasonOf(peer)}` };
  }
  // NB: a trusted certificate without a CN names nobody (k8s.io/apiserver's CommonNameUserConversion).
  if (peer.subjectCommonName === "") return undefined;
  return { user: { username: peer.subjectCommonName, uid: "", groups: [...peer.organizations], extra: {} } };
}

function reasonOf(peer: PeerCertificate): string {
  return peer.verificationError === undefined ? "" : ` (${peer.verificationError})`;
}

async function tokenOutcome(request: Request, reviewer: TokenReviewer): Promise<Outcome> {
  const token = bearerTokenOf(request);
  if (token === undefined) return undefined;
  try {
    const user = await reviewer.review(token);
    return user ? { user } : { failure: "invalid bearer token" };
  } catch (error) {
    return { failure: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The token of `Authorization: Bearer <token>`, read as k8s.io/apiserver's bearertoken authenticator does (first
 * header line, trimmed, scheme case-insensitive, the token up to the next space). Any other scheme is not a
 * credential this server checks, so it counts as none.
 */
export function bearerTokenOf(request: Request): string | undefined {
  const header = headerValuesOf(request, "authorization")[0]?.trim() ?? "";
  const [scheme, token] = header.split(" ");
  if (scheme?.toLowerCase() !== "bearer" || token === undefined || token === "") return undefined;
  return token;
}

function firstNonEmptyValue(request: Request, headers: readonly string[]): string | undefined {
  for (const header of headers) {
    const value = headerValuesOf(request, header).find((candidate) => candidate !== "");
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Extra keys are percent-encoded by the proxy (`X-Remote-Extra-Acme.com%2Fproject`); malformed ones are kept as sent. */
function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}
