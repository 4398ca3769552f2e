import { describe, expect, test } from "bun:test";
import { AmbiguousResourceError, UnknownResourceError } from "../apimachinery/rest-mapper.ts";
import { createMemoryLogger } from "../observability/logger.ts";
import { createDiscoveryRestMapper } from "./discovery-rest-mapper.ts";

const CORE = {
  kind: "APIResourceList",
  groupVersion: "v1",
  resources: [
    { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", shortNames: ["po"], verbs: ["get", "list"] },
    { name: "pods/status", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] },
    {
      name: "nodes",
      singularName: "node",
      namespaced: false,
      kind: "Node",
      shortNames: ["no"],
      verbs: ["get", "list"],
    },
    {
      name: "namespaces",
      singularName: "namespace",
      namespaced: false,
      kind: "Namespace",
      shortNames: ["ns"],
      verbs: ["get", "list"],
    },
  ],
};
const GROUPS = {
  kind: "APIGroupList",
  groups: [
    {
      name: "apps",
      versions: [{ groupVersion: "apps/v1", version: "v1" }],
      preferredVersion: { groupVersion: "apps/v1", version: "v1" },
    },
    {
      name: "custom.metrics.k8s.io",
      versions: [{ groupVersion: "custom.metrics.k8s.io/v1beta2", version: "v1beta2" }],
      preferredVersion: { groupVersion: "custom.metrics.k8s.io/v1beta2", version: "v1beta2" },
    },
    {
      name: "example.com",
      versions: [{ groupVersion: "example.com/v1", version: "v1" }],
      preferredVersion: { groupVersion: "example.com/v1", version: "v1" },
    },
  ],
};

function fakeDiscovery(documents: Record<string, unknown>) {
  const asked: string[] = [];
  return {
    asked,
    fetchDocument: async (path: string) => {
      asked.push(path);
      const document = documents[path];
      if (document === undefined) throw new Error(`GET ${path}: 503`);
      return document;
    },
  };
}

describe("the discovery REST mapper", () => {
  test("maps core and group resources with their scope, kind and preferred version", async () => {
    const discovery = fakeDiscovery({
      "/api/v1": CORE,
      "/apis": GROUPS,
      "/apis/apps/v1": {
        resources: [
          {
            name: "deployments",
            singularName: "deployment",
            namespaced: true,
            kind: "Deployment",
            shortNames: ["deploy"],
          },
        ],
      },
      "/apis/example.com/v1": { resources: [{ name: "widgets", singularName: "", namespaced: false, kind: "Widget" }] },
    });
    const mapper = createDiscoveryRestMapper({ fetchDocument: discovery.fetchDocument, logger: createMemoryLogger() });
    await mapper.refresh();
    const current = mapper.current();
    expect(current.resolve({ group: "", resource: "deploy" })).toMatchObject({
      group: "apps",
      version: "v1",
      kind: "Deployment",
      resource: "deployments",
      namespaced: true,
    });
    expect(current.resolve({ group: "", resource: "Widget" })).toMatchObject({
      group: "example.com",
      resource: "widgets",
      singular: "widget",
      namespaced: false,
    });
    expect(current.resolve({ group: "", resource: "po" }).resource).toBe("pods");
    expect(current.all().map((r) => r.resource)).toEqual(["pods", "nodes", "namespaces", "deployments", "widgets"]);
    expect(discovery.asked).not.toContain("/apis/custom.metrics.k8s.io/v1beta2");
  });

  test("a CRD that appears later is resolvable after the next refresh, and the generation moves", async () => {
    const documents: Record<string, unknown> = { "/api/v1": CORE, "/apis": { groups: [] } };
    const mapper = createDiscoveryRestMapper({
      fetchDocument: fakeDiscovery(documents).fetchDocument,
      logger: createMemoryLogger(),
    });
    await mapper.refresh();
    const before = mapper.current();
    expect(() => before.resolve({ group: "", resource: "widgets" })).toThrow(UnknownResourceError);
    await mapper.refresh();
    expect(mapper.current()).toBe(before);

    documents["/apis"] = { groups: [GROUPS.groups[2]] };
    documents["/apis/example.com/v1"] = {
      resources: [{ name: "widgets", singularName: "widget", namespaced: false, kind: "Widget" }],
    };
    await mapper.refresh();
    expect(mapper.current().generation).toBe(before.generation + 1);
    expect(mapper.current().resolve({ group: "example.com", resource: "widget" }).namespaced).toBe(false);
  });

  test("a group whose discovery fails is skipped with a warning; a failing core group fails the refresh", async () => {
    const logger = createMemoryLogger();
    const mapper = createDiscoveryRestMapper({
      fetchDocument: fakeDiscovery({ "/api/v1": CORE, "/apis": GROUPS }).fetchDocument,
      logger,
    });
    await mapper.refresh();
    expect(mapper.current().resolve({ group: "", resource: "pods" }).kind).toBe("Pod");
    expect(
      logger.lines.some((l) => l.includes("skipping an API group whose discovery failed") && l.includes("apps/v1")),
    ).toBe(true);

    const broken = createDiscoveryRestMapper({ fetchDocument: fakeDiscovery({}).fetchDocument, logger });
    expect(broken.refresh()).rejects.toThrow("GET /api/v1: 503");
  });

  test("a group-less name served by two non-core groups is refused as ambiguous", async () => {
    const mapper = createDiscoveryRestMapper({
      fetchDocument: fakeDiscovery({
        "/api/v1": CORE,
        "/apis": {
          groups: [
            { name: "extensions", preferredVersion: { groupVersion: "extensions/v1beta1" } },
            { name: "networking.k8s.io", preferredVersion: { groupVersion: "networking.k8s.io/v1" } },
          ],
        },
        "/apis/extensions/v1beta1": {
          resources: [{ name: "ingresses", singularName: "ingress", namespaced: true, kind: "Ingress" }],
        },
        "/apis/networking.k8s.io/v1": {
          resources: [{ name: "ingresses", singularName: "ingress", namespaced: true, kind: "Ingress" }],
        },
      }).fetchDocument,
      logger: createMemoryLogger(),
    });
    await mapper.refresh();
    expect(() => mapper.current().resolve({ group: "", resource: "ingress" })).toThrow(AmbiguousResourceError);
    expect(() => mapper.current().resolve({ group: "", resource: "ingress" })).toThrow(
      "matches ingresses.extensions, ingresses.networking.k8s.io",
    );
    expect(mapper.current().resolve({ group: "networking.k8s.io", resource: "ingress" }).version).toBe("v1");
  });
});
