import { describe, expect, test } from "bun:test";
import { statusBody } from "../api/status.ts";
import type {
  AuthorizationDecision,
  Authorizer,
  SubjectAccessReviewSpec,
} from "../kubernetes/subject-access-review.ts";
import type { UserInfo } from "../kubernetes/token-review.ts";
import { createMemoryLogger, silentLogger } from "../observability/logger.ts";
import { ApiError } from "../apimachinery/status.ts";
import { ANONYMOUS_USER } from "./authn.ts";
import {
  AlwaysAllowPathError,
  alwaysAllowedPathMatcher,
  createAuthorization,
  forbiddenError,
  subjectAccessReviewSpecOf,
} from "./authz.ts";
import { requestAttributesOf } from "./request-info.ts";

const HPA: UserInfo = {
  username: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
  uid: "",
  groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
  extra: {},
};
const AGGREGATOR: UserInfo = {
  username: "system:kube-aggregator",
  uid: "",
  groups: ["system:masters", "system:authenticated"],
  extra: {},
};

function attributesOf(target: string) {
  return requestAttributesOf("GET", new URL(`https://127.0.0.1:6443${target}`));
}

/** An authorizer answering `decide(spec)` and recording each spec. */
function fakeAuthorizer(
  decide: (spec: SubjectAccessReviewSpec) => Partial<AuthorizationDecision> | Error = () => ({ allowed: false }),
) {
  const specs: SubjectAccessReviewSpec[] = [];
  const authorizer: Authorizer = {
    async authorize(spec) {
      specs.push(spec);
      const answer = decide(spec);
      if (answer instanceof Error) throw answer;
      return { allowed: false, denied: false, reason: "", evaluationError: "", ...answer };
    },
  };
  return { authorizer, specs };
}

const DEFAULT_ALWAYS_ALLOW = ["/healthz", "/readyz", "/livez"];

async function outcomeOf(promise: Promise<void>): Promise<Record<string, unknown> | "allowed"> {
  try {
    await promise;
    return "allowed";
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return statusBody(error);
  }
}

describe("requests that skip the SubjectAccessReview", () => {
  test("members of system:masters are allowed everything without a review", async () => {
    const { authorizer, specs } = fakeAuthorizer();
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: DEFAULT_ALWAYS_ALLOW, logger: silentLogger });
    for (const target of ["/apis/custom.metrics.k8s.io/v1beta2", "/metrics", "/apis/metrics.k8s.io/v1beta1/pods"]) {
      expect(await outcomeOf(authorize(AGGREGATOR, attributesOf(target)))).toBe("allowed");
    }
    expect(specs).toEqual([]);
  });

  test.each(["/healthz", "/livez", "/readyz", "/readyz?verbose"])("%s is open to anyone", async (target) => {
    const { authorizer, specs } = fakeAuthorizer();
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: DEFAULT_ALWAYS_ALLOW, logger: silentLogger });
    expect(await outcomeOf(authorize(ANONYMOUS_USER, attributesOf(target)))).toBe("allowed");
    expect(specs).toEqual([]);
  });

  test.each([
    { path: "/healthz", entries: ["/healthz"], expected: true },
    { path: "/healthz/ping", entries: ["/healthz"], expected: false },
    { path: "/healthzz", entries: ["/healthz"], expected: false },
    { path: "/healthz/ping", entries: ["/healthz/*"], expected: true },
    { path: "/healthz", entries: ["/healthz/*"], expected: false },
    { path: "/openapi/v3/apis/x/v1", entries: ["/openapi*"], expected: true },
    { path: "/anything", entries: ["/*"], expected: true },
    { path: "/", entries: ["/"], expected: true },
    { path: "/metrics", entries: ["metrics"], expected: true },
    { path: "/metrics", entries: [], expected: false },
  ])("always-allow entries $entries match $path: $expected", ({ path, entries, expected }) => {
    expect(alwaysAllowedPathMatcher(entries)(path)).toBe(expected);
  });

  test("an entry with a * before its end is refused", () => {
    expect(() => alwaysAllowedPathMatcher(["/a*/b"])).toThrow(AlwaysAllowPathError);
  });

  test("always-allow paths never cover resource requests", async () => {
    const { authorizer, specs } = fakeAuthorizer();
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: ["/apis/*"], logger: silentLogger });
    expect(await outcomeOf(authorize(ANONYMOUS_USER, attributesOf("/apis/custom.metrics.k8s.io/v1beta2")))).toBe(
      "allowed",
    );
    expect(await outcomeOf(authorize(ANONYMOUS_USER, attributesOf("/apis/metrics.k8s.io/v1beta1/pods")))).not.toBe(
      "allowed",
    );
    expect(specs).toHaveLength(1);
  });
});

describe("the SubjectAccessReview", () => {
  test("/metrics needs get on the path", async () => {
    const { authorizer, specs } = fakeAuthorizer(() => ({ allowed: true }));
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: DEFAULT_ALWAYS_ALLOW, logger: silentLogger });
    expect(await outcomeOf(authorize(HPA, attributesOf("/metrics")))).toBe("allowed");
    expect(specs).toEqual([
      { nonResourceAttributes: { path: "/metrics", verb: "get" }, user: HPA.username, groups: [...HPA.groups] },
    ]);
  });

  test("the HPA's request gives the SubjectAccessReview spec k8s.io/apiserver sends, byte for byte", () => {
    const user = { ...HPA, uid: "u-1", extra: { "authentication.kubernetes.io/pod-name": ["kcm-0"] } };
    const spec = subjectAccessReviewSpecOf(
      user,
      attributesOf(
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/%2A/http_requests?labelSelector=app%3Dweb",
      ),
    );
    expect(JSON.stringify(spec)).toBe(
      '{"resourceAttributes":{"namespace":"default","verb":"get","group":"custom.metrics.k8s.io","version":"v1beta2","resource":"pods","subresource":"http_requests","name":"*"},' +
        '"user":"system:serviceaccount:kube-system:horizontal-pod-autoscaler","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"],' +
        '"extra":{"authentication.kubernetes.io/pod-name":["kcm-0"]},"uid":"u-1"}',
    );
  });

  test.each([
    { name: "D1", target: "/apis", attributes: { nonResourceAttributes: { path: "/apis", verb: "get" } } },
    {
      name: "D3",
      target: "/apis/custom.metrics.k8s.io/v1beta1",
      attributes: { nonResourceAttributes: { path: "/apis/custom.metrics.k8s.io/v1beta1", verb: "get" } },
    },
    {
      name: "openapi",
      target: "/openapi/v2",
      attributes: { nonResourceAttributes: { path: "/openapi/v2", verb: "get" } },
    },
    { name: "version", target: "/version", attributes: { nonResourceAttributes: { path: "/version", verb: "get" } } },
    {
      name: "C1",
      target: "/apis/custom.metrics.k8s.io/v1beta1/nodes/*/m",
      attributes: {
        resourceAttributes: {
          verb: "get",
          group: "custom.metrics.k8s.io",
          version: "v1beta1",
          resource: "nodes",
          subresource: "m",
          name: "*",
        },
      },
    },
    {
      name: "C2",
      target: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/%2A/m",
      attributes: {
        resourceAttributes: {
          namespace: "ns",
          verb: "get",
          group: "custom.metrics.k8s.io",
          version: "v1beta2",
          resource: "pods",
          subresource: "m",
          name: "*",
        },
      },
    },
    {
      name: "C3",
      target: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/metrics/m",
      attributes: {
        resourceAttributes: {
          namespace: "ns",
          verb: "get",
          group: "custom.metrics.k8s.io",
          version: "v1beta2",
          resource: "metrics",
          name: "m",
        },
      },
    },
    {
      name: "E1",
      target: "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth",
      attributes: {
        resourceAttributes: {
          namespace: "ns",
          verb: "list",
          group: "external.metrics.k8s.io",
          version: "v1beta1",
          resource: "queue_depth",
        },
      },
    },
    {
      name: "R1",
      target: "/apis/metrics.k8s.io/v1beta1/nodes",
      attributes: {
        resourceAttributes: { verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "nodes" },
      },
    },
    {
      name: "R2",
      target: "/apis/metrics.k8s.io/v1beta1/nodes/n1",
      attributes: {
        resourceAttributes: { verb: "get", group: "metrics.k8s.io", version: "v1beta1", resource: "nodes", name: "n1" },
      },
    },
    {
      name: "R3",
      target: "/apis/metrics.k8s.io/v1beta1/pods",
      attributes: {
        resourceAttributes: { verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "pods" },
      },
    },
    {
      name: "R4",
      target: "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods",
      attributes: {
        resourceAttributes: {
          namespace: "ns",
          verb: "list",
          group: "metrics.k8s.io",
          version: "v1beta1",
          resource: "pods",
        },
      },
    },
    {
      name: "R5",
      target: "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/p1",
      attributes: {
        resourceAttributes: {
          namespace: "ns",
          verb: "get",
          group: "metrics.k8s.io",
          version: "v1beta1",
          resource: "pods",
          name: "p1",
        },
      },
    },
  ])("$name sends k8s.io/apiserver's attributes with empty fields omitted", async ({ target, attributes }) => {
    const { authorizer, specs } = fakeAuthorizer(() => ({ allowed: true }));
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: DEFAULT_ALWAYS_ALLOW, logger: silentLogger });
    await authorize(ANONYMOUS_USER, attributesOf(target));
    expect(JSON.stringify(specs)).toBe(
      JSON.stringify([{ ...attributes, user: "system:anonymous", groups: ["system:unauthenticated"] }]),
    );
  });

  test("a user without name, groups, uid or extra sends none of them", () => {
    expect(
      subjectAccessReviewSpecOf({ username: "", uid: "", groups: [], extra: {} }, attributesOf("/metrics")),
    ).toEqual({
      nonResourceAttributes: { path: "/metrics", verb: "get" },
    });
  });

  test("a review that fails is a 500 without the cause", async () => {
    const { authorizer } = fakeAuthorizer(() => new Error("connect ECONNREFUSED 10.96.0.1:443"));
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: DEFAULT_ALWAYS_ALLOW, logger: silentLogger });
    expect(await outcomeOf(authorize(HPA, attributesOf("/metrics")))).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "Internal error occurred: unable to authorize the request",
      reason: "InternalError",
      details: { causes: [{ message: "unable to authorize the request" }] },
      code: 500,
    });
  });

  test("an evaluation error is logged and the decision still counts", async () => {
    const logger = createMemoryLogger();
    const { authorizer } = fakeAuthorizer(() => ({ allowed: true, evaluationError: "clusterrole not found" }));
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: [], logger });
    expect(await outcomeOf(authorize(HPA, attributesOf("/metrics")))).toBe("allowed");
    expect(logger.lines.some((line) => line.includes("clusterrole not found"))).toBe(true);
  });
});

describe("403 bodies in k8s.io/apiserver's format", () => {
  const forbidden = (message: string, details: Record<string, string>) => ({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Forbidden",
    details,
    code: 403,
  });

  test.each([
    {
      name: "a named object in a namespace",
      target: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/%2A/http_requests",
      reason: "",
      expected: forbidden(
        'pods.custom.metrics.k8s.io "*" is forbidden: User "system:anonymous" cannot get resource "pods/http_requests" in API group "custom.metrics.k8s.io" in the namespace "default"',
        { name: "*", group: "custom.metrics.k8s.io", kind: "pods" },
      ),
    },
    {
      name: "a cluster-scoped object",
      target: "/apis/metrics.k8s.io/v1beta1/nodes/n1",
      reason: "",
      expected: forbidden(
        'nodes.metrics.k8s.io "n1" is forbidden: User "system:anonymous" cannot get resource "nodes" in API group "metrics.k8s.io" at the cluster scope',
        {
          name: "n1",
          group: "metrics.k8s.io",
          kind: "nodes",
        },
      ),
    },
    {
      name: "a list (no name)",
      target: "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth",
      reason: "",
      expected: forbidden(
        'queue_depth.external.metrics.k8s.io is forbidden: User "system:anonymous" cannot list resource "queue_depth" in API group "external.metrics.k8s.io" in the namespace "ns"',
        { group: "external.metrics.k8s.io", kind: "queue_depth" },
      ),
    },
    {
      name: "a plain path",
      target: "/metrics",
      reason: "",
      expected: forbidden('forbidden: User "system:anonymous" cannot get path "/metrics"', {}),
    },
    {
      name: "a plain path with the authorizer's reason",
      target: "/metrics",
      reason: 'no RBAC policy matched <"x">',
      expected: forbidden(
        'forbidden: User "system:anonymous" cannot get path "/metrics": no RBAC policy matched <"x">',
        {},
      ),
    },
    {
      name: "a core-group list",
      target: "/api/v1/namespaces/ns/pods",
      reason: "",
      expected: forbidden(
        'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "ns"',
        { kind: "pods" },
      ),
    },
  ])("$name", async ({ target, reason, expected }) => {
    const { authorizer } = fakeAuthorizer(() => ({ allowed: false, reason }));
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: DEFAULT_ALWAYS_ALLOW, logger: silentLogger });
    expect(await outcomeOf(authorize(ANONYMOUS_USER, attributesOf(target)))).toEqual(expected);
  });

  test("HTML-escapes <, > and & in the sentence and Go-quotes names", () => {
    const user: UserInfo = { username: 'evil<script>&"', uid: "", groups: [], extra: {} };
    const error = forbiddenError(user, attributesOf("/apis/metrics.k8s.io/v1beta1/namespaces/a%3Cb/pods/x%3E%22y"), "");
    expect(error.message).toBe(
      'pods.metrics.k8s.io "x>\\"y" is forbidden: User "evil&lt;script&gt;&amp;\\"" cannot get resource "pods" in API group "metrics.k8s.io" in the namespace "a&lt;b"',
    );
  });

  test("a denial answer (denied: true) is a 403 like a missing allow", async () => {
    const { authorizer } = fakeAuthorizer(() => ({ allowed: false, denied: true, reason: "denied by webhook" }));
    const authorize = createAuthorization({ authorizer, alwaysAllowPaths: [], logger: silentLogger });
    expect(await outcomeOf(authorize(HPA, attributesOf("/version")))).toMatchObject({
      code: 403,
      message:
        'forbidden: User "system:serviceaccount:kube-system:horizontal-pod-autoscaler" cannot get path "/version": denied by webhook',
    });
  });
});
