/**
 * prom-adapter's Kubernetes client layer against the kube-apiserver stand-in over real TLS with a private CA:
 * client-node's typed API classes through the Bun-fetch HTTP library, the discovery REST mapper (and a CRD added
 * later), and metadata-only object listing with every label selector operator.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { createDiscoveryRestMapper, kubeDiscoveryFetcher } from "../../src/kubernetes/discovery-rest-mapper.ts";
import { createApiConfiguration } from "../../src/kubernetes/kube-http.ts";
import { loadKubeConfig } from "../../src/kubernetes/kube-config.ts";
import { createObjectLister, kubeCollectionFetcher } from "../../src/kubernetes/object-lister.ts";
import { createMemoryLogger } from "../../src/observability/logger.ts";
import type { ApiError } from "../../src/apimachinery/status.ts";
import { customResourceDefinition } from "../support/kube-apiserver/default-resources.ts";
import { startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";

setDefaultTimeout(30_000);

let cluster: KubeApiServer;
beforeAll(async () => {
  cluster = await startKubeApiServer();
  cluster.setObjects({ group: "", resource: "pods" }, [
    { name: "web-0", namespace: "default", labels: { app: "web", tier: "front" } },
    { name: "api-0", namespace: "default", labels: { app: "api", tier: "back" } },
    { name: "web-1", namespace: "default", labels: { app: "web", canary: "true" } },
    { name: "db-0", namespace: "default", labels: { app: "db" } },
    { name: "web-other", namespace: "other", labels: { app: "web" } },
  ]);
});
afterAll(async () => cluster?.close());

const adminConfig = () => loadKubeConfig({ file: cluster.kubeconfigFor({ token: cluster.adminToken }) });

describe("the Kubernetes client layer against a cluster with a private CA", () => {
  test("client-node's typed API classes work through the Bun-fetch HTTP library", async () => {
    const core = new CoreV1Api(createApiConfiguration(adminConfig()));
    const configMap = await core.readNamespacedConfigMap({
      namespace: "kube-system",
      name: "extension-apiserver-authentication",
    });
    expect(configMap.data?.["requestheader-client-ca-file"]).toContain("BEGIN CERTIFICATE");
  });

  test("client certificates from the kubeconfig authenticate", async () => {
    const certificate = cluster.issueClientCertificate("system:admin", ["system:masters"]);
    const config = loadKubeConfig({ file: cluster.kubeconfigFor({ clientCert: certificate }) });
    const core = new CoreV1Api(createApiConfiguration(config));
    const list = await core.listNamespacedPod({ namespace: "default" });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(["web-0", "api-0", "web-1", "db-0"]);
    expect(
      cluster.requests().some((r) => r.identity?.via === "certificate" && r.identity.username === "system:admin"),
    ).toBe(true);
  });

  test("the REST mapper comes from discovery and picks up a CRD after a refresh", async () => {
    const mapper = createDiscoveryRestMapper({
      fetchDocument: kubeDiscoveryFetcher(adminConfig()),
      logger: createMemoryLogger(),
    });
    await mapper.refresh();
    expect(mapper.current().resolve({ group: "", resource: "deploy" })).toMatchObject({
      group: "apps",
      version: "v1",
      kind: "Deployment",
    });
    expect(mapper.current().resolve({ group: "", resource: "nodes" }).namespaced).toBe(false);
    expect(() => mapper.current().resolve({ group: "", resource: "widgets" })).toThrow('"widgets"');

    cluster.addResource(
      customResourceDefinition({
        group: "example.com",
        version: "v1",
        kind: "Widget",
        plural: "widgets",
        namespaced: false,
      }),
    );
    await mapper.refresh();
    expect(mapper.current().resolve({ group: "", resource: "widget" })).toMatchObject({
      group: "example.com",
      resource: "widgets",
      namespaced: false,
    });
  });

  test.each([
    ["", ["web-0", "api-0", "web-1", "db-0"]],
    ["app=web", ["web-0", "web-1"]],
    ["app==web", ["web-0", "web-1"]],
    ["app!=web", ["api-0", "db-0"]],
    ["app in (api,db)", ["api-0", "db-0"]],
    ["app notin (web)", ["api-0", "db-0"]],
    ["canary", ["web-1"]],
    ["!canary", ["web-0", "api-0", "db-0"]],
    ["app=web,tier=front", ["web-0"]],
    ["app=nothing", []],
  ])("labelSelector %p lists %p in LIST order", async (selector, names) => {
    const lister = createObjectLister({
      fetchCollection: kubeCollectionFetcher(adminConfig()),
      logger: createMemoryLogger(),
    });
    const pods = { group: "", version: "v1", kind: "Pod", resource: "pods", singular: "pod", namespaced: true };
    expect(await lister.listNames(pods, "default", selector)).toEqual(names);
    const last = cluster.requests().at(-1);
    expect(last?.headers?.accept ?? last?.headers?.Accept).toContain("as=PartialObjectMetadataList");
  });

  test("a LIST the adapter may not make is a 500 that names no detail", async () => {
    const config = loadKubeConfig({ file: cluster.kubeconfigFor({ token: "no-rbac-token" }) });
    cluster.setTokens({
      "no-rbac-token": {
        username: "system:serviceaccount:custom-metrics:prom-adapter",
        groups: ["system:serviceaccounts"],
      },
    });
    const logger = createMemoryLogger();
    const lister = createObjectLister({ fetchCollection: kubeCollectionFetcher(config), logger });
    const pods = { group: "", version: "v1", kind: "Pod", resource: "pods", singular: "pod", namespaced: true };
    const error = (await lister.listNames(pods, "default", "").catch((e: unknown) => e)) as ApiError;
    expect([error.code, error.message]).toEqual([500, "Internal error occurred: unable to list matching resources"]);
    expect(logger.lines.join("\n")).toContain("listing pods failed with 403");
  });
});
