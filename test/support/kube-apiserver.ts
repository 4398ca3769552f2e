/**
 * A kube-apiserver stand-in for tests: a real HTTPS server on 127.0.0.1 that serves discovery, GET of stored
 * objects (with label and field selectors, Table and metadata-only representations), TokenReview and
 * SubjectAccessReview, the `extension-apiserver-authentication` ConfigMap, and authenticates and authorizes its own
 * callers, all with Kubernetes' JSON shapes and Status errors. Checked against the real kubectl
 * (kube-apiserver.test.ts). It starts with the four standard namespaces and the authentication ConfigMap; every
 * other object comes from `setObjects`. Its own callers need the admin token, a token from `setTokens` or a client
 * certificate from `issueClientCertificate`; only `system:masters` bypasses `setPolicy` (anonymous access is off).
 *
 * Not served: writes (405), watch (405), YAML/protobuf responses (406 unless JSON is also accepted; protobuf review
 * bodies are decoded), OpenAPI, aggregated discovery (the legacy documents answer, which clients accept), health
 * endpoints, limit/continue (lists are whole), server-side printer columns beyond Name and Age.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CertificateAndKey } from "../../src/server/certificates.ts";
import { startHttpsServer } from "../../src/server/serve.ts";
import { DEFAULT_RESOURCES } from "./kube-apiserver/default-resources.ts";
import { createFaultInjector } from "./kube-apiserver/faults.ts";
import { createHandler, type StandInState } from "./kube-apiserver/handler.ts";
import { writeKubeconfig, type KubeconfigIdentity } from "./kube-apiserver/kubeconfig.ts";
import { createObjectStore, InvalidFixtureError } from "./kube-apiserver/object-store.ts";
import { clusterPki, issueClientCertificate } from "./kube-apiserver/pki.ts";
import type {
  GroupResource,
  ObjectInput,
  PolicyRule,
  RecordedRequest,
  ResourceDefinition,
  TokenIdentity,
} from "./kube-apiserver/types.ts";

export { customResourceDefinition } from "./kube-apiserver/default-resources.ts";
export { delegatedAuthenticationRules } from "./kube-apiserver/policy.ts";
export { humanDuration } from "./kube-apiserver/table.ts";
export { findKubectl, runKubectl, type KubectlResult } from "./kube-apiserver/kubectl.ts";
export type { KubeconfigIdentity } from "./kube-apiserver/kubeconfig.ts";
export type * from "./kube-apiserver/types.ts";
export { InvalidFixtureError };

/** Options of {@link startKubeApiServer}. */
export interface KubeApiServerOptions {
  /** Resources served; default {@link DEFAULT_RESOURCES} (core, apps, batch, networking, autoscaling, policy, ...). */
  resources?: readonly ResourceDefinition[];
  /** Clock for creation timestamps and Table ages; default the real time. Certificates are checked at the real time. */
  now?: () => Date;
}

/** The namespace and name of the authentication ConfigMap extension API servers read. */
export const AUTHENTICATION_CONFIGMAP = {
  namespace: "kube-system",
  name: "extension-apiserver-authentication",
} as const;

/** A running stand-in. */
export interface KubeApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Cluster CA PEM: signs the serving certificate and client certificates (`client-ca-file`). */
  readonly caPem: string;
  /** The front-proxy CA and its `front-proxy-client` certificate (what kube-apiserver presents to aggregated servers). */
  readonly frontProxy: { caPem: string; client: CertificateAndKey };
  /** A bearer token authenticated as `system:admin` in group `system:masters` (allowed everything). */
  readonly adminToken: string;
  /**
   * Writes a kubeconfig (in the server's temp dir, removed by close) for a bearer token or a client certificate,
   * and returns its path. `namespace` sets the context's namespace.
   */
  kubeconfigFor(identity: KubeconfigIdentity, options?: { namespace?: string }): string;
  /** A client certificate from the cluster CA, authenticating as `commonName` in groups `organizations`. ~0.1 s. */
  issueClientCertificate(commonName: string, organizations?: string[]): CertificateAndKey;
  /**
   * Replaces every object of a resource (served in all its versions). Throws InvalidFixtureError for an unknown
   * resource, a namespace on a cluster-scoped one or a duplicate name. NB: the authentication ConfigMap lives among
   * `configmaps`, so replacing configmaps removes it unless it is in the list.
   */
  setObjects(resource: GroupResource, objects: readonly ObjectInput[]): void;
  /** Serves a new resource from now on (discovery included); a `custom` one also gets its CustomResourceDefinition object. */
  addResource(definition: ResourceDefinition): void;
  /** Replaces the token table that TokenReview and the stand-in's own authentication consult (the admin token stays). */
  setTokens(table: Record<string, TokenIdentity | "invalid">): void;
  /** Replaces the authorization rules (SubjectAccessReview answers and the stand-in's own callers). Default none. */
  setPolicy(rules: readonly PolicyRule[]): void;
  /**
   * Sets the data of ConfigMap kube-system/extension-apiserver-authentication, or deletes it with null. Default:
   * what kubeadm writes: `client-ca-file` (the cluster CA), `requestheader-client-ca-file` (the front-proxy CA),
   * allowed names `["front-proxy-client"]` and the X-Remote-User/Group/Extra- headers.
   */
  setAuthenticationConfigMap(data: Record<string, string> | null): void;
  /** Answers the next `times` (default 1) requests whose path starts with `pathPrefix` with a Status of `status`. */
  failNext(pathPrefix: string, status: number, times?: number): void;
  /** Every request received so far, oldest first. */
  requests(): RecordedRequest[];
  /** Forgets the recorded requests and reviews. */
  clearRequests(): void;
  /** The exact JSON bodies of the TokenReviews and SubjectAccessReviews received, oldest first. */
  reviews(): { tokenReviews: unknown[]; subjectAccessReviews: unknown[] };
  /** Stops the server and removes its temp dir. */
  close(): Promise<void>;
}

const CORE_CONFIGMAPS = { group: "", resource: "configmaps" };
const NAMESPACES = { group: "", resource: "namespaces" };
/** The namespaces every cluster starts with; seeded unless `namespaces` is not served. */
export const DEFAULT_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"];
const CRDS = { group: "apiextensions.k8s.io", resource: "customresourcedefinitions" };

/**
 * Starts a stand-in on a free 127.0.0.1 port. NB: it listens in this process on port 0, so the kernel picks a port no
 * one holds and the listening socket is ours; unlike a spawned server, nobody else can be answering on it.
 */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const now = options.now ?? (() => new Date());
  const pki = clusterPki();
  const tempDir = mkdtempSync(join(tmpdir(), "kube-apiserver-"));
  const state: StandInState = {
    definitions: [...(options.resources ?? DEFAULT_RESOURCES)],
    store: createObjectStore(now),
    tokens: new Map(),
    rules: [],
    faults: createFaultInjector(),
    requests: [],
    tokenReviews: [],
    subjectAccessReviews: [],
    adminToken: `admin-${crypto.randomUUID()}`,
    caPem: pki.clusterCa.certPem,
    serverAddress: "",
    now,
  };

  function definitionOf({ group, resource }: GroupResource): ResourceDefinition {
    const definition = state.definitions.find(
      (candidate) => candidate.group === group && candidate.resource === resource,
    );
    if (!definition)
      throw new InvalidFixtureError(`the stand-in does not serve ${resource}${group === "" ? "" : `.${group}`}`);
    return definition;
  }

  function setAuthenticationConfigMap(data: Record<string, string> | null): void {
    if (!state.definitions.some((definition) => definition.group === "" && definition.resource === "configmaps"))
      return;
    const { namespace, name } = AUTHENTICATION_CONFIGMAP;
    if (data === null) state.store.remove(CORE_CONFIGMAPS, namespace, name);
    else state.store.upsert(definitionOf(CORE_CONFIGMAPS), { name, namespace, data });
  }

  if (
    state.definitions.some(
      (definition) => definition.group === NAMESPACES.group && definition.resource === NAMESPACES.resource,
    )
  ) {
    state.store.replace(
      definitionOf(NAMESPACES),
      DEFAULT_NAMESPACES.map((name) => ({ name })),
    );
  }
  setAuthenticationConfigMap({
    "client-ca-file": pki.clusterCa.certPem,
    "requestheader-allowed-names": '["front-proxy-client"]',
    "requestheader-client-ca-file": pki.frontProxyCa.certPem,
    "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
    "requestheader-group-headers": '["X-Remote-Group"]',
    "requestheader-username-headers": '["X-Remote-User"]',
  });

  const server = await startHttpsServer({
    handle: createHandler(state),
    host: "127.0.0.1",
    port: 0,
    certPem: pki.serving.certPem,
    keyPem: pki.serving.keyPem,
    clientCaPems: [pki.clusterCa.certPem],
    onError: (error, source) => {
      if (source === "handler") console.error("kube-apiserver stand-in: handler failed:", error);
    },
  });
  state.serverAddress = `127.0.0.1:${server.port}`;
  const url = `https://127.0.0.1:${server.port}`;
  let kubeconfigCount = 0;

  return {
    url,
    port: server.port,
    caPem: pki.clusterCa.certPem,
    frontProxy: { caPem: pki.frontProxyCa.certPem, client: pki.frontProxyClient },
    adminToken: state.adminToken,
    kubeconfigFor(identity, kubeconfigOptions = {}) {
      kubeconfigCount += 1;
      return writeKubeconfig({
        directory: tempDir,
        fileName: `kubeconfig-${kubeconfigCount}.yaml`,
        server: url,
        caPem: pki.clusterCa.certPem,
        identity,
        ...(kubeconfigOptions.namespace ? { namespace: kubeconfigOptions.namespace } : {}),
      });
    },
    issueClientCertificate,
    setObjects(resource, objects) {
      state.store.replace(definitionOf(resource), objects);
    },
    addResource(definition) {
      const index = state.definitions.findIndex(
        (candidate) =>
          candidate.group === definition.group &&
          candidate.version === definition.version &&
          candidate.resource === definition.resource,
      );
      if (index >= 0) state.definitions[index] = definition;
      else state.definitions.push(definition);
      if (
        definition.custom &&
        state.definitions.some((candidate) => candidate.group === CRDS.group && candidate.resource === CRDS.resource)
      ) {
        state.store.upsert(definitionOf(CRDS), customResourceDefinitionObject(definition));
      }
    },
    setTokens(table) {
      state.tokens = new Map(Object.entries(table));
    },
    setPolicy(rules) {
      state.rules = [...rules];
    },
    setAuthenticationConfigMap,
    failNext(pathPrefix, status, times) {
      state.faults.failNext(pathPrefix, status, times);
    },
    requests() {
      return [...state.requests];
    },
    clearRequests() {
      state.requests.length = 0;
      state.tokenReviews.length = 0;
      state.subjectAccessReviews.length = 0;
    },
    reviews() {
      return { tokenReviews: [...state.tokenReviews], subjectAccessReviews: [...state.subjectAccessReviews] };
    },
    async close() {
      await server.close(1_000);
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** The CustomResourceDefinition object the apiextensions server would hold for `definition`. */
function customResourceDefinitionObject(definition: ResourceDefinition): ObjectInput {
  return {
    name: `${definition.resource}.${definition.group}`,
    spec: {
      group: definition.group,
      names: {
        plural: definition.resource,
        singular: definition.singular,
        ...(definition.shortNames ? { shortNames: definition.shortNames } : {}),
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        ...(definition.categories ? { categories: definition.categories } : {}),
      },
      scope: definition.namespaced ? "Namespaced" : "Cluster",
      versions: [{ name: definition.version, served: true, storage: true }],
    },
  };
}
