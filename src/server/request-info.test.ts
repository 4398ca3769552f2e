import { describe, expect, test } from "bun:test";
import { BadRequestError } from "../apimachinery/status.ts";
import { requestAttributesOf, type RequestAttributes } from "./request-info.ts";

const CM = "/apis/custom.metrics.k8s.io";
const EM = "/apis/external.metrics.k8s.io/v1beta1";
const RM = "/apis/metrics.k8s.io/v1beta1";

function resource(fields: Partial<Omit<Extract<RequestAttributes, { kind: "resource" }>, "kind">>): RequestAttributes {
  return {
    kind: "resource",
    verb: "get",
    group: "",
    version: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
    ...fields,
  };
}

function path(pathText: string, verb = "get"): RequestAttributes {
  return { kind: "nonResource", verb, path: pathText };
}

function attributesOf(target: string, method = "GET"): RequestAttributes {
  return requestAttributesOf(method, new URL(`https://127.0.0.1:6443${target}`));
}

describe("requestAttributesOf: k8s.io/apiserver's RequestInfoFactory on our routes", () => {
  test.each([
    { name: "D1 /apis", target: "/apis", expected: path("/apis") },
    { name: "D2 /apis/<group>", target: `${CM}`, expected: path(CM) },
    { name: "D3 /apis/<group>/<version>", target: `${CM}/v1beta2`, expected: path(`${CM}/v1beta2`) },
    { name: "D3 with a trailing slash", target: `${CM}/v1beta1/`, expected: path(`${CM}/v1beta1/`) },
    { name: "D3 of external metrics", target: EM, expected: path(EM) },
    { name: "healthz", target: "/healthz", expected: path("/healthz") },
    { name: "livez", target: "/livez", expected: path("/livez") },
    { name: "readyz with verbose", target: "/readyz?verbose", expected: path("/readyz") },
    { name: "metrics", target: "/metrics", expected: path("/metrics") },
    { name: "openapi v2", target: "/openapi/v2", expected: path("/openapi/v2") },
    {
      name: "openapi v3 of a group-version",
      target: "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2?hash=AB",
      expected: path("/openapi/v3/apis/custom.metrics.k8s.io/v1beta2"),
    },
    { name: "version", target: "/version", expected: path("/version") },
    { name: "the root", target: "/", expected: path("/") },
    {
      name: "C1 a cluster-scoped object list",
      target: `${CM}/v1beta1/nodes/*/m`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta1",
        resource: "nodes",
        subresource: "m",
        name: "*",
      }),
    },
    {
      name: "C1 with %2A",
      target: `${CM}/v1beta2/persistentvolumes/%2A/disk_used`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        resource: "persistentvolumes",
        subresource: "disk_used",
        name: "*",
      }),
    },
    {
      name: "C1 a named node",
      target: `${CM}/v1beta2/nodes/node-1/m`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        resource: "nodes",
        subresource: "m",
        name: "node-1",
      }),
    },
    {
      name: "C2 namespaced pods as the HPA asks",
      target: `${CM}/v1beta2/namespaces/default/pods/%2A/http_requests?labelSelector=app%3Dweb`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "default",
        resource: "pods",
        subresource: "http_requests",
        name: "*",
      }),
    },
    {
      name: "C2 a resource with its group",
      target: `${CM}/v1beta1/namespaces/ns/deployments.apps/web/m`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta1",
        namespace: "ns",
        resource: "deployments.apps",
        subresource: "m",
        name: "web",
      }),
    },
    {
      name: "C3 metrics about a namespace (before the namespace rewrite)",
      target: `${CM}/v1beta2/namespaces/ns/metrics/queue_length`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "ns",
        resource: "metrics",
        name: "queue_length",
      }),
    },
    {
      name: "C3 for every namespace",
      target: `${CM}/v1beta2/namespaces/%2A/metrics/m`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "*",
        resource: "metrics",
        name: "m",
      }),
    },
    {
      name: "E1 an external metric",
      target: `${EM}/namespaces/ns/queue_messages_ready?labelSelector=queue%3Dworker`,
      expected: resource({
        verb: "list",
        group: "external.metrics.k8s.io",
        version: "v1beta1",
        namespace: "ns",
        resource: "queue_messages_ready",
      }),
    },
    {
      name: "R1 node list",
      target: `${RM}/nodes`,
      expected: resource({ verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "nodes" }),
    },
    {
      name: "R2 one node",
      target: `${RM}/nodes/n1`,
      expected: resource({ group: "metrics.k8s.io", version: "v1beta1", resource: "nodes", name: "n1" }),
    },
    {
      name: "R3 pods of all namespaces",
      target: `${RM}/pods`,
      expected: resource({ verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "pods" }),
    },
    {
      name: "R4 pods of a namespace",
      target: `${RM}/namespaces/kube-system/pods?labelSelector=k8s-app%3Ddns`,
      expected: resource({
        verb: "list",
        group: "metrics.k8s.io",
        version: "v1beta1",
        namespace: "kube-system",
        resource: "pods",
      }),
    },
    {
      name: "R5 one pod",
      target: `${RM}/namespaces/kube-system/pods/coredns-1`,
      expected: resource({
        group: "metrics.k8s.io",
        version: "v1beta1",
        namespace: "kube-system",
        resource: "pods",
        name: "coredns-1",
      }),
    },
  ])("$name", ({ target, expected }) => {
    expect(attributesOf(target)).toEqual(expected);
  });
});

describe("requestAttributesOf: k8s request-info edge cases", () => {
  test.each([
    {
      name: "a custom path with only a namespace and metric is resource = the metric (what the 400 route is authorized as)",
      target: `${CM}/v1beta2/namespaces/ns/metricname`,
      expected: resource({
        verb: "list",
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "ns",
        resource: "metricname",
      }),
    },
    {
      name: "namespaces/<ns> alone is the Namespace object",
      target: `${CM}/v1beta2/namespaces/ns`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "ns",
        resource: "namespaces",
        name: "ns",
      }),
    },
    {
      name: "namespaces/<ns>/status is the Namespace's subresource",
      target: "/api/v1/namespaces/ns/status",
      expected: resource({ version: "v1", namespace: "ns", resource: "namespaces", subresource: "status", name: "ns" }),
    },
    {
      name: "the namespace list",
      target: `${CM}/v1beta2/namespaces`,
      expected: resource({ verb: "list", group: "custom.metrics.k8s.io", version: "v1beta2", resource: "namespaces" }),
    },
    {
      name: "the core group has no group segment",
      target: "/api/v1/nodes",
      expected: resource({ verb: "list", version: "v1", resource: "nodes" }),
    },
    { name: "/api/v1 is a path", target: "/api/v1", expected: path("/api/v1") },
    {
      name: "segments after the subresource are ignored",
      target: `${CM}/v1beta2/namespaces/ns/pods/p/m/extra`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "ns",
        resource: "pods",
        subresource: "m",
        name: "p",
      }),
    },
    {
      name: "watch=true turns a list into a watch",
      target: `${RM}/pods?watch=true`,
      expected: resource({ verb: "watch", group: "metrics.k8s.io", version: "v1beta1", resource: "pods" }),
    },
    {
      name: "watch with any value but false or 0 is a watch",
      target: `${RM}/pods?watch=yes`,
      expected: resource({ verb: "watch", group: "metrics.k8s.io", version: "v1beta1", resource: "pods" }),
    },
    {
      name: "watch=false stays a list",
      target: `${RM}/pods?watch=False`,
      expected: resource({ verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "pods" }),
    },
    {
      name: "watch does not change a get",
      target: `${RM}/nodes/n1?watch=true`,
      expected: resource({ group: "metrics.k8s.io", version: "v1beta1", resource: "nodes", name: "n1" }),
    },
    {
      name: "a /watch/ path segment is the watch verb",
      target: `${RM}/watch/namespaces/ns/pods`,
      expected: resource({
        verb: "watch",
        group: "metrics.k8s.io",
        version: "v1beta1",
        namespace: "ns",
        resource: "pods",
      }),
    },
    {
      name: "a list narrowed by fieldSelector metadata.name is still a list of every name",
      target: `${RM}/namespaces/ns/pods?fieldSelector=metadata.name%3Dweb-1`,
      expected: resource({
        verb: "list",
        group: "metrics.k8s.io",
        version: "v1beta1",
        namespace: "ns",
        resource: "pods",
      }),
    },
    {
      name: "an external metric list with a fieldSelector is still a list of every name",
      target: `${EM}/namespaces/ns/m?fieldSelector=metadata.name%3Dx`,
      expected: resource({
        verb: "list",
        group: "external.metrics.k8s.io",
        version: "v1beta1",
        namespace: "ns",
        resource: "m",
      }),
    },
    {
      name: "an encoded slash stays inside its segment, as the router reads it",
      target: `${CM}/v1beta2/namespaces/a%2Fb/pods/p/m`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "a/b",
        resource: "pods",
        subresource: "m",
        name: "p",
      }),
    },
    {
      name: "percent-decoding happens once",
      target: `${CM}/v1beta2/namespaces/ns/pods/%252A/m`,
      expected: resource({
        group: "custom.metrics.k8s.io",
        version: "v1beta2",
        namespace: "ns",
        resource: "pods",
        subresource: "m",
        name: "%2A",
      }),
    },
    {
      name: "an encoded prefix is still the API prefix",
      target: "/%61pis/metrics.k8s.io/v1beta1/nodes",
      expected: resource({ verb: "list", group: "metrics.k8s.io", version: "v1beta1", resource: "nodes" }),
    },
    { name: "a non-resource path is decoded", target: "/open%61pi/v2", expected: path("/openapi/v2") },
    { name: "dot segments are resolved by URL parsing", target: "/apis/../metrics", expected: path("/metrics") },
  ])("$name", ({ target, expected }) => {
    expect(attributesOf(target)).toEqual(expected);
  });

  test.each([
    { method: "POST", verb: "create" },
    { method: "PUT", verb: "update" },
    { method: "PATCH", verb: "patch" },
    { method: "DELETE", verb: "delete" },
    { method: "HEAD", verb: "get" },
    { method: "OPTIONS", verb: "" },
  ])("method $method on a named resource is verb '$verb'", ({ method, verb }) => {
    expect(attributesOf(`${RM}/nodes/n1`, method)).toEqual(
      resource({ verb, group: "metrics.k8s.io", version: "v1beta1", resource: "nodes", name: "n1" }),
    );
  });

  test("DELETE without a name is deletecollection", () => {
    expect(attributesOf(`${RM}/nodes`, "DELETE")).toMatchObject({ verb: "deletecollection" });
  });

  test("a non-resource verb is the lower-cased method", () => {
    expect(attributesOf("/metrics", "POST")).toEqual(path("/metrics", "post"));
  });

  test.each([
    { name: "an invalid escape in a segment", target: `${CM}/v1beta2/namespaces/ns/pods/%zz/m` },
    { name: "an invalid escape in a plain path", target: "/metrics%zz" },
    { name: "a watch path that names nothing", target: `${RM}/watch` },
  ])("rejects $name with 400 invalid request path", ({ target }) => {
    expect(() => attributesOf(target)).toThrow(new BadRequestError("invalid request path"));
  });
});
