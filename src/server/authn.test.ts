import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import type { AuthenticationConfig, RequestHeaderConfig } from "../kubernetes/authentication-config.ts";
import { TokenReviewError, type TokenReviewer, type UserInfo } from "../kubernetes/token-review.ts";
import { createManualClock } from "../util/clock.ts";
import { ANONYMOUS_USER, bearerTokenOf, createAuthenticator, UnauthorizedError } from "./authn.ts";
import { generateCertificateAuthority, generateSignedCertificate, type CertificateAndKey } from "./certificates.ts";
import { recordRawHeaders } from "./raw-headers.ts";
import { recordPeerCertificate, type PeerCertificate } from "./tls-peer.ts";

const DAY_MS = 24 * 3600_000;
const clock = createManualClock(Date.now());
const now = new Date(clock.now());

const frontProxyCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
const clientCa = generateCertificateAuthority({ commonName: "kubernetes", now });
const strangerCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });

function clientCertificate(
  ca: CertificateAndKey,
  commonName: string,
  extra: { organizations?: string[]; notBefore?: Date; validityDays?: number } = {},
): string {
  return generateSignedCertificate({
    ca,
    commonName,
    usage: "client",
    validityDays: extra.validityDays ?? 30,
    now,
    ...extra,
  }).certPem;
}

const CERTS = {
  frontProxy: clientCertificate(frontProxyCa, "front-proxy-client"),
  frontProxyOtherName: clientCertificate(frontProxyCa, "someone-else"),
  frontProxyExpired: clientCertificate(frontProxyCa, "front-proxy-client", {
    notBefore: new Date(now.getTime() - 10 * DAY_MS),
    validityDays: 1,
  }),
  stranger: clientCertificate(strangerCa, "front-proxy-client"),
  alice: clientCertificate(clientCa, "alice", { organizations: ["dev", "ops"] }),
  aliceExpired: clientCertificate(clientCa, "alice", {
    notBefore: new Date(now.getTime() - 10 * DAY_MS),
    validityDays: 1,
  }),
  noCommonName: clientCertificate(clientCa, ""),
};

const ALL_CAS = [frontProxyCa, clientCa, strangerCa].map((ca) => new X509Certificate(ca.certPem));

/**
 * The PeerCertificate the HTTPS listener records for a client presenting `pem` when the TLS handshake verified it
 * (the listener trusts the union of the bundles): the leaf and the CA that signed it. Validity is left to the
 * authenticator's clock, as on a keep-alive connection that outlived the handshake.
 */
function peerOf(pem: string): PeerCertificate {
  const parsed = new X509Certificate(pem);
  const anchor = ALL_CAS.find((ca) => parsed.verify(ca.publicKey))!;
  const subject = parsed.toLegacyObject().subject as unknown as Record<string, string | string[] | undefined>;
  const values = (field: string | string[] | undefined) =>
    field === undefined ? [] : Array.isArray(field) ? field : [field];
  return {
    subjectCommonName: values(subject.CN).at(-1) ?? "",
    organizations: values(subject.O),
    chainDer: [new Uint8Array(parsed.raw), new Uint8Array(anchor.raw)],
    notBefore: parsed.validFromDate,
    notAfter: parsed.validToDate,
    verificationError: undefined,
  };
}

/** A request as the listener hands it over: raw header lines (repeats kept) and the client certificate, if any. */
function requestWith({ cert, headers = [] }: { cert?: string; headers?: Array<[string, string]> } = {}): Request {
  const request = new Request("https://127.0.0.1:6443/apis/custom.metrics.k8s.io/v1beta2", { headers });
  recordRawHeaders(request, headers.flat());
  if (cert) recordPeerCertificate(request, peerOf(cert));
  return request;
}

const REQUEST_HEADER: RequestHeaderConfig = {
  caPem: frontProxyCa.certPem,
  allowedNames: ["front-proxy-client"],
  usernameHeaders: ["X-Remote-User"],
  uidHeaders: ["X-Remote-Uid"],
  groupHeaders: ["X-Remote-Group"],
  extraHeaderPrefixes: ["X-Remote-Extra-"],
};
const KUBEADM: AuthenticationConfig = { clientCaPem: clientCa.certPem, requestHeader: REQUEST_HEADER };

const PROMETHEUS: UserInfo = {
  username: "system:serviceaccount:monitoring:prometheus-k8s",
  uid: "3c1a",
  groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"],
  extra: { "authentication.kubernetes.io/pod-name": ["prometheus-k8s-0"] },
};

/** A reviewer that knows `good` (PROMETHEUS), `groupless` (no groups), fails on `broken`, and rejects the rest. */
function fakeReviewer() {
  const reviewed: string[] = [];
  const reviewer: TokenReviewer = {
    async review(token) {
      reviewed.push(token);
      if (token === "broken") throw new TokenReviewError("TokenReview failed: HTTP 500");
      if (token === "good") return PROMETHEUS;
      if (token === "groupless") return { username: "bob", uid: "", groups: [], extra: {} };
      return null;
    },
  };
  return { reviewer, reviewed };
}

function authenticatorFor(config: AuthenticationConfig) {
  const { reviewer, reviewed } = fakeReviewer();
  return { authenticate: createAuthenticator({ config: () => config, tokenReviewer: reviewer, clock }), reviewed };
}

const FORGED_HEADERS: Array<[string, string]> = [
  ["X-Remote-User", "system:kube-aggregator"],
  ["X-Remote-Group", "system:masters"],
];

async function failureOf(promise: Promise<unknown>): Promise<UnauthorizedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  return error as UnauthorizedError;
}

describe("front-proxy authentication", () => {
  test("takes user, uid, every group and the extras from the headers a trusted proxy certificate vouches for", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    const user = await authenticate(
      requestWith({
        cert: CERTS.frontProxy,
        headers: [
          ["X-Remote-User", "system:serviceaccount:kube-system:horizontal-pod-autoscaler"],
          ["X-Remote-Uid", "uid-7"],
          ["X-Remote-Group", "system:serviceaccounts"],
          ["x-remote-group", "a,b"],
          ["X-Remote-Group", ""],
          ["X-Remote-Extra-Authentication.kubernetes.io%2Fpod-Name", "hpa-0"],
          ["X-Remote-Extra-Scopes", "s1"],
          ["x-remote-extra-scopes", "s2"],
          ["Authorization", "Bearer good"],
        ],
      }),
    );
    expect(user).toEqual({
      username: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
      uid: "uid-7",
      groups: ["system:serviceaccounts", "a,b", "system:authenticated"],
      extra: { "authentication.kubernetes.io/pod-name": ["hpa-0"], scopes: ["s1", "s2"] },
    });
  });

  test("takes the first non-empty value of the username headers, in the configured order", async () => {
    const { authenticate } = authenticatorFor({
      clientCaPem: undefined,
      requestHeader: { ...REQUEST_HEADER, usernameHeaders: ["X-First", "X-Remote-User"] },
    });
    const user = await authenticate(
      requestWith({
        cert: CERTS.frontProxy,
        headers: [
          ["X-Remote-User", "second"],
          ["X-First", ""],
          ["X-Remote-User", "third"],
        ],
      }),
    );
    expect(user.username).toBe("second");
  });

  test("an allowed-names list with exactly one CN is enforced: another CN of the same CA is refused", async () => {
    const requestHeader = { ...REQUEST_HEADER, allowedNames: ["front-proxy-client"] };
    const { authenticate } = authenticatorFor({ clientCaPem: undefined, requestHeader });
    const request = requestWith({ cert: CERTS.frontProxyOtherName, headers: FORGED_HEADERS });
    const failure = await failureOf(authenticate(request));
    expect({ code: failure.code, failures: failure.failures }).toEqual({
      code: 401,
      failures: ["front proxy: subject with cn=someone-else is not in the allowed list"],
    });
  });

  test("accepts any CN signed by the CA when no allowed names are set", async () => {
    const { authenticate } = authenticatorFor({
      clientCaPem: undefined,
      requestHeader: { ...REQUEST_HEADER, allowedNames: [] },
    });
    expect(
      (await authenticate(requestWith({ cert: CERTS.frontProxyOtherName, headers: FORGED_HEADERS }))).username,
    ).toBe("system:kube-aggregator");
  });

  test("does not append system:authenticated twice, nor to a user who says unauthenticated", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    const twice = await authenticate(
      requestWith({
        cert: CERTS.frontProxy,
        headers: [
          ["X-Remote-User", "u"],
          ["X-Remote-Group", "system:authenticated"],
        ],
      }),
    );
    const unauthenticated = await authenticate(
      requestWith({
        cert: CERTS.frontProxy,
        headers: [
          ["X-Remote-User", "u"],
          ["X-Remote-Group", "system:unauthenticated"],
        ],
      }),
    );
    expect([twice.groups, unauthenticated.groups]).toEqual([["system:authenticated"], ["system:unauthenticated"]]);
  });
});

describe("X-Remote-* headers without a trusted front-proxy certificate are ignored", () => {
  test("no certificate: the request is anonymous", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    expect(await authenticate(requestWith({ headers: FORGED_HEADERS }))).toEqual(ANONYMOUS_USER);
  });

  test("no certificate but a token: the token's user", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    expect(await authenticate(requestWith({ headers: [...FORGED_HEADERS, ["Authorization", "Bearer good"]] }))).toEqual(
      PROMETHEUS,
    );
  });

  test("a client certificate of the client CA: the certificate's user", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    expect(await authenticate(requestWith({ cert: CERTS.alice, headers: FORGED_HEADERS }))).toEqual({
      username: "alice",
      uid: "",
      groups: ["dev", "ops", "system:authenticated"],
      extra: {},
    });
  });

  test.each([
    {
      name: "a certificate of another CA with the same name",
      cert: CERTS.stranger,
      reason: "front proxy: certificate not signed by the requestheader CA, or expired",
    },
    {
      name: "a proxy certificate with a CN not allowed",
      cert: CERTS.frontProxyOtherName,
      reason: "front proxy: subject with cn=someone-else is not in the allowed list",
    },
    {
      name: "an expired proxy certificate",
      cert: CERTS.frontProxyExpired,
      reason: "front proxy: certificate not signed by the requestheader CA, or expired",
    },
  ])("$name: 401, never the headers' user", async ({ cert, reason }) => {
    const { authenticate } = authenticatorFor(KUBEADM);
    const failure = await failureOf(authenticate(requestWith({ cert, headers: FORGED_HEADERS })));
    expect(failure.failures).toEqual([reason, "x509: certificate not signed by the client CA, or expired"]);
    expect({ code: failure.code, reason: failure.reason, message: failure.message }).toEqual({
      code: 401,
      reason: "Unauthorized",
      message: "Unauthorized",
    });
  });

  test("an untrusted certificate with a valid token: the token's user (first success wins)", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    expect(
      await authenticate(
        requestWith({ cert: CERTS.stranger, headers: [...FORGED_HEADERS, ["Authorization", "Bearer good"]] }),
      ),
    ).toEqual(PROMETHEUS);
  });

  test("a trusted proxy certificate without a username header vouches for nobody", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    const failure = await failureOf(
      authenticate(requestWith({ cert: CERTS.frontProxy, headers: [["X-Remote-Group", "system:masters"]] })),
    );
    expect(failure.failures).toEqual(["x509: certificate not signed by the client CA, or expired"]);
  });

  test("when front-proxy authentication is off, even the proxy's own certificate does not make headers count", async () => {
    const { authenticate } = authenticatorFor({ clientCaPem: frontProxyCa.certPem, requestHeader: undefined });
    expect(await authenticate(requestWith({ cert: CERTS.frontProxy, headers: FORGED_HEADERS }))).toEqual({
      username: "front-proxy-client",
      uid: "",
      groups: ["system:authenticated"],
      extra: {},
    });
  });

  test("when the CA changes, a certificate of the old CA is no longer trusted", async () => {
    let config = KUBEADM;
    const { reviewer } = fakeReviewer();
    const authenticate = createAuthenticator({ config: () => config, tokenReviewer: reviewer, clock });
    expect((await authenticate(requestWith({ cert: CERTS.frontProxy, headers: FORGED_HEADERS }))).username).toBe(
      "system:kube-aggregator",
    );
    config = { ...KUBEADM, requestHeader: { ...REQUEST_HEADER, caPem: strangerCa.certPem } };
    await failureOf(authenticate(requestWith({ cert: CERTS.frontProxy, headers: FORGED_HEADERS })));
  });
});

describe("x509 authentication", () => {
  test("an expired client certificate is refused", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    const failure = await failureOf(authenticate(requestWith({ cert: CERTS.aliceExpired })));
    expect(failure.failures).toContain("x509: certificate not signed by the client CA, or expired");
  });

  test("a certificate becomes invalid when the clock passes its end", async () => {
    const late = createManualClock(now.getTime() + 31 * DAY_MS);
    const { reviewer } = fakeReviewer();
    const authenticate = createAuthenticator({ config: () => KUBEADM, tokenReviewer: reviewer, clock: late });
    await failureOf(authenticate(requestWith({ cert: CERTS.alice })));
  });

  test("a trusted certificate without a CN names nobody, so the request is anonymous", async () => {
    const { authenticate } = authenticatorFor({ clientCaPem: clientCa.certPem, requestHeader: undefined });
    expect(await authenticate(requestWith({ cert: CERTS.noCommonName }))).toEqual(ANONYMOUS_USER);
  });

  test("a certificate is ignored when no CA is configured at all", async () => {
    const { authenticate } = authenticatorFor({ clientCaPem: undefined, requestHeader: undefined });
    expect(await authenticate(requestWith({ cert: CERTS.stranger, headers: FORGED_HEADERS }))).toEqual(ANONYMOUS_USER);
  });
});

describe("bearer-token authentication", () => {
  test("a token the TokenReview accepts is its user, with system:authenticated once", async () => {
    const { authenticate, reviewed } = authenticatorFor(KUBEADM);
    expect(await authenticate(requestWith({ headers: [["Authorization", "Bearer good"]] }))).toEqual(PROMETHEUS);
    expect(reviewed).toEqual(["good"]);
  });

  test("system:authenticated is appended to a reviewed user without it", async () => {
    const { authenticate } = authenticatorFor(KUBEADM);
    expect((await authenticate(requestWith({ headers: [["authorization", "bearer groupless"]] }))).groups).toEqual([
      "system:authenticated",
    ]);
  });

  test.each([
    { name: "a rejected token", token: "expired", failure: "invalid bearer token" },
    { name: "a TokenReview that fails", token: "broken", failure: "TokenReview failed: HTTP 500" },
  ])("$name is 401, not anonymous", async ({ token, failure }) => {
    const { authenticate } = authenticatorFor(KUBEADM);
    expect(
      (await failureOf(authenticate(requestWith({ headers: [["Authorization", `Bearer ${token}`]] })))).failures,
    ).toEqual([failure]);
  });

  test.each([
    { name: "no Authorization header", header: undefined, token: undefined },
    { name: "a Basic credential", header: "Basic YTpi", token: undefined },
    { name: "Bearer without a token", header: "Bearer", token: undefined },
    { name: "Bearer with two spaces (as k8s.io/apiserver)", header: "Bearer  t", token: undefined },
    { name: "a lower-case scheme and surrounding spaces", header: "  bearer t1  ", token: "t1" },
    { name: "a token followed by more words", header: "Bearer t1 extra", token: "t1" },
  ])("reads $name", ({ header, token }) => {
    expect(bearerTokenOf(requestWith({ headers: header === undefined ? [] : [["Authorization", header]] }))).toBe(
      token,
    );
  });

  test("a request with no credentials at all is anonymous and reviews nothing", async () => {
    const { authenticate, reviewed } = authenticatorFor(KUBEADM);
    expect(await authenticate(requestWith())).toEqual({
      username: "system:anonymous",
      uid: "",
      groups: ["system:unauthenticated"],
      extra: {},
    });
    expect(reviewed).toEqual([]);
  });
});
