/**
 * Authentication and authorization end to end: the real client-node TokenReview, SubjectAccessReview and ConfigMap
 * calls against the kube-apiserver stand-in (real TLS), and a real HTTPS listener (serve.ts) whose tiny Elysia app runs
 * the security check before answering, called by clients that present the front-proxy certificate, x509 client
 * certificates, bearer tokens or nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import tls from "node:tls";
import { AuthenticationV1Api, AuthorizationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { Elysia } from "elysia";
import { statusResponse } from "../../src/api/status.ts";
import {
  AuthenticationConfigError,
  clientCaPemsOf,
  createAuthenticationConfigSource,
  createConfigMapReader,
  type AuthenticationConfigSource,
  type RefreshScheduler,
} from "../../src/kubernetes/authentication-config.ts";
import { createApiConfiguration } from "../../src/kubernetes/kube-http.ts";
import { loadKubeConfig } from "../../src/kubernetes/kube-config.ts";
import { createSubjectAccessReviewer } from "../../src/kubernetes/subject-access-review.ts";
import { createTokenReviewer, type UserInfo } from "../../src/kubernetes/token-review.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createAuthenticator } from "../../src/server/authn.ts";
import { createAuthorization } from "../../src/server/authz.ts";
import {
  generateCertificateAuthority,
  generateSignedCertificate,
  type CertificateAndKey,
} from "../../src/server/certificates.ts";
import { createSecurityCheck, userOf } from "../../src/server/security.ts";
import { startHttpsServer, type HttpsServer } from "../../src/server/serve.ts";
import { delegatedAuthenticationRules, startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";

setDefaultTimeout(30_000);

const ADAPTER_USER = "system:serviceaccount:monitoring:prom-adapter";
const HPA_USER = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
const PROMETHEUS_USER = "system:serviceaccount:monitoring:prometheus-k8s";
const HPA_PATH =
  "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/%2A/http_requests?labelSelector=app%3Dweb";
const DEFAULT_FLAGS = {
  clientCaFile: undefined,
  requestheaderClientCaFile: undefined,
  requestheaderAllowedNames: [],
  requestheaderUsernameHeaders: ["x-remote-user"],
  requestheaderGroupHeaders: ["x-remote-group"],
  requestheaderExtraHeadersPrefix: ["x-remote-extra-"],
  authenticationSkipLookup: false,
  authenticationTolerateLookupFailure: false,
};
/** Refreshes happen when the test says so. */
const NO_TIMER: RefreshScheduler = { every: () => () => {} };

let kube: KubeApiServer;
let listener: HttpsServer;
let configSource: AuthenticationConfigSource;
let adapterUrl: string;
let servingCa: CertificateAndKey;
let strangerClient: CertificateAndKey;
let mallory: CertificateAndKey;

function resetPolicy(): void {
  kube.setPolicy([
    ...delegatedAuthenticationRules({ users: [ADAPTER_USER] }),
    {
      users: [HPA_USER],
      verbs: ["get", "list"],
      apiGroups: ["custom.metrics.k8s.io", "external.metrics.k8s.io"],
      resources: ["*"],
    },
    { users: [PROMETHEUS_USER], verbs: ["get"], nonResourceURLs: ["/metrics"] },
  ]);
}

beforeAll(async () => {
  const now = new Date();
  kube = await startKubeApiServer();
  kube.setTokens({
    "adapter-token": {
      username: ADAPTER_USER,
      uid: "adapter-uid",
      groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring"],
    },
    "prometheus-token": {
      username: PROMETHEUS_USER,
      uid: "prom-uid",
      groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring"],
    },
    "revoked-token": "invalid",
  });
  resetPolicy();

  const kubeConfig = loadKubeConfig({ file: kube.kubeconfigFor({ token: "adapter-token" }) });
  const configuration = createApiConfiguration(kubeConfig);
  configSource = createAuthenticationConfigSource({
    flags: DEFAULT_FLAGS,
    reader: createConfigMapReader(new CoreV1Api(configuration)),
    logger: silentLogger,
    scheduler: NO_TIMER,
  });
  await configSource.start();

  const check = createSecurityCheck({
    authenticate: createAuthenticator({
      config: configSource.current,
      tokenReviewer: createTokenReviewer({ api: new AuthenticationV1Api(configuration) }),
    }),
    authorize: createAuthorization({
      authorizer: createSubjectAccessReviewer({ api: new AuthorizationV1Api(configuration) }),
      alwaysAllowPaths: ["/healthz", "/readyz", "/livez"],
      logger: silentLogger,
    }),
    logger: silentLogger,
  });
  // What the lead's request hook does: run the check first; a refusal is the answer.
  const app = new Elysia()
    .onRequest(async ({ request }) => {
      try {
        await check(request);
      } catch (error) {
        return statusResponse(error, silentLogger);
      }
    })
    .get("/*", ({ request }) => ({ user: userOf(request) }));

  servingCa = generateCertificateAuthority({ commonName: "prom-adapter-ca", now });
  const serving = generateSignedCertificate({
    ca: servingCa,
    commonName: "prom-adapter",
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validityDays: 1,
    now,
  });
  listener = await startHttpsServer({
    handle: (request) => app.handle(request),
    host: "127.0.0.1",
    port: 0,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    clientCaPems: clientCaPemsOf(configSource.current()),
  });
  configSource.onChange((config) =>
    listener.updateTls({ certPem: serving.certPem, keyPem: serving.keyPem, clientCaPems: clientCaPemsOf(config) }),
  );
  adapterUrl = `https://127.0.0.1:${listener.port}`;

  const strangerCa = generateCertificateAuthority({ commonName: "front-proxy-ca", now });
  strangerClient = generateSignedCertificate({
    ca: strangerCa,
    commonName: "front-proxy-client",
    usage: "client",
    validityDays: 1,
    now,
  });
  mallory = kube.issueClientCertificate("mallory", ["dev"]);
});

afterAll(async () => {
  configSource?.stop();
  await listener?.close(1_000);
  await kube?.close();
});

beforeEach(() => {
  kube.clearRequests();
});

/** GET on the adapter as a client presenting `cert` (optional) and `headers`. */
async function get(
  path: string,
  { cert, headers = {} }: { cert?: CertificateAndKey; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${adapterUrl}${path}`, {
    headers,
    tls: { ca: servingCa.certPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
  } as RequestInit);
  return { status: response.status, body: await response.text() };
}

/** The user the adapter saw, when it let the request through. */
function userIn(answer: { status: number; body: string }): UserInfo | undefined {
  return answer.status === 200 ? (JSON.parse(answer.body) as { user: UserInfo }).user : undefined;
}

/**
 * GET over a raw TLS connection, so header lines are sent exactly as given (fetch would merge repeated headers).
 * Resolves with the status code and body.
 */
function rawGet(
  path: string,
  cert: CertificateAndKey,
  headerLines: Array<[string, string]>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: "127.0.0.1",
        port: listener.port,
        ca: servingCa.certPem,
        cert: cert.certPem,
        key: cert.keyPem,
        ALPNProtocols: ["http/1.1"],
      },
      () => {
        const head = [
          `GET ${path} HTTP/1.1`,
          "Host: 127.0.0.1",
          "Connection: close",
          ...headerLines.map(([name, value]) => `${name}: ${value}`),
        ];
        socket.write(`${head.join("\r\n")}\r\n\r\n`);
      },
    );
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      resolve({ status, body });
    });
  });
}

const FORGED = { "X-Remote-User": HPA_USER, "X-Remote-Group": "system:masters" };

describe("security against the kube-apiserver stand-in", () => {
  test("the configuration comes from the cluster's ConfigMap", () => {
    expect(configSource.current()).toEqual({
      clientCaPem: kube.caPem,
      requestHeader: {
        caPem: kube.frontProxy.caPem,
        allowedNames: ["front-proxy-client"],
        usernameHeaders: ["X-Remote-User"],
        uidHeaders: [],
        groupHeaders: ["X-Remote-Group"],
        extraHeaderPrefixes: ["X-Remote-Extra-"],
      },
    });
  });

  test("the HPA through the front proxy is allowed, and the SubjectAccessReview carries its user, groups and extras", async () => {
    const answer = await get(HPA_PATH, {
      cert: kube.frontProxy.client,
      headers: {
        "X-Remote-User": HPA_USER,
        "X-Remote-Group": "system:serviceaccounts",
        "X-Remote-Extra-Authentication.kubernetes.io%2Fpod-name": "kcm-0",
      },
    });
    expect(answer.status).toBe(200);
    expect(userIn(answer)).toMatchObject({
      username: HPA_USER,
      groups: ["system:serviceaccounts", "system:authenticated"],
    });
    expect(kube.reviews().subjectAccessReviews).toEqual([
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
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
          groups: ["system:serviceaccounts", "system:authenticated"],
          extra: { "authentication.kubernetes.io/pod-name": ["kcm-0"] },
        },
      },
    ]);
  });

  test("the aggregator's probe as system:masters needs no review", async () => {
    const answer = await get("/apis/custom.metrics.k8s.io/v1beta2", {
      cert: kube.frontProxy.client,
      headers: { "X-Remote-User": "system:kube-aggregator", "X-Remote-Group": "system:masters" },
    });
    expect(userIn(answer)?.username).toBe("system:kube-aggregator");
    expect(kube.reviews().subjectAccessReviews).toEqual([]);
  });

  test("forged proxy headers without a certificate are ignored: anonymous, and refused", async () => {
    const answer = await get(HPA_PATH, { headers: FORGED });
    expect(answer).toEqual({
      status: 403,
      body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.custom.metrics.k8s.io \\"*\\" is forbidden: User \\"system:anonymous\\" cannot get resource \\"pods/http_requests\\" in API group \\"custom.metrics.k8s.io\\" in the namespace \\"default\\"","reason":"Forbidden","details":{"name":"*","group":"custom.metrics.k8s.io","kind":"pods"},"code":403}\n',
    });
  });

  test("forged proxy headers with a cluster client certificate authenticate the certificate's user", async () => {
    const answer = await get("/healthz", { cert: mallory, headers: FORGED });
    expect(userIn(answer)).toEqual({
      username: "mallory",
      uid: "",
      groups: ["dev", "system:authenticated"],
      extra: {},
    });
  });

  test("repeated group header lines through the listener are one group each, never split at commas", async () => {
    const answer = await rawGet("/healthz", kube.frontProxy.client, [
      ["X-Remote-User", "proxied"],
      ["X-Remote-Group", "a"],
      ["x-remote-group", "b,c"],
      ["X-Remote-Extra-Scopes", "s1"],
      ["X-Remote-Extra-Scopes", "s2"],
    ]);
    expect(userIn(answer)).toEqual({
      username: "proxied",
      uid: "",
      groups: ["a", "b,c", "system:authenticated"],
      extra: { scopes: ["s1", "s2"] },
    });
  });

  test("forged proxy headers with another CA's certificate are a 401", async () => {
    const answer = await get(HPA_PATH, { cert: strangerClient, headers: FORGED });
    expect(answer).toEqual({
      status: 401,
      body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}\n',
    });
    expect(kube.reviews()).toEqual({ tokenReviews: [], subjectAccessReviews: [] });
  });

  test("a valid token is reviewed once, allowed where the policy allows it, and the answers are cached", async () => {
    const first = await get("/metrics", { headers: { Authorization: "Bearer prometheus-token" } });
    const second = await get("/metrics", { headers: { Authorization: "Bearer prometheus-token" } });
    expect([userIn(first)?.username, userIn(second)?.username]).toEqual([PROMETHEUS_USER, PROMETHEUS_USER]);
    const { tokenReviews, subjectAccessReviews } = kube.reviews();
    expect(tokenReviews).toEqual([
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "prometheus-token" } },
    ]);
    expect(subjectAccessReviews).toHaveLength(1);
  });

  test("a rejected token is a 401", async () => {
    expect((await get("/metrics", { headers: { Authorization: "Bearer revoked-token" } })).status).toBe(401);
  });

  test("a valid token the policy does not allow is a 403 with the exact body", async () => {
    expect(
      await get("/apis/metrics.k8s.io/v1beta1/nodes/node-1", { headers: { Authorization: "Bearer prometheus-token" } }),
    ).toEqual({
      status: 403,
      body: `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes.metrics.k8s.io \\"node-1\\" is forbidden: User \\"${PROMETHEUS_USER}\\" cannot get resource \\"nodes\\" in API group \\"metrics.k8s.io\\" at the cluster scope","reason":"Forbidden","details":{"name":"node-1","group":"metrics.k8s.io","kind":"nodes"},"code":403}\n`,
    });
  });

  test("health is open to anonymous clients and /metrics is not", async () => {
    expect(userIn(await get("/readyz"))?.username).toBe("system:anonymous");
    expect(await get("/metrics")).toMatchObject({ status: 403 });
    expect(kube.reviews().subjectAccessReviews).toEqual([
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          nonResourceAttributes: { path: "/metrics", verb: "get" },
          user: "system:anonymous",
          groups: ["system:unauthenticated"],
        },
      },
    ]);
  });

  test("a SubjectAccessReview that fails is a 500 without the cause; a TokenReview that fails is a 401", async () => {
    kube.failNext("/apis/authorization.k8s.io/v1/subjectaccessreviews", 500);
    expect(
      await get("/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue", {
        cert: kube.frontProxy.client,
        headers: { "X-Remote-User": HPA_USER },
      }),
    ).toEqual({
      status: 500,
      body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: unable to authorize the request","reason":"InternalError","details":{"causes":[{"message":"unable to authorize the request"}]},"code":500}\n',
    });
    kube.failNext("/apis/authentication.k8s.io/v1/tokenreviews", 503);
    expect((await get("/readyz", { headers: { Authorization: "Bearer never-seen-token" } })).status).toBe(401);
  });

  test("after the ConfigMap drops the front proxy, a refresh stops trusting its headers", async () => {
    try {
      kube.setAuthenticationConfigMap({ "client-ca-file": kube.caPem });
      await configSource.refresh();
      expect(configSource.current().requestHeader).toBeUndefined();
      expect((await get("/healthz", { cert: kube.frontProxy.client, headers: FORGED })).status).toBe(401);
    } finally {
      kube.setAuthenticationConfigMap({
        "client-ca-file": kube.caPem,
        "requestheader-allowed-names": '["front-proxy-client"]',
        "requestheader-client-ca-file": kube.frontProxy.caPem,
        "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
        "requestheader-group-headers": '["X-Remote-Group"]',
        "requestheader-username-headers": '["X-Remote-User"]',
      });
      await configSource.refresh();
    }
    expect(userIn(await get("/healthz", { cert: kube.frontProxy.client, headers: FORGED }))?.username).toBe(HPA_USER);
  });

  test("a service account that may not read the ConfigMap cannot start, and is told which Role it lacks", async () => {
    kube.setTokens({
      "adapter-token": { username: ADAPTER_USER },
      "unprivileged-token": { username: "system:serviceaccount:monitoring:nobody" },
    });
    try {
      const configuration = createApiConfiguration(
        loadKubeConfig({ file: kube.kubeconfigFor({ token: "unprivileged-token" }) }),
      );
      const source = createAuthenticationConfigSource({
        flags: DEFAULT_FLAGS,
        reader: createConfigMapReader(new CoreV1Api(configuration)),
        logger: silentLogger,
        scheduler: NO_TIMER,
      });
      const failure = await source.start().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AuthenticationConfigError);
      expect((failure as Error).message).toContain("--role=extension-apiserver-authentication-reader");
    } finally {
      kube.setTokens({
        "adapter-token": {
          username: ADAPTER_USER,
          uid: "adapter-uid",
          groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring"],
        },
        "prometheus-token": {
          username: PROMETHEUS_USER,
          uid: "prom-uid",
          groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring"],
        },
        "revoked-token": "invalid",
      });
    }
  });
});
