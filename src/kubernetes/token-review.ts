/**
 * Bearer-token authentication through the Kubernetes TokenReview API (docs/api.md, Authentication), with a short-lived
 * cache of answers keyed by a SHA-256 of the token (the token itself is never kept). Accepted and rejected tokens are
 * both cached; a failed call (network, non-2xx) is not, and propagates to the caller. Concurrent reviews of one token
 * share one call.
 */
import type { V1TokenReview } from "@kubernetes/client-node";
import { LRUCache } from "lru-cache";
import { createHash } from "node:crypto";
import { systemClock, type Clock } from "../util/clock.ts";

/** Who made a request, as Kubernetes' `user.Info` describes it. */
export interface UserInfo {
  /** User name, e.g. `system:serviceaccount:monitoring:prometheus-k8s` or `system:anonymous`. */
  readonly username: string;
  /** Unique id; "" when unknown. */
  readonly uid: string;
  readonly groups: readonly string[];
  /** Extra attributes (keys such as `authentication.kubernetes.io/pod-name`); `{}` when none. */
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** Decides who a bearer token belongs to. */
export interface TokenReviewer {
  /** The token's user, or null when the token was rejected. Throws TokenReviewError when the review could not be made. */
  review(token: string): Promise<UserInfo | null>;
}

/** The part of client-node's `AuthenticationV1Api` used here. */
export interface TokenReviewApi {
  createTokenReview(param: { body: V1TokenReview }): Promise<V1TokenReview>;
}

/** The TokenReview call failed; the token was neither accepted nor rejected. */
export class TokenReviewError extends Error {
  override readonly name = "TokenReviewError";
}

/** Options of {@link createTokenReviewer}. */
export interface TokenReviewerOptions {
  readonly api: TokenReviewApi;
  /** How long an answer (accepted or rejected) is reused, in ms; default 10 000. */
  readonly ttlMs?: number;
  /** Most answers kept; default 4096. */
  readonly maxEntries?: number;
  /** Drives the cache TTL; default the system clock. */
  readonly clock?: Clock;
  /** Observes each review: `cache_hit` (cached or joined a call in flight), `accepted`, `rejected` or `error`. */
  readonly onReview?: (result: "cache_hit" | "accepted" | "rejected" | "error") => void;
}

interface Answer {
  readonly user: UserInfo | null;
}

/** A TokenReviewer over the TokenReview API, with its cache. */
export function createTokenReviewer({
  api,
  ttlMs = 10_000,
  maxEntries = 4096,
  clock = systemClock,
  onReview,
}: TokenReviewerOptions): TokenReviewer {
  const cache = new LRUCache<string, Answer, string>({
    max: maxEntries,
    // NB: an entry ttl of 0 would mean "forever" to lru-cache, so the shortest is 1 ms.
    ttl: Math.max(1, ttlMs),
    ttlResolution: 0,
    perf: clock,
    fetchMethod: async (_hash, _stale, { context: token }) => ({ user: await reviewToken(api, token) }),
  });
  return {
    async review(token) {
      const status: LRUCache.Status<string, Answer, string> = {};
      let answer: Answer | undefined;
      try {
        answer = await cache.fetch(sha256(token), { context: token, status });
      } catch (error) {
        onReview?.("error");
        throw error;
      }
      onReview?.(
        status.fetch === "hit" || status.fetch === "inflight" ? "cache_hit" : answer!.user ? "accepted" : "rejected",
      );
      return answer!.user;
    },
  };
}

async function reviewToken(api: TokenReviewApi, token: string): Promise<UserInfo | null> {
  let review: V1TokenReview;
  try {
    review = await api.createTokenReview({
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    });
  } catch (error) {
    throw new TokenReviewError(`TokenReview failed: ${describeFailure(error)}`, { cause: error });
  }
  const status = review.status;
  if (status?.authenticated !== true) return null;
  const user = status.user ?? {};
  return {
    username: user.username ?? "",
    uid: user.uid ?? "",
    groups: [...(user.groups ?? [])],
    extra: Object.fromEntries(Object.entries(user.extra ?? {}).map(([key, values]) => [key, [...values]])),
  };
}

/** The message of a client-node failure without its response body (which could echo the token). */
function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "number") return `HTTP ${code}`;
  return error instanceof Error ? error.message : String(error);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
