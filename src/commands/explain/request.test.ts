import { describe, expect, test } from "bun:test";
import { UsageError } from "../environment.ts";
import { parseExplainPath } from "./request.ts";

describe("parseExplainPath", () => {
  test("reads a custom metrics path the HPA sends, with an unencoded * and labelSelector", () => {
    expect(
      parseExplainPath(
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app=podinfo",
      ),
    ).toEqual({
      pathAndQuery:
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app=podinfo",
      refusal: null,
      request: {
        api: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "default",
        resource: "pods",
        name: "*",
        metric: "http_requests",
        labelSelector: "app=podinfo",
        metricLabelSelector: "",
      },
    });
  });

  test.each([
    [
      "a cluster-scoped object",
      "/apis/custom.metrics.k8s.io/v1beta1/nodes/node-1/load?metricLabelSelector=a%3Db",
      { namespace: undefined, resource: "nodes", name: "node-1", metric: "load", metricLabelSelector: "a=b" },
    ],
    [
      "a namespace's own metric",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/metrics/queue",
      { namespace: undefined, resource: "namespaces", name: "team-a", metric: "queue" },
    ],
    [
      "a percent-encoded wildcard",
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/%2A/x",
      { namespace: "default", name: "*" },
    ],
    [
      "a full URL",
      "https://127.0.0.1:6443/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/p/x",
      { namespace: "default", name: "p", metric: "x" },
    ],
  ])("reads %s", (_name, path, expected) => {
    expect(parseExplainPath(path).request).toMatchObject(expected);
  });

  test("reads an external metrics path with its series labelSelector", () => {
    expect(
      parseExplainPath(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue%3Dorders",
      ).request,
    ).toEqual({
      api: "external.metrics.k8s.io",
      version: "v1beta1",
      namespace: "default",
      resource: undefined,
      name: undefined,
      metric: "queue_depth",
      labelSelector: "queue=orders",
      metricLabelSelector: "",
    });
  });

  test.each([
    ["an unknown custom metrics version", "/apis/custom.metrics.k8s.io/v2/namespaces/default/pods/*/x", 404],
    ["too many segments", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/x/y", 404],
    ["a namespaced path without a metric", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/x", 400],
    [
      "the cluster-scoped external form, which does not exist",
      "/apis/external.metrics.k8s.io/v1beta1/queue_depth",
      404,
    ],
  ])("records the server's refusal of %s", (_name, path, code) => {
    const target = parseExplainPath(path);
    expect(target.request).toBeNull();
    expect(target.refusal?.code).toBe(code);
  });

  test.each([
    [
      "nodes (kubectl top nodes)",
      "/apis/metrics.k8s.io/v1beta1/nodes",
      { resource: "nodes", namespace: undefined, name: undefined },
    ],
    [
      "one node",
      "/apis/metrics.k8s.io/v1beta1/nodes/node-1",
      { resource: "nodes", namespace: undefined, name: "node-1" },
    ],
    [
      "pods of every namespace",
      "/apis/metrics.k8s.io/v1beta1/pods",
      { resource: "pods", namespace: undefined, name: undefined },
    ],
    [
      "pods of a namespace with selectors",
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods?labelSelector=app%3Dweb&fieldSelector=metadata.name%3Dweb-0",
      {
        resource: "pods",
        namespace: "shop",
        name: undefined,
        labelSelector: "app=web",
        fieldSelector: "metadata.name=web-0",
      },
    ],
    [
      "one pod",
      "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/web-0",
      { resource: "pods", namespace: "shop", name: "web-0", labelSelector: "", fieldSelector: "" },
    ],
  ])("reads the metrics.k8s.io path of %s", (_name, path, expected) => {
    const target = parseExplainPath(path);
    expect(target.request).toBeNull();
    expect(target.refusal).toBeNull();
    expect(target.resource).toMatchObject({ api: "metrics.k8s.io", version: "v1beta1", ...expected });
  });

  test.each([
    ["another version", "/apis/metrics.k8s.io/v1/nodes"],
    ["another resource", "/apis/metrics.k8s.io/v1beta1/namespaces/shop/deployments"],
    ["too many segments", "/apis/metrics.k8s.io/v1beta1/nodes/a/b"],
  ])("records the server's 404 for a metrics.k8s.io path with %s", (_name, path) => {
    const target = parseExplainPath(path);
    expect(target.resource).toBeUndefined();
    expect(target.refusal?.code).toBe(404);
  });

  test.each([
    ["another API group", "/apis/apps/v1/namespaces/default/deployments"],
    ["the metrics.k8s.io resource list", "/apis/metrics.k8s.io/v1beta1"],
    ["a resource list", "/apis/custom.metrics.k8s.io/v1beta2"],
    ["a group document", "/apis/external.metrics.k8s.io/v1beta1"],
    ["a health path", "/healthz"],
  ])("refuses %s as a usage error", (_name, path) => {
    expect(() => parseExplainPath(path)).toThrow(UsageError);
  });
});
