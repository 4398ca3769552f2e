import { describe, expect, test } from "bun:test";
import type { V1SubjectAccessReview, V1TokenReview } from "@kubernetes/client-node";
import { X509Certificate } from "node:crypto";
import { statusResponse } from "../api/status.ts";
import type { AuthenticationConfig } from "../kubernetes/authentication-config.ts";
import { createSubjectAccessReviewer, type SubjectAccessReviewApi } from "../kubernetes/subject-access-review.ts";
import { createTokenReviewer, type TokenReviewApi } from "../kubernetes/token-review.ts";
import { silentLogger } from "../observability/logger.ts";
import { createManualClock } from "../util/clock.ts";
import { createAuthenticator } from "./authn.ts";
import { createAuthorization } from "./authz.ts";
import { generateCertificateAuthority, generateSignedCertificate } from "./certificates.ts";
import { recordRawHeaders } from "./raw-headers.ts";
import { createSecurityCheck, userOf } from "./security.ts";
import { recordPeerCertificate } from "./tls-peer.ts";

const clock = createManualClock(Date.now());
const now = new Date(clock.now());
const frontProxyCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
const clientCa = generateCertificateAuthority({ commonName: "kubernetes", now });
const strangerCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
const PROXY_CERT = generateSignedCertificate({
  ca: frontProxyCa,
  commonName: "front-proxy-client",
  usage: "client",
  validityDays: 30,
  now,
}).certPem;
const STRANGER_CERT = generateSignedCertificate({
  ca: strangerCa,
  commonName: "front-proxy-client",
  usage: "client",
  validityDays: 30,
  now,
}).certPem;
const ALICE_CERT = generateSignedCertificate({
  ca: clientCa,
  commonName: "alice",
  organizations: ["dev"],
  usage: "client",
  validityDays: 30,
  now,
}).certPem;

const CONFIG: AuthenticationConfig = {
  clientCaPem: clientCa.certPem,
  requestHeader: {
    caPem: frontProxyCa.certPem,
    allowedNames: ["front-proxy-client"],
    usernameHeaders: ["X-Remote-User"],
    uidHeaders: [],
    groupHeaders: ["X-Remote-Group"],
    extraHeaderPrefixes: ["X-Remote-Extra-"],
  },
};

const HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
const HPA_PATH =
  "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/%2A/http_requests?labelSelector=app%3Dweb";

/**
 * The whole chain with the real authenticator, reviewers and caches, over in-process TokenReview and
 * SubjectAccessReview APIs: tokens `prom` (allowed nothing but /metrics) and `hpa` are known; the policy allows the
 * HPA on custom metrics and Prometheus on /metrics.
 */
function securityHarness() {
  const tokenReviews: string[] = [];
  const accessReviews: V1SubjectAccessReview["spec"][] = [];
  const users: Record<string, { username: string; groups: string[] }> = {
    prom: { username: "system:serviceaccount:monitoring:prometheus-k8s", groups: ["system:serviceaccounts"] },
    hpa: { username: HPA_USER, groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system"] },
  };
  const tokenApi: TokenReviewApi = {
    async createTokenReview({ body }: { body: V1TokenReview }) {
      tokenReviews.push(body.spec.token);
      const user = users[body.spec.token];
      return {
        ...body,
        status: user ? { authenticated: true, user } : { authenticated: false, error: "token not found" },
      };
    },
  };
  const accessApi: SubjectAccessReviewApi = {
    async createSubjectAccessReview({ body }) {
      accessReviews.push(body.spec);
      const spec = body.spec;
      const allowed =
        (spec.user === HPA_USER && spec.resourceAttributes?.group === "custom.metrics.k8s.io") ||
        (spec.user === "system:serviceaccount:monitoring:prometheus-k8s" &&
          spec.nonResourceAttributes?.path === "/metrics");
      return { ...body, status: { allowed, ...(allowed ? { reason: "RBAC: allowed" } : {}) } };
    },
  };
  const check = createSecurityCheck({
    authenticate: createAuthenticator({
      config: () => CONFIG,
      tokenReviewer: createTokenReviewer({ api: tokenApi, clock }),
      clock,
    }),
    authorize: createAuthorization({
      authorizer: createSubjectAccessReviewer({ api: accessApi, clock }),
      alwaysAllowPaths: ["/healthz", "/readyz", "/livez"],
      logger: silentLogger,
    }),
    logger: silentLogger,
  });
  return { check, tokenReviews, accessReviews };
}

function requestTo(
  target: string,
  { cert, headers = [] }: { cert?: string; headers?: Array<[string, string]> } = {},
): Request {
  const request = new Request(`https://127.0.0.1:6443${target}`, { headers });
  recordRawHeaders(request, headers.flat());
  if (cert) {
    const parsed = new X509Certificate(cert);
    // As the TLS handshake reports a chain it verified against the union of the bundles: leaf, then its CA.
    const cas = [frontProxyCa, clientCa, strangerCa].map((ca) => new X509Certificate(ca.certPem));
    const anchor = cas.find((ca) => parsed.verify(ca.publicKey))!;
    const subject = parsed.toLegacyObject().subject as unknown as Record<string, string | undefined>;
    recordPeerCertificate(request, {
      subjectCommonName: subject.CN ?? "",
      organizations: subject.O === undefined ? [] : [subject.O],
      chainDer: [new Uint8Array(parsed.raw), new Uint8Array(anchor.raw)],
      notBefore: parsed.validFromDate,
      notAfter: parsed.validToDate,
      verificationError: undefined,
    });
  }
  return request;
}

/** What the client would receive: the user when allowed, else the Status body as sent (JSON plus a newline, as Kubernetes writes it). */
async function answerTo(
  check: ReturnType<typeof securityHarness>["check"],
  request: Request,
): Promise<{ user: string; groups: readonly string[] } | { status: number; body: string }> {
  try {
    const { user } = await check(request);
    return { user: user.username, groups: user.groups };
  } catch (error) {
    const response = statusResponse(error, silentLogger);
    return { status: response.status, body: await response.text() };
  }
}

describe("the security check", () => {
  test("accepts the HPA through the front proxy, and the review carries the headers' user, groups and extras", async () => {
    const { check, accessReviews } = securityHarness();
    const answer = await answerTo(
      check,
      requestTo(HPA_PATH, {
        cert: PROXY_CERT,
        headers: [
          ["X-Remote-User", HPA_USER],
          ["X-Remote-Group", "system:serviceaccounts"],
          ["X-Remote-Group", "system:serviceaccounts:kube-system"],
          ["X-Remote-Extra-Authentication.kubernetes.io%2Fpod-name", "kcm-0"],
        ],
      }),
    );
    expect(answer).toEqual({
      user: HPA_USER,
      groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
    });
    expect(accessReviews).toEqual([
      {
        resourceAttributes: {
          namespace: "default",
          verb: "get",
          group: "custom.metrics.k8s.io",
          version: "v1beta2",
          resource: "pods",
          subresource: "http_requests",
          name: "*",
        },
        user: HPA_USER,
        groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
        extra: { "authentication.kubernetes.io/pod-name": ["kcm-0"] },
      },
    ]);
  });

  test("lets the aggregator's availability probe (system:masters via the proxy) through without a review", async () => {
    const { check, accessReviews } = securityHarness();
    const headers: Array<[string, string]> = [
      ["X-Remote-User", "system:kube-aggregator"],
      ["X-Remote-Group", "system:masters"],
    ];
    expect(
      await answerTo(check, requestTo("/apis/custom.metrics.k8s.io/v1beta2", { cert: PROXY_CERT, headers })),
    ).toMatchObject({ user: "system:kube-aggregator" });
    expect(accessReviews).toEqual([]);
  });

  test("forged proxy headers without a certificate make the request anonymous, and the review says so", async () => {
    const { check, accessReviews } = securityHarness();
    const headers: Array<[string, string]> = [
      ["X-Remote-User", HPA_USER],
      ["X-Remote-Group", "system:masters"],
    ];
    const answer = await answerTo(check, requestTo(HPA_PATH, { headers }));
    expect(answer).toEqual({
      status: 403,
      body: `${JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message:
          'pods.custom.metrics.k8s.io "*" is forbidden: User "system:anonymous" cannot get resource "pods/http_requests" in API group "custom.metrics.k8s.io" in the namespace "default"',
        reason: "Forbidden",
        details: { name: "*", group: "custom.metrics.k8s.io", kind: "pods" },
        code: 403,
      })}\n`,
    });
    expect(accessReviews.map((spec) => [spec.user, spec.groups])).toEqual([
      ["system:anonymous", ["system:unauthenticated"]],
    ]);
  });

  test("forged proxy headers with another CA's certificate are a 401", async () => {
    const { check, accessReviews } = securityHarness();
    const answer = await answerTo(
      check,
      requestTo(HPA_PATH, {
        cert: STRANGER_CERT,
        headers: [
          ["X-Remote-User", HPA_USER],
          ["X-Remote-Group", "system:masters"],
        ],
      }),
    );
    expect(answer).toEqual({
      status: 401,
      body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}\n',
    });
    expect(accessReviews).toEqual([]);
  });

  test("a client certificate's user is reviewed as that user", async () => {
    const { check, accessReviews } = securityHarness();
    const answer = await answerTo(
      check,
      requestTo("/apis/metrics.k8s.io/v1beta1/nodes", { cert: ALICE_CERT, headers: [["X-Remote-User", "admin"]] }),
    );
    expect(answer).toMatchObject({ status: 403 });
    expect(accessReviews).toEqual([
      {
        resourceAttributes: { verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "nodes" },
        user: "alice",
        groups: ["dev", "system:authenticated"],
      },
    ]);
  });

  test("a valid token is allowed where the policy allows it", async () => {
    const { check } = securityHarness();
    expect(await answerTo(check, requestTo("/metrics", { headers: [["Authorization", "Bearer prom"]] }))).toEqual({
      user: "system:serviceaccount:monitoring:prometheus-k8s",
      groups: ["system:serviceaccounts", "system:authenticated"],
    });
  });

  test("an invalid token is a 401 and is never reviewed for access", async () => {
    const { check, accessReviews } = securityHarness();
    expect(await answerTo(check, requestTo("/metrics", { headers: [["Authorization", "Bearer nope"]] }))).toMatchObject(
      { status: 401 },
    );
    expect(accessReviews).toEqual([]);
  });

  test("a valid token the policy does not allow is a 403 with the exact body", async () => {
    const { check } = securityHarness();
    expect(
      await answerTo(
        check,
        requestTo("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods", {
          headers: [["Authorization", "Bearer prom"]],
        }),
      ),
    ).toEqual({
      status: 403,
      body:
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.metrics.k8s.io is forbidden: User \\"system:serviceaccount:monitoring:prometheus-k8s\\" ' +
        'cannot list resource \\"pods\\" in API group \\"metrics.k8s.io\\" in the namespace \\"kube-system\\"","reason":"Forbidden","details":{"group":"metrics.k8s.io","kind":"pods"},"code":403}\n',
    });
  });

  test.each(["/healthz", "/livez", "/readyz"])("%s is open to anonymous users without a review", async (target) => {
    const { check, accessReviews } = securityHarness();
    expect(await answerTo(check, requestTo(target))).toEqual({
      user: "system:anonymous",
      groups: ["system:unauthenticated"],
    });
    expect(accessReviews).toEqual([]);
  });

  test("/metrics needs authorization: anonymous is refused", async () => {
    const { check, accessReviews } = securityHarness();
    expect(await answerTo(check, requestTo("/metrics"))).toEqual({
      status: 403,
      body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \\"system:anonymous\\" cannot get path \\"/metrics\\"","reason":"Forbidden","details":{},"code":403}\n',
    });
    expect(accessReviews).toEqual([
      {
        nonResourceAttributes: { path: "/metrics", verb: "get" },
        user: "system:anonymous",
        groups: ["system:unauthenticated"],
      },
    ]);
  });

  test("repeated requests within 10 s reuse both reviews; after 10 s both are asked again", async () => {
    const { check, tokenReviews, accessReviews } = securityHarness();
    const hpaRequest = () => requestTo(HPA_PATH, { headers: [["Authorization", "Bearer hpa"]] });
    const deniedRequest = () =>
      requestTo("/apis/metrics.k8s.io/v1beta1/nodes", { headers: [["Authorization", "Bearer hpa"]] });
    const badRequest = () => requestTo("/metrics", { headers: [["Authorization", "Bearer bad"]] });
    for (let round = 0; round < 3; round++) {
      expect(await answerTo(check, hpaRequest())).toMatchObject({ user: HPA_USER });
      expect(await answerTo(check, deniedRequest())).toMatchObject({ status: 403 });
      expect(await answerTo(check, badRequest())).toMatchObject({ status: 401 });
      clock.advance(3_000);
    }
    expect({ tokens: tokenReviews.length, access: accessReviews.length }).toEqual({ tokens: 2, access: 2 });
    clock.advance(1_001);
    await answerTo(check, hpaRequest());
    await answerTo(check, deniedRequest());
    await answerTo(check, badRequest());
    expect({ tokens: tokenReviews, access: accessReviews.length }).toEqual({
      tokens: ["hpa", "bad", "hpa", "bad"],
      access: 4,
    });
  });

  test("remembers the user of each request, also when it is then refused", async () => {
    const { check } = securityHarness();
    const allowed = requestTo("/metrics", { headers: [["Authorization", "Bearer prom"]] });
    const refused = requestTo("/metrics");
    const unauthenticated = requestTo("/metrics", { headers: [["Authorization", "Bearer nope"]] });
    for (const request of [allowed, refused, unauthenticated]) await answerTo(check, request);
    expect([userOf(allowed)?.username, userOf(refused)?.username, userOf(unauthenticated)]).toEqual([
      "system:serviceaccount:monitoring:prometheus-k8s",
      "system:anonymous",
      undefined,
    ]);
  });

  test("a path that is not valid percent-encoding is a 400 once the client is authenticated", async () => {
    const { check } = securityHarness();
    expect(
      await answerTo(
        check,
        requestTo("/apis/metrics.k8s.io/v1beta1/namespaces/%zz/pods", { headers: [["Authorization", "Bearer prom"]] }),
      ),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await answerTo(
        check,
        requestTo("/apis/metrics.k8s.io/v1beta1/namespaces/%zz/pods", { headers: [["Authorization", "Bearer nope"]] }),
      ),
    ).toMatchObject({
      status: 401,
    });
  });
});
