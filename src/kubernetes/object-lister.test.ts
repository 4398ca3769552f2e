import { describe, expect, test } from "bun:test";
import { createMemoryLogger } from "../observability/logger.ts";
import { ApiError } from "../apimachinery/status.ts";
import { KubernetesHttpError } from "./errors.ts";
import { collectionPath, createObjectLister } from "./object-lister.ts";

const PODS = { group: "", version: "v1", kind: "Pod", resource: "pods", singular: "pod", namespaced: true };
const NODES = { group: "", version: "v1", kind: "Node", resource: "nodes", singular: "node", namespaced: false };
const DEPLOYMENTS = {
  group: "apps",
  version: "v1",
  kind: "Deployment",
  resource: "deployments",
  singular: "deployment",
  namespaced: true,
};

describe("object listing", () => {
  test.each([
    [PODS, "default", "/api/v1/namespaces/default/pods"],
    [NODES, undefined, "/api/v1/nodes"],
    [NODES, "ignored", "/api/v1/nodes"],
    [DEPLOYMENTS, "web", "/apis/apps/v1/namespaces/web/deployments"],
  ] as const)("%o in %p lists %s", (resource, namespace, path) => {
    expect(collectionPath(resource, namespace)).toBe(path);
  });

  test("names come back in LIST order and the selector is passed on", async () => {
    const asked: string[] = [];
    const lister = createObjectLister({
      logger: createMemoryLogger(),
      fetchCollection: async (path) => {
        asked.push(path);
        return Response.json({
          kind: "PartialObjectMetadataList",
          items: [{ metadata: { name: "b" } }, { metadata: { name: "a" } }],
        });
      },
    });
    expect(await lister.listNames(PODS, "default", "app in (web,api)")).toEqual(["b", "a"]);
    expect(asked).toEqual(["/api/v1/namespaces/default/pods?labelSelector=app+in+%28web%2Capi%29"]);
  });

  test("a bad selector is a 400 before anything is listed", async () => {
    let called = false;
    const lister = createObjectLister({
      logger: createMemoryLogger(),
      fetchCollection: async () => ((called = true), Response.json({})),
    });
    const error = await lister.listNames(PODS, "default", "a in (").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(400);
    expect(called).toBe(false);
  });

  test("a refused LIST is a 500 'unable to list matching resources' and the log says which RBAC is missing", async () => {
    const logger = createMemoryLogger();
    const lister = createObjectLister({
      logger,
      fetchCollection: async () => new Response('{"kind":"Status","code":403}', { status: 403 }),
    });
    const error = (await lister.listNames(PODS, "default", "").catch((e: unknown) => e)) as ApiError;
    expect([error.code, error.message]).toEqual([500, "Internal error occurred: unable to list matching resources"]);
    expect(
      logger.lines.some(
        (l) => l.includes("listing pods failed with 403") && l.includes("grant the adapter's ServiceAccount list"),
      ),
    ).toBe(true);
    expect(error.cause).toBeInstanceOf(KubernetesHttpError);
    expect((error.cause as KubernetesHttpError).status).toBe(403);
  });
});
