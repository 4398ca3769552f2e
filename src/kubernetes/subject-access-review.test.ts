import { describe, expect, test } from "bun:test";
import type { V1SubjectAccessReview, V1SubjectAccessReviewStatus } from "@kubernetes/client-node";
import { createManualClock } from "../util/clock.ts";
import {
  createSubjectAccessReviewer,
  SubjectAccessReviewError,
  type SubjectAccessReviewApi,
  type SubjectAccessReviewSpec,
} from "./subject-access-review.ts";

const HPA_SPEC: SubjectAccessReviewSpec = {
  resourceAttributes: {
    namespace: "default",
    verb: "get",
    group: "custom.metrics.k8s.io",
    version: "v1beta2",
    resource: "pods",
    subresource: "http_requests",
    name: "*",
  },
  user: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
  groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
  extra: { "authentication.kubernetes.io/pod-name": ["x"] },
  uid: "uid-1",
};

const METRICS_SPEC: SubjectAccessReviewSpec = {
  nonResourceAttributes: { path: "/metrics", verb: "get" },
  user: "system:anonymous",
  groups: ["system:unauthenticated"],
};

/** A SubjectAccessReview API answering with `answer(spec)` (an Error is thrown), recording every body. */
function fakeApi(answer: (spec: V1SubjectAccessReview["spec"]) => V1SubjectAccessReviewStatus | Error) {
  const requests: V1SubjectAccessReview[] = [];
  const api: SubjectAccessReviewApi = {
    async createSubjectAccessReview({ body }) {
      requests.push(body);
      const status = answer(body.spec);
      if (status instanceof Error) throw status;
      return { ...body, status };
    },
  };
  return { api, requests };
}

describe("createSubjectAccessReviewer", () => {
  test("sends the SubjectAccessReview k8s.io/apiserver sends and reads the decision", async () => {
    const { api, requests } = fakeApi(() => ({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "hpa"' }));
    const decision = await createSubjectAccessReviewer({ api, clock: createManualClock() }).authorize(HPA_SPEC);
    expect(decision).toEqual({
      allowed: true,
      denied: false,
      reason: 'RBAC: allowed by ClusterRoleBinding "hpa"',
      evaluationError: "",
    });
    expect(JSON.parse(JSON.stringify(requests))).toEqual([
      { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: HPA_SPEC },
    ]);
  });

  test("reads denied, reason and evaluationError of a refusal", async () => {
    const { api } = fakeApi(() => ({ allowed: false, denied: true, reason: "no", evaluationError: "role not found" }));
    expect(await createSubjectAccessReviewer({ api }).authorize(METRICS_SPEC)).toEqual({
      allowed: false,
      denied: true,
      reason: "no",
      evaluationError: "role not found",
    });
  });

  test("sends a non-resource review with only the fields given", async () => {
    const { api, requests } = fakeApi(() => ({ allowed: false }));
    await createSubjectAccessReviewer({ api }).authorize(METRICS_SPEC);
    expect(JSON.stringify(requests[0]?.spec)).toBe(
      '{"nonResourceAttributes":{"path":"/metrics","verb":"get"},"user":"system:anonymous","groups":["system:unauthenticated"]}',
    );
  });

  test.each([
    { name: "an allowed", allowed: true },
    { name: "a not-allowed", allowed: false },
  ])("reuses $name answer within its TTL and asks again after it", async ({ allowed }) => {
    const clock = createManualClock();
    const { api, requests } = fakeApi(() => ({ allowed }));
    const reviewer = createSubjectAccessReviewer({ api, clock, allowedTtlMs: 10_000, deniedTtlMs: 10_000 });
    await reviewer.authorize(HPA_SPEC);
    clock.advance(9_999);
    expect((await reviewer.authorize({ ...HPA_SPEC })).allowed).toBe(allowed);
    expect(requests).toHaveLength(1);
    clock.advance(2);
    await reviewer.authorize(HPA_SPEC);
    expect(requests).toHaveLength(2);
  });

  test("keeps allowed and denied answers for their own TTLs", async () => {
    const clock = createManualClock();
    const { api, requests } = fakeApi((spec) => ({
      allowed: spec.user === "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
    }));
    const reviewer = createSubjectAccessReviewer({ api, clock, allowedTtlMs: 30_000, deniedTtlMs: 5_000 });
    await reviewer.authorize(HPA_SPEC);
    await reviewer.authorize(METRICS_SPEC);
    clock.advance(6_000);
    await reviewer.authorize(HPA_SPEC);
    await reviewer.authorize(METRICS_SPEC);
    expect(requests.map((request) => request.spec.user)).toEqual([HPA_SPEC.user, METRICS_SPEC.user, METRICS_SPEC.user]);
  });

  test("reviews specs that differ in any field separately", async () => {
    const { api, requests } = fakeApi(() => ({ allowed: true }));
    const reviewer = createSubjectAccessReviewer({ api, clock: createManualClock() });
    await reviewer.authorize(HPA_SPEC);
    await reviewer.authorize({ ...HPA_SPEC, resourceAttributes: { ...HPA_SPEC.resourceAttributes, name: "web-1" } });
    await reviewer.authorize({ ...HPA_SPEC, groups: ["other"] });
    await reviewer.authorize({ ...HPA_SPEC, extra: {} });
    expect(requests).toHaveLength(4);
  });

  test("coalesces concurrent reviews of one spec into one call", async () => {
    let calls = 0;
    let release: (review: V1SubjectAccessReview) => void = () => {};
    const api: SubjectAccessReviewApi = {
      createSubjectAccessReview: () => {
        calls++;
        return new Promise((resolve) => (release = resolve));
      },
    };
    const reviewer = createSubjectAccessReviewer({ api, clock: createManualClock() });
    const pending = Array.from({ length: 10 }, () => reviewer.authorize(HPA_SPEC));
    await Promise.resolve();
    expect(calls).toBe(1);
    release({ spec: {}, status: { allowed: true } });
    expect((await Promise.all(pending)).every((decision) => decision.allowed)).toBe(true);
  });

  test("propagates a failed call as SubjectAccessReviewError and does not cache it", async () => {
    let fail = true;
    const { api, requests } = fakeApi(() =>
      fail ? Object.assign(new Error("boom"), { code: 503 }) : { allowed: true },
    );
    const reviewer = createSubjectAccessReviewer({ api, clock: createManualClock() });
    const failure = await reviewer.authorize(HPA_SPEC).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SubjectAccessReviewError);
    expect((failure as Error).message).toBe("SubjectAccessReview failed: HTTP 503");
    fail = false;
    expect((await reviewer.authorize(HPA_SPEC)).allowed).toBe(true);
    expect(requests).toHaveLength(2);
  });
});
