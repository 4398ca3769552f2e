import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateCertificateAuthority,
  generateSignedCertificate,
  type CertificateAndKey,
} from "../../src/server/certificates.ts";
import {
  AUTHENTICATION_CONFIGMAP,
  customResourceDefinition,
  delegatedAuthenticationRules,
  findKubectl,
  humanDuration,
  InvalidFixtureError,
  startKubeApiServer,
  runKubectl,
  type KubeApiServer,
  type TokenIdentity,
} from "./kube-apiserver.ts";
import { announceSkip, missingTool } from "./skip.ts";

setDefaultTimeout(30_000);

const PODS = { group: "", resource: "pods" };
const NODES = { group: "", resource: "nodes" };
const CONFIGMAPS = { group: "", resource: "configmaps" };
const HPAS = { group: "autoscaling", resource: "horizontalpodautoscalers" };
const WIDGETS = { group: "example.com", resource: "widgets" };
const NOW = new Date("2024-05-01T12:10:00Z");
const CREATED = "2024-05-01T12:00:05Z";
const METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const KUBECTL_TABLE_ACCEPT =
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const AGGREGATED_DISCOVERY_ACCEPT =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

const TOKENS: Record<string, TokenIdentity | "invalid"> = {
  "alice-token": { username: "alice", uid: "u-alice", groups: ["devs"], extra: { "example.com/team": ["a"] } },
  "carol-token": { username: "carol", audiences: ["https://other.example"] },
  "revoked-token": "invalid",
};

let server: KubeApiServer;
let bob: CertificateAndKey;

function seedPods(): void {
  server.setObjects(PODS, [
    { name: "podinfo-1", labels: { app: "podinfo", tier: "web" }, creationTimestamp: CREATED },
    { name: "podinfo-2", labels: { app: "podinfo" }, phase: "Pending", creationTimestamp: CREATED },
    { name: "web-0", labels: { app: "web" }, creationTimestamp: CREATED, spec: { nodeName: "n1" } },
    { name: "podinfo-3", namespace: "prod", labels: { app: "podinfo" }, creationTimestamp: CREATED },
  ]);
}

beforeAll(async () => {
  server = await startKubeApiServer({ now: () => NOW });
  bob = server.issueClientCertificate("bob", ["devs", "ops"]);
  seedPods();
  server.setObjects(NODES, [
    { name: "n1", labels: { role: "db" }, creationTimestamp: CREATED },
    { name: "n2", creationTimestamp: CREATED },
  ]);
  server.setTokens(TOKENS);
});

afterAll(async () => {
  await server?.close();
});

interface FetchOptions {
  token?: string | null;
  accept?: string;
  clientCert?: CertificateAndKey;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Calls the stand-in; the admin token unless `token` says otherwise (null: none). */
function call(
  path: string,
  { token, accept, clientCert, method = "GET", body, headers = {} }: FetchOptions = {},
): Promise<Response> {
  const bearer = token === undefined ? server.adminToken : token;
  return fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
      ...(accept ? { accept } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    tls: { ca: server.caPem, ...(clientCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}) },
  });
}

/** The response body parsed as JSON (typed loosely: tests assert on its shape). */
async function readJson(response: Response): Promise<any> {
  return response.json();
}

/** The response body text, checking it is JSON. */
async function jsonText(response: Response): Promise<string> {
  expect(response.headers.get("content-type")).toBe("application/json");
  return response.text();
}

/** Status JSON in Kubernetes' field order. */
function statusJson(code: number, message: string, reason: string, details?: Record<string, unknown>): string {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

const kubectl = findKubectl();
announceSkip(
  "the stand-in under the real kubectl",
  kubectl ? null : missingTool("kubectl", "not found (set KUBECTL_BIN or put it on PATH)"),
);

describe.skipIf(!kubectl)("the stand-in under the real kubectl", () => {
  let cacheDir: string;
  let admin: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), "kubectl-cache-"));
    admin = server.kubeconfigFor({ token: server.adminToken });
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));
  const run = (args: string[], kubeconfig = admin) => runKubectl(args, { binary: kubectl!, kubeconfig, cacheDir });

  test("get pods -l app=podinfo -o name prints the matching pods of the namespace", async () => {
    const result = await run(["get", "pods", "-n", "default", "-l", "app=podinfo", "-o", "name"]);
    expect(result).toMatchObject({ exitCode: 0, stdout: "pod/podinfo-1\npod/podinfo-2\n" });
  });

  test("get pods with a set-based selector and a field selector narrows the list", async () => {
    const result = await run([
      "get",
      "pods",
      "-l",
      "app in (podinfo,web),tier!=web",
      "--field-selector",
      "status.phase=Running",
      "-o",
      "name",
    ]);
    expect(result).toMatchObject({ exitCode: 0, stdout: "pod/web-0\n" });
  });

  test("get pods prints the server's table with NAME and AGE rows", async () => {
    const result = await run(["get", "pods", "-l", "app=podinfo"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n").map((line) => line.split(/\s+/).join(" "))).toEqual([
      "NAME AGE",
      "podinfo-1 9m55s",
      "podinfo-2 9m55s",
      "",
    ]);
  });

  test("get pods -A adds the namespace column from the rows' metadata", async () => {
    const result = await run(["get", "pods", "-A", "-l", "app=podinfo", "--no-headers"]);
    expect(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(/\s+/).slice(0, 2).join("/")),
    ).toEqual(["default/podinfo-1", "default/podinfo-2", "prod/podinfo-3"]);
  });

  test("get pods -o json parses and carries the objects", async () => {
    const result = await run(["get", "pods", "-n", "prod", "-o", "json"]);
    expect(result.exitCode).toBe(0);
    const list = JSON.parse(result.stdout);
    expect(list.items).toEqual([
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: expect.objectContaining({
          name: "podinfo-3",
          namespace: "prod",
          labels: { app: "podinfo" },
          creationTimestamp: CREATED,
        }),
        status: { phase: "Running" },
      },
    ]);
  });

  test("get --raw shows a PodList in Kubernetes' shape", async () => {
    const result = await run(["get", "--raw", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb"]);
    const list = JSON.parse(result.stdout);
    expect(Object.keys(list)).toEqual(["kind", "apiVersion", "metadata", "items"]);
    expect(list).toMatchObject({
      kind: "PodList",
      apiVersion: "v1",
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
    expect(Object.keys(list.items[0])).toEqual(["metadata", "spec", "status"]);
    expect(Object.keys(list.items[0].metadata)).toEqual([
      "name",
      "namespace",
      "uid",
      "resourceVersion",
      "creationTimestamp",
      "labels",
    ]);
  });

  test("get pod of a missing name reports the NotFound Status", async () => {
    const result = await run(["get", "pod", "missing"]);
    expect(result).toMatchObject({ exitCode: 1, stderr: 'Error from server (NotFound): pods "missing" not found\n' });
  });

  test("get namespaces lists the namespaces a cluster starts with", async () => {
    const result = await run([
      "get",
      "namespaces",
      "--no-headers",
      "-o",
      "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
    ]);
    expect(result.stdout.split("\n").map((line) => line.split(/\s+/).join(" "))).toEqual([
      "default Active",
      "kube-node-lease Active",
      "kube-public Active",
      "kube-system Active",
      "",
    ]);
  });

  test("get nodes lists the cluster-scoped nodes", async () => {
    const result = await run(["get", "nodes", "--no-headers"]);
    expect(result.stdout.split("\n").map((line) => line.split(/\s+/)[0])).toEqual(["n1", "n2", ""]);
  });

  test("api-resources lists pods and deployments, and a CRD once it is added", async () => {
    const before = await run(["api-resources", "--no-headers"]);
    const rows = before.stdout.split("\n").map((line) => line.split(/\s+/));
    expect(rows).toContainEqual(["pods", "po", "v1", "true", "Pod"]);
    expect(rows).toContainEqual(["deployments", "deploy", "apps/v1", "true", "Deployment"]);
    expect(before.stdout).not.toContain("widgets");

    server.addResource(
      customResourceDefinition({
        group: "example.com",
        version: "v1",
        plural: "widgets",
        kind: "Widget",
        namespaced: false,
        shortNames: ["wd"],
      }),
    );
    server.setObjects(WIDGETS, [{ name: "sprocket", spec: { size: 3 }, creationTimestamp: CREATED }]);
    const after = await run(["api-resources", "--api-group=example.com", "--no-headers"]);
    expect(after.stdout.split(/\s+/)).toEqual(["widgets", "wd", "example.com/v1", "false", "Widget", ""]);
  });

  test("get widgets serves the cluster-scoped custom resource, items keeping kind and apiVersion", async () => {
    const table = await run(["get", "widgets", "--no-headers"]);
    expect(table.stdout.split(/\s+/)).toEqual(["sprocket", "9m55s", ""]);
    const json = JSON.parse((await run(["get", "wd", "-o", "json"])).stdout);
    expect(json.items[0]).toMatchObject({ apiVersion: "example.com/v1", kind: "Widget", spec: { size: 3 } });
    const raw = JSON.parse((await run(["get", "--raw", "/apis/example.com/v1/widgets"])).stdout);
    expect(Object.keys(raw.items[0])).toEqual(["kind", "apiVersion", "metadata", "spec"]);
  });

  test("a user without RBAC gets kubectl's Forbidden error with Kubernetes' message", async () => {
    server.setPolicy([
      { users: ["alice"], verbs: ["get", "list"], apiGroups: [""], resources: ["pods"], namespaces: ["default"] },
    ]);
    const alice = server.kubeconfigFor({ token: "alice-token" });
    expect((await run(["get", "pods", "-o", "name", "-l", "app=web"], alice)).stdout).toBe("pod/web-0\n");
    const denied = await run(["get", "pods", "-n", "kube-system"], alice);
    expect(denied.stderr).toBe(
      'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"\n',
    );
    server.setPolicy([]);
  });

  test("auth can-i answers from the policy table, impersonating with --as", async () => {
    server.setPolicy([
      { users: ["alice"], verbs: ["list"], apiGroups: [""], resources: ["pods"], namespaces: ["default"] },
    ]);
    expect(await run(["auth", "can-i", "list", "pods", "--as", "alice"])).toMatchObject({
      exitCode: 0,
      stdout: "yes\n",
    });
    expect(await run(["auth", "can-i", "list", "pods", "--as", "alice", "-n", "prod"])).toMatchObject({
      exitCode: 1,
      stdout: "no\n",
    });
    server.setPolicy([]);
  });

  test("a client certificate kubeconfig authenticates as its CN and organizations", async () => {
    const result = await run(["auth", "whoami", "-o", "json"], server.kubeconfigFor({ clientCert: bob }));
    expect(JSON.parse(result.stdout).status.userInfo).toEqual({
      username: "bob",
      groups: ["devs", "ops", "system:authenticated"],
    });
  });

  test("a rejected token makes kubectl report Unauthorized", async () => {
    const result = await run(["get", "pods"], server.kubeconfigFor({ token: "revoked-token" }));
    expect(result).toMatchObject({
      exitCode: 1,
      stderr: "error: You must be logged in to the server (Unauthorized)\n",
    });
  });
});

describe("discovery", () => {
  test("/version is a kube-apiserver 1.32 build", async () => {
    expect(await readJson(await call("/version"))).toMatchObject({
      major: "1",
      minor: "32",
      gitVersion: "v1.32.3",
      platform: "linux/amd64",
    });
  });

  test("/api answers APIVersions with this server's address", async () => {
    expect(await jsonText(await call("/api"))).toBe(
      JSON.stringify({
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: `127.0.0.1:${server.port}` }],
      }),
    );
  });

  test("/apis answers the legacy APIGroupList as application/json even to the aggregated-discovery Accept", async () => {
    const response = await call("/apis", { accept: AGGREGATED_DISCOVERY_ACCEPT });
    const list = JSON.parse(await jsonText(response));
    expect(Object.keys(list)).toEqual(["kind", "apiVersion", "groups"]);
    const autoscaling = list.groups.find((group: { name: string }) => group.name === "autoscaling");
    expect(autoscaling).toEqual({
      name: "autoscaling",
      versions: [
        { groupVersion: "autoscaling/v2", version: "v2" },
        { groupVersion: "autoscaling/v1", version: "v1" },
      ],
      preferredVersion: { groupVersion: "autoscaling/v2", version: "v2" },
    });
    expect(list.groups.map((group: { name: string }) => group.name)).toEqual(
      expect.arrayContaining(["apps", "batch", "networking.k8s.io", "policy", "apiextensions.k8s.io"]),
    );
  });

  test("/api/v1 lists pods with its short name and category, and subresources the way Kubernetes does", async () => {
    const list = await readJson(await call("/api/v1"));
    expect(Object.keys(list)).toEqual(["kind", "groupVersion", "resources"]);
    const byName = new Map(list.resources.map((resource: { name: string }) => [resource.name, resource]));
    expect(JSON.stringify(byName.get("pods"))).toBe(
      JSON.stringify({
        name: "pods",
        singularName: "pod",
        namespaced: true,
        kind: "Pod",
        verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        shortNames: ["po"],
        categories: ["all"],
      }),
    );
    expect(byName.get("pods/status")).toEqual({
      name: "pods/status",
      singularName: "",
      namespaced: true,
      kind: "Pod",
      verbs: ["get", "patch", "update"],
    });
    expect(byName.get("nodes")).toMatchObject({ namespaced: false, shortNames: ["no"] });
    const names = list.resources.map((resource: { name: string }) => resource.name);
    expect(names.indexOf("pods/status")).toBe(names.indexOf("podtemplates") - 1);
  });

  test("/apis/apps/v1 lists deployments and its scale subresource in autoscaling/v1", async () => {
    const list = await readJson(await call("/apis/apps/v1"));
    expect(Object.keys(list)).toEqual(["kind", "apiVersion", "groupVersion", "resources"]);
    expect(list.resources).toContainEqual({
      name: "deployments/scale",
      singularName: "",
      namespaced: true,
      group: "autoscaling",
      version: "v1",
      kind: "Scale",
      verbs: ["get", "patch", "update"],
    });
  });

  test("an unknown group-version is a 404 Status", async () => {
    const response = await call("/apis/nothing.example/v1");
    expect(response.status).toBe(404);
    expect(await jsonText(response)).toBe(
      statusJson(404, "the server could not find the requested resource", "NotFound", {}),
    );
  });
});

describe("lists and gets", () => {
  test("a namespaced list keeps insertion order and leaves kind/apiVersion off built-in items", async () => {
    const list = await readJson(await call("/api/v1/namespaces/default/pods"));
    expect(list.items.map((item: { metadata: { name: string } }) => item.metadata.name)).toEqual([
      "podinfo-1",
      "podinfo-2",
      "web-0",
    ]);
    expect(list.items[0].kind).toBeUndefined();
  });

  test("a list across namespaces includes every namespace", async () => {
    const list = await readJson(await call("/api/v1/pods?labelSelector=app%3Dpodinfo"));
    expect(
      list.items.map(
        (item: { metadata: { namespace: string; name: string } }) => `${item.metadata.namespace}/${item.metadata.name}`,
      ),
    ).toEqual(["default/podinfo-1", "default/podinfo-2", "prod/podinfo-3"]);
  });

  test("a get returns the object with kind and apiVersion, fields in Go order", async () => {
    const text = await jsonText(await call("/api/v1/namespaces/default/pods/web-0"));
    const pod = JSON.parse(text);
    expect(Object.keys(pod)).toEqual(["kind", "apiVersion", "metadata", "spec", "status"]);
    expect(pod).toMatchObject({
      kind: "Pod",
      apiVersion: "v1",
      spec: { nodeName: "n1" },
      status: { phase: "Running" },
    });
    expect(pod.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test("the status subresource returns the object", async () => {
    expect((await readJson(await call("/api/v1/namespaces/default/pods/web-0/status"))).metadata.name).toBe("web-0");
  });

  test("a missing object is a NotFound Status with name and kind details", async () => {
    const response = await call("/api/v1/namespaces/default/pods/nope");
    expect(response.status).toBe(404);
    expect(await jsonText(response)).toBe(
      statusJson(404, 'pods "nope" not found', "NotFound", { name: "nope", kind: "pods" }),
    );
    const deployment = await call("/apis/apps/v1/namespaces/default/deployments/web");
    expect(JSON.parse(await deployment.text()).details).toEqual({ name: "web", group: "apps", kind: "deployments" });
  });

  test.each([
    { name: "an unknown resource", path: "/api/v1/namespaces/default/widgets" },
    { name: "a cluster-scoped resource under a namespace", path: "/api/v1/namespaces/default/nodes" },
    { name: "a namespaced object without its namespace", path: "/api/v1/pods/web-0" },
    { name: "a path outside the API", path: "/nothing/here" },
  ])("$name is a 404 Status", async ({ path }) => {
    const response = await call(path);
    expect(response.status).toBe(404);
    expect(await jsonText(response)).toBe(
      statusJson(404, "the server could not find the requested resource", "NotFound", {}),
    );
  });

  test("an object of a multi-version group shows the version it is read through", async () => {
    server.setObjects(HPAS, [{ name: "web", creationTimestamp: CREATED }]);
    expect(
      (await readJson(await call("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web"))).apiVersion,
    ).toBe("autoscaling/v2");
    expect(
      (await readJson(await call("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"))).apiVersion,
    ).toBe("autoscaling/v1");
  });

  test("a watch or a write is refused with MethodNotAllowed", async () => {
    const watch = await call("/api/v1/namespaces/default/pods?watch=true");
    expect(watch.status).toBe(405);
    const create = await call("/api/v1/namespaces/default/pods", { method: "POST", body: { metadata: { name: "x" } } });
    expect(await jsonText(create)).toBe(
      statusJson(405, 'create is not supported on resources of kind "pods"', "MethodNotAllowed", { kind: "pods" }),
    );
  });

  test("fixtures Kubernetes could not hold are rejected", () => {
    expect(() => server.setObjects(NODES, [{ name: "n1", namespace: "default" }])).toThrow(InvalidFixtureError);
    expect(() => server.setObjects({ group: "", resource: "gizmos" }, [])).toThrow(InvalidFixtureError);
    expect(() => server.setObjects(PODS, [{ name: "a" }, { name: "a" }])).toThrow(InvalidFixtureError);
  });
});

describe("selectors", () => {
  const names = async (query: string) =>
    (
      (await readJson(await call(`/api/v1/namespaces/default/pods?${query}`))).items as { metadata: { name: string } }[]
    ).map((item) => item.metadata.name);

  test.each([
    { name: "status.phase=Running", selector: "status.phase=Running", expected: ["podinfo-1", "web-0"] },
    { name: "status.phase==Pending", selector: "status.phase==Pending", expected: ["podinfo-2"] },
    { name: "metadata.name!=web-0", selector: "metadata.name!=web-0", expected: ["podinfo-1", "podinfo-2"] },
    { name: "metadata.namespace=prod", selector: "metadata.namespace=prod", expected: [] },
    { name: "spec.nodeName=n1", selector: "spec.nodeName=n1", expected: ["web-0"] },
    { name: "two terms", selector: "status.phase=Running,metadata.name=podinfo-1", expected: ["podinfo-1"] },
  ])("field selector $name", async ({ selector, expected }) => {
    expect(await names(`fieldSelector=${encodeURIComponent(selector)}`)).toEqual([...expected]);
  });

  test.each([
    { name: "equality", selector: "app=podinfo", expected: ["podinfo-1", "podinfo-2"] },
    { name: "inequality (absent keys match)", selector: "tier!=web", expected: ["podinfo-2", "web-0"] },
    { name: "set membership", selector: "app in (web,other)", expected: ["web-0"] },
    { name: "existence", selector: "tier", expected: ["podinfo-1"] },
    { name: "non-existence", selector: "!tier,app=podinfo", expected: ["podinfo-2"] },
  ])("label selector $name", async ({ selector, expected }) => {
    expect(await names(`labelSelector=${encodeURIComponent(selector)}`)).toEqual([...expected]);
  });

  test.each([
    {
      name: "an unknown pod field",
      resource: "pods",
      selector: "spec.foo=x",
      message: "field label not supported: spec.foo",
    },
    {
      name: "an unknown field of a type with the default conversion",
      resource: "configmaps",
      selector: "data.x=1",
      message: '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
    },
    {
      name: "a term without operator",
      resource: "pods",
      selector: "status.phase",
      message: "invalid selector: 'status.phase'; can't understand 'status.phase'",
    },
  ])("a field selector with $name is a 400 Status", async ({ resource, selector, message }) => {
    const response = await call(`/api/v1/namespaces/default/${resource}?fieldSelector=${encodeURIComponent(selector)}`);
    expect(response.status).toBe(400);
    expect(await jsonText(response)).toBe(statusJson(400, message, "BadRequest"));
  });

  test("a label selector that does not parse is a 400 Status", async () => {
    const response = await call(`/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent("a b")}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(await response.text())).toMatchObject({
      reason: "BadRequest",
      message: expect.stringContaining("unable to parse requirement"),
    });
  });
});

describe("representations", () => {
  test("as=PartialObjectMetadataList lists metadata only, items typed PartialObjectMetadata", async () => {
    const response = await call("/api/v1/namespaces/prod/pods", { accept: `${METADATA_LIST_ACCEPT},application/json` });
    const pod = JSON.parse(await (await call("/api/v1/namespaces/prod/pods/podinfo-3")).text());
    const list = JSON.parse(await jsonText(response));
    expect(JSON.stringify(list)).toBe(
      JSON.stringify({
        kind: "PartialObjectMetadataList",
        apiVersion: "meta.k8s.io/v1",
        metadata: { resourceVersion: list.metadata.resourceVersion },
        items: [{ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: pod.metadata }],
      }),
    );
  });

  test("as=PartialObjectMetadata gets one object's metadata", async () => {
    const body = await readJson(
      await call("/api/v1/nodes/n1", { accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1" }),
    );
    expect(body).toMatchObject({
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: { name: "n1", labels: { role: "db" } },
    });
  });

  test("as=PartialObjectMetadata on a list is NotAcceptable", async () => {
    const response = await call("/api/v1/nodes", {
      accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
    });
    expect(response.status).toBe(406);
    expect(await jsonText(response)).toBe(
      statusJson(
        406,
        "you requested PartialObjectMetadata, but the requested object is a list (*core.NodeList)",
        "NotAcceptable",
      ),
    );
  });

  test("a client accepting only protobuf is NotAcceptable", async () => {
    const response = await call("/api/v1/nodes", { accept: "application/vnd.kubernetes.protobuf" });
    expect(response.status).toBe(406);
    expect(JSON.parse(await response.text()).message).toBe(
      "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    );
  });

  test("as=Table answers kubectl's Accept with Name and Age columns and metadata row objects", async () => {
    const table = await readJson(await call("/api/v1/nodes", { accept: KUBECTL_TABLE_ACCEPT }));
    expect(table.kind).toBe("Table");
    expect(table.apiVersion).toBe("meta.k8s.io/v1");
    expect(
      table.columnDefinitions.map((column: { name: string; type: string }) => `${column.name}:${column.type}`),
    ).toEqual(["Name:string", "Age:date"]);
    expect(table.rows[0]).toEqual({
      cells: ["n1", "9m55s"],
      object: {
        kind: "PartialObjectMetadata",
        apiVersion: "meta.k8s.io/v1",
        metadata: expect.objectContaining({ name: "n1" }),
      },
    });
  });

  test.each([
    { milliseconds: -5_000, expected: "<invalid>" },
    { milliseconds: 0, expected: "0s" },
    { milliseconds: 119_000, expected: "119s" },
    { milliseconds: 595_000, expected: "9m55s" },
    { milliseconds: 600_000, expected: "10m" },
    { milliseconds: (3 * 60 + 5) * 60_000, expected: "3h5m" },
    { milliseconds: 47 * 3_600_000, expected: "47h" },
    { milliseconds: (3 * 24 + 2) * 3_600_000, expected: "3d2h" },
    { milliseconds: 400 * 86_400_000, expected: "400d" },
    { milliseconds: (2 * 365 + 10) * 86_400_000, expected: "2y10d" },
  ])("ages read like kubectl's: $milliseconds ms is $expected", ({ milliseconds, expected }) => {
    expect(humanDuration(milliseconds)).toBe(expected);
  });
});

describe("authentication and authorization of callers", () => {
  test("a request without credentials is a 401 Status", async () => {
    const response = await call("/api/v1/pods", { token: null });
    expect(response.status).toBe(401);
    expect(await jsonText(response)).toBe(statusJson(401, "Unauthorized", "Unauthorized"));
  });

  test.each([
    { name: "an unknown token", token: "who-knows" },
    { name: "a token marked invalid", token: "revoked-token" },
  ])("$name is a 401", async ({ token }) => {
    expect((await call("/version", { token })).status).toBe(401);
  });

  test("a client certificate from another CA is a 401", async () => {
    const now = new Date();
    const strangerCa = generateCertificateAuthority({ commonName: "stranger-ca", now });
    const stranger = generateSignedCertificate({
      ca: strangerCa,
      commonName: "mallory",
      usage: "client",
      validityDays: 1,
      now,
    });
    expect((await call("/version", { token: null, clientCert: stranger })).status).toBe(401);
  });

  test("a client certificate from the cluster CA authenticates and is recorded", async () => {
    server.clearRequests();
    server.setPolicy([{ groups: ["ops"], verbs: ["list"], resources: ["nodes"] }]);
    expect((await call("/api/v1/nodes?limit=5", { token: null, clientCert: bob })).status).toBe(200);
    expect(server.requests()).toEqual([
      {
        method: "GET",
        path: "/api/v1/nodes",
        query: { limit: "5" },
        headers: expect.objectContaining({ host: `127.0.0.1:${server.port}` }),
        body: undefined,
        identity: { username: "bob", groups: ["devs", "ops", "system:authenticated"], via: "certificate" },
        status: 200,
      },
    ]);
    server.setPolicy([]);
  });

  test("a user the policy does not allow gets the exact Forbidden Status", async () => {
    const response = await call("/api/v1/namespaces/default/pods", { token: "alice-token" });
    expect(response.status).toBe(403);
    expect(await jsonText(response)).toBe(
      statusJson(
        403,
        'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"',
        "Forbidden",
        {
          kind: "pods",
        },
      ),
    );
  });

  test("a named cluster-scoped get and a deny reason show in the Forbidden message", async () => {
    server.setPolicy([{ users: ["alice"], verbs: ["*"], effect: "deny", reason: "nodes are off limits" }]);
    const response = await call("/api/v1/nodes/n1", { token: "alice-token" });
    expect(JSON.parse(await response.text())).toMatchObject({
      message:
        'nodes "n1" is forbidden: User "alice" cannot get resource "nodes" in API group "" at the cluster scope: nodes are off limits',
      details: { name: "n1", kind: "nodes" },
    });
    server.setPolicy([]);
  });

  test("discovery is open to every authenticated user, other paths are not", async () => {
    expect((await call("/apis", { token: "alice-token" })).status).toBe(200);
    const response = await call("/metrics", { token: "alice-token" });
    expect(await jsonText(response)).toBe(
      statusJson(403, 'forbidden: User "alice" cannot get path "/metrics"', "Forbidden", {}),
    );
  });

  test("an extension API server's ServiceAccount with the delegated-authentication roles can do just its job", async () => {
    const adapter = "system:serviceaccount:monitoring:prom-adapter";
    server.setTokens({
      "adapter-token": { username: adapter, groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring"] },
    });
    server.setPolicy(delegatedAuthenticationRules({ users: [adapter] }));
    const token = "adapter-token";
    const configMap = `/api/v1/namespaces/kube-system/configmaps/${AUTHENTICATION_CONFIGMAP.name}`;
    expect((await call(configMap, { token })).status).toBe(200);
    const tokenReview = await call("/apis/authentication.k8s.io/v1/tokenreviews", {
      token,
      method: "POST",
      body: { spec: { token: "x" } },
    });
    expect(tokenReview.status).toBe(201);
    const otherConfigMap = await call("/api/v1/namespaces/kube-system/configmaps/kubeadm-config", { token });
    expect(JSON.parse(await otherConfigMap.text()).message).toBe(
      `configmaps "kubeadm-config" is forbidden: User "${adapter}" cannot get resource "configmaps" in API group "" in the namespace "kube-system"`,
    );
    server.setPolicy([]);
    server.setTokens(TOKENS);
  });

  test("impersonation needs the impersonate verb", async () => {
    const response = await call("/api/v1/namespaces/default/pods", {
      token: "alice-token",
      headers: { "impersonate-user": "system:admin" },
    });
    expect(JSON.parse(await response.text()).message).toBe(
      'users "system:admin" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
  });
});

describe("TokenReview", () => {
  const review = (token: string, audiences?: readonly string[]) =>
    call("/apis/authentication.k8s.io/v1/tokenreviews", {
      method: "POST",
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, ...(audiences ? { audiences } : {}) },
      },
    });

  test("a known token is authenticated with its user, system:authenticated added, and the API audience", async () => {
    server.clearRequests();
    const response = await review("alice-token");
    expect(response.status).toBe(201);
    expect(await jsonText(response)).toBe(
      JSON.stringify({
        kind: "TokenReview",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: { token: "alice-token" },
        status: {
          authenticated: true,
          user: {
            username: "alice",
            uid: "u-alice",
            groups: ["devs", "system:authenticated"],
            extra: { "example.com/team": ["a"] },
          },
          audiences: ["https://kubernetes.default.svc.cluster.local"],
        },
      }),
    );
    expect(server.reviews().tokenReviews).toEqual([
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "alice-token" } },
    ]);
  });

  test.each([
    {
      name: "an invalid token",
      token: "revoked-token",
      audiences: undefined,
      error: "[invalid bearer token, token lookup failed]",
    },
    {
      name: "an unknown token",
      token: "nobody",
      audiences: undefined,
      error: "[invalid bearer token, token lookup failed]",
    },
    {
      name: "a token for another audience",
      token: "carol-token",
      audiences: ["https://kubernetes.default.svc.cluster.local"],
      error:
        '[invalid bearer token, token audiences ["https://other.example"] is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]]',
    },
  ])("$name is not authenticated and says why", async ({ token, audiences, error }) => {
    const body = await readJson(await review(token, audiences));
    expect(body.status).toEqual({ user: {}, error });
  });

  test("the requested audience is echoed when the token has it", async () => {
    const body = await readJson(await review("carol-token", ["https://other.example"]));
    expect(body.spec).toEqual({ token: "carol-token", audiences: ["https://other.example"] });
    expect(body.status).toMatchObject({ authenticated: true, audiences: ["https://other.example"] });
  });
});

describe("SubjectAccessReview", () => {
  const review = (spec: Record<string, unknown>) =>
    call("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      method: "POST",
      body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
    });
  const hpa = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
  const resourceAttributes = {
    namespace: "default",
    verb: "get",
    group: "custom.metrics.k8s.io",
    version: "v1beta2",
    resource: "pods",
    subresource: "http_requests",
    name: "*",
  };

  test("an allowed request is answered with RBAC's reason and the spec echoed in Go order", async () => {
    server.clearRequests();
    server.setPolicy([
      {
        name: "hpa-metrics",
        users: [hpa],
        verbs: ["get", "list"],
        apiGroups: ["custom.metrics.k8s.io"],
        resources: ["*"],
      },
    ]);
    const spec = {
      user: hpa,
      groups: ["system:serviceaccounts", "system:authenticated"],
      uid: "u-1",
      extra: {},
      resourceAttributes,
    };
    const response = await review(spec);
    expect(response.status).toBe(201);
    expect(await jsonText(response)).toBe(
      JSON.stringify({
        kind: "SubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        metadata: { creationTimestamp: null },
        spec: { resourceAttributes, user: hpa, groups: ["system:serviceaccounts", "system:authenticated"], uid: "u-1" },
        status: {
          allowed: true,
          reason:
            'RBAC: allowed by ClusterRoleBinding "hpa-metrics" of ClusterRole "hpa-metrics" to ServiceAccount "horizontal-pod-autoscaler/kube-system"',
        },
      }),
    );
    expect(server.reviews().subjectAccessReviews).toEqual([
      { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
    ]);
    server.setPolicy([]);
  });

  test.each([
    { name: "no rule matches", rules: [], spec: { user: "alice", resourceAttributes }, status: { allowed: false } },
    {
      name: "a deny rule matches",
      rules: [{ users: ["alice"], verbs: ["*"], effect: "deny" as const, reason: "quarantined" }],
      spec: { user: "alice", resourceAttributes },
      status: { allowed: false, denied: true, reason: "quarantined" },
    },
    {
      name: "the group is system:masters",
      rules: [],
      spec: { user: "root", groups: ["system:masters"], resourceAttributes },
      status: { allowed: true },
    },
    {
      name: "a namespaced rule matches (RoleBinding reason)",
      rules: [{ name: "reader", groups: ["devs"], verbs: ["get"], namespaces: ["default"] }],
      spec: { user: "alice", groups: ["devs"], resourceAttributes },
      status: {
        allowed: true,
        reason: 'RBAC: allowed by RoleBinding "reader/default" of Role "reader" to Group "devs"',
      },
    },
    {
      name: "a non-resource path is under the bootstrap discovery role",
      rules: [],
      spec: {
        user: "system:kube-aggregator",
        groups: ["system:authenticated"],
        nonResourceAttributes: { path: "/apis/custom.metrics.k8s.io/v1beta2", verb: "get" },
      },
      status: {
        allowed: true,
        reason:
          'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
      },
    },
    {
      name: "a non-resource path outside every rule",
      rules: [],
      spec: {
        user: "alice",
        groups: ["system:authenticated"],
        nonResourceAttributes: { path: "/metrics", verb: "get" },
      },
      status: { allowed: false },
    },
  ])("answers when $name", async ({ rules, spec, status }) => {
    server.setPolicy(rules);
    expect((await readJson(await review(spec))).status).toEqual(status);
    server.setPolicy([]);
  });

  test("a review without user or groups is Invalid", async () => {
    const response = await review({ resourceAttributes });
    expect(response.status).toBe(422);
    expect(JSON.parse(await response.text())).toMatchObject({
      reason: "Invalid",
      message:
        'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified',
    });
  });
});

describe("the authentication ConfigMap", () => {
  const path = `/api/v1/namespaces/${AUTHENTICATION_CONFIGMAP.namespace}/configmaps/${AUTHENTICATION_CONFIGMAP.name}`;

  test("is what kubeadm writes by default: the cluster CA and the front-proxy settings", async () => {
    const configMap = await readJson(await call(path));
    expect(Object.keys(configMap)).toEqual(["kind", "apiVersion", "metadata", "data"]);
    expect(configMap.data).toEqual({
      "client-ca-file": server.caPem,
      "requestheader-allowed-names": '["front-proxy-client"]',
      "requestheader-client-ca-file": server.frontProxy.caPem,
      "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
      "requestheader-group-headers": '["X-Remote-Group"]',
      "requestheader-username-headers": '["X-Remote-User"]',
    });
  });

  test("can be replaced and removed", async () => {
    server.setAuthenticationConfigMap({ "client-ca-file": "pem" });
    expect((await readJson(await call(path))).data).toEqual({ "client-ca-file": "pem" });
    server.setAuthenticationConfigMap(null);
    const response = await call(path);
    expect(await jsonText(response)).toBe(
      statusJson(404, 'configmaps "extension-apiserver-authentication" not found', "NotFound", {
        name: "extension-apiserver-authentication",
        kind: "configmaps",
      }),
    );
    server.setAuthenticationConfigMap({ "client-ca-file": server.caPem });
    expect((await call(path)).status).toBe(200);
  });

  test("replacing configmaps keeps data keys sorted as Go writes maps", async () => {
    server.setObjects(CONFIGMAPS, [{ name: "settings", data: { zeta: "1", alpha: "2" } }]);
    expect(await (await call("/api/v1/namespaces/default/configmaps/settings")).text()).toContain(
      '"data":{"alpha":"2","zeta":"1"}',
    );
  });
});

describe("fault injection", () => {
  test("answers the next matching requests with a real Status, then serves again", async () => {
    server.failNext("/api/v1/namespaces/default/pods", 503, 2);
    const first = await call("/api/v1/namespaces/default/pods");
    expect(first.status).toBe(503);
    expect(await jsonText(first)).toBe(
      statusJson(503, "the server is currently unable to handle the request", "ServiceUnavailable", {}),
    );
    expect((await call("/api/v1/nodes")).status).toBe(200);
    expect((await call("/api/v1/namespaces/default/pods/web-0")).status).toBe(503);
    expect((await call("/api/v1/namespaces/default/pods")).status).toBe(200);
  });

  test("a 500 is an InternalError with its cause", async () => {
    server.failNext("/apis/authentication.k8s.io/v1/tokenreviews", 500);
    const response = await call("/apis/authentication.k8s.io/v1/tokenreviews", {
      method: "POST",
      body: { spec: { token: "alice-token" } },
    });
    expect(await jsonText(response)).toBe(
      statusJson(500, "Internal error occurred: injected fault", "InternalError", {
        causes: [{ message: "injected fault" }],
      }),
    );
  });
});
