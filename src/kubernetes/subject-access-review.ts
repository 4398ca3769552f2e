/**
 * Authorization through the Kubernetes SubjectAccessReview API (docs/api.md, Authorization), with short-lived caches of
 * allowed and of not-allowed answers, keyed by the JSON of the review's `spec`. A failed call is not cached and
 * propagates. Concurrent reviews of one spec share one call.
 */
import type { V1SubjectAccessReview } from "@kubernetes/client-node";
import { LRUCache } from "lru-cache";
import { systemClock, type Clock } from "../util/clock.ts";

/**
 * The `spec` of a SubjectAccessReview. Callers omit empty fields (the API server treats absent and empty alike, and
 * the cache key is this object's JSON, so one request must always produce the same object, keys in the same order).
 */
export interface SubjectAccessReviewSpec {
  readonly resourceAttributes?: {
    readonly namespace?: string;
    readonly verb?: string;
    readonly group?: string;
    readonly version?: string;
    readonly resource?: string;
    readonly subresource?: string;
    readonly name?: string;
  };
  readonly nonResourceAttributes?: { readonly path?: string; readonly verb?: string };
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  readonly uid?: string;
}

/** The answer of a SubjectAccessReview. */
export interface AuthorizationDecision {
  /** The request may proceed. */
  readonly allowed: boolean;
  /** An authorizer denied it outright (informational: not allowed is a denial either way). */
  readonly denied: boolean;
  /** Why, from the authorizer (e.g. `RBAC: allowed by ClusterRoleBinding ...`); "" when none. */
  readonly reason: string;
  /** An error the authorizer met while deciding; "" when none. */
  readonly evaluationError: string;
}

/** Decides whether a subject may do something. */
export interface Authorizer {
  /** Throws SubjectAccessReviewError when the review could not be made. */
  authorize(spec: SubjectAccessReviewSpec): Promise<AuthorizationDecision>;
}

/** The part of client-node's `AuthorizationV1Api` used here. */
export interface SubjectAccessReviewApi {
  createSubjectAccessReview(param: { body: V1SubjectAccessReview }): Promise<V1SubjectAccessReview>;
}

/** The SubjectAccessReview call failed; nothing was decided. */
export class SubjectAccessReviewError extends Error {
  override readonly name = "SubjectAccessReviewError";
}

/** Options of {@link createSubjectAccessReviewer}. */
export interface SubjectAccessReviewerOptions {
  readonly api: SubjectAccessReviewApi;
  /** How long an allowed answer is reused, in ms; default 10 000. */
  readonly allowedTtlMs?: number;
  /** How long a not-allowed answer is reused, in ms; default 10 000. */
  readonly deniedTtlMs?: number;
  /** Most answers kept; default 8192 (as k8s.io/apiserver's webhook authorizer). */
  readonly maxEntries?: number;
  /** Drives the cache TTLs; default the system clock. */
  readonly clock?: Clock;
  /** Observes each review: `cache_hit` (cached or joined a call in flight), `allowed`, `denied` or `error`. */
  readonly onReview?: (result: "cache_hit" | "allowed" | "denied" | "error") => void;
}

/** An Authorizer over the SubjectAccessReview API, with its caches. */
export function createSubjectAccessReviewer({
  api,
  allowedTtlMs = 10_000,
  deniedTtlMs = 10_000,
  maxEntries = 8192,
  clock = systemClock,
  onReview,
}: SubjectAccessReviewerOptions): Authorizer {
  const cache = new LRUCache<string, AuthorizationDecision, SubjectAccessReviewSpec>({
    max: maxEntries,
    // NB: an entry ttl of 0 would mean "forever" to lru-cache, so the shortest is 1 ms.
    ttl: Math.max(1, allowedTtlMs),
    ttlResolution: 0,
    perf: clock,
    fetchMethod: async (_key, _stale, { context: spec, options }) => {
      const decision = await review(api, spec);
      options.ttl = Math.max(1, decision.allowed ? allowedTtlMs : deniedTtlMs);
      return decision;
    },
  });
  return {
    async authorize(spec) {
      const status: LRUCache.Status<string, AuthorizationDecision, SubjectAccessReviewSpec> = {};
      let decision: AuthorizationDecision | undefined;
      try {
        decision = await cache.fetch(JSON.stringify(spec), { context: spec, status });
      } catch (error) {
        onReview?.("error");
        throw error;
      }
      onReview?.(
        status.fetch === "hit" || status.fetch === "inflight" ? "cache_hit" : decision!.allowed ? "allowed" : "denied",
      );
      return decision!;
    },
  };
}

async function review(api: SubjectAccessReviewApi, spec: SubjectAccessReviewSpec): Promise<AuthorizationDecision> {
  let answer: V1SubjectAccessReview;
  try {
    answer = await api.createSubjectAccessReview({
      body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: copyOf(spec) },
    });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const detail = typeof code === "number" ? `HTTP ${code}` : error instanceof Error ? error.message : String(error);
    throw new SubjectAccessReviewError(`SubjectAccessReview failed: ${detail}`, { cause: error });
  }
  const status = answer.status;
  return {
    allowed: status?.allowed === true,
    denied: status?.denied === true,
    reason: status?.reason ?? "",
    evaluationError: status?.evaluationError ?? "",
  };
}

/** A mutable copy for client-node's model types (readonly arrays are not assignable to them). */
function copyOf(spec: SubjectAccessReviewSpec): V1SubjectAccessReview["spec"] {
  return {
    ...(spec.resourceAttributes ? { resourceAttributes: { ...spec.resourceAttributes } } : {}),
    ...(spec.nonResourceAttributes ? { nonResourceAttributes: { ...spec.nonResourceAttributes } } : {}),
    ...(spec.user !== undefined ? { user: spec.user } : {}),
    ...(spec.groups ? { groups: [...spec.groups] } : {}),
    ...(spec.extra
      ? { extra: Object.fromEntries(Object.entries(spec.extra).map(([key, values]) => [key, [...values]])) }
      : {}),
    ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
  };
}
