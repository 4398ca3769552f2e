/**
 * Issue 11 findings 3 and 4, and a differential property test: for thousands of generated paths and queries, the
 * attributes authorization sees (`requestAttributesOf`, what goes into the SubjectAccessReview) equal what the
 * handler served, or the answer is a 4xx and nothing was served. "Served" is a call into a provider; the fakes below
 * record each call as the attributes it stands for.
 */
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/observability/logger.ts";
import { NotFoundError } from "../../src/apimachinery/status.ts";
import { buildMetricRegistry } from "../../src/discovery/registry.ts";
import { createApp } from "../../src/app/compose.ts";
import { requestAttributesOf, type RequestAttributes } from "../../src/server/request-info.ts";
import { createRandom } from "../support/go-strings.ts";

/** The part of the authorization attributes a provider call determines. */
interface Served {
  verb: "get" | "list";
  group: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const served: Served[] = [];
const CUSTOM = "custom.metrics.k8s.io";
const EXTERNAL = "external.metrics.k8s.io";
const RESOURCE = "metrics.k8s.io";
type Row = [
  verb: Served["verb"],
  group: string,
  namespace: string,
  resource: string,
  subresource: string,
  name: string,
];
/** Records a provider call as the attributes it stands for. */
function serve(...[verb, group, namespace, resource, subresource, name]: Row) {
  served.push({ verb, group, namespace, resource, subresource, name });
}
const { registry } = buildMetricRegistry([], []);
const notFound = () => new NotFoundError("the fake provider has no such object");
const app = createApp({
  logger: silentLogger,
  readiness: () => null,
  selfMetrics: { text: async () => "", contentType: "text/plain" },
  customMetrics: () => ({
    registry: () => registry,
    provider: {
      getValues: async ({ writtenResource, namespace, name, metric }) => {
        // `namespaces/<ns>/metrics/<metric>` (the Namespace's own metric) is authorized as Kubernetes reads the path.
        const namespaceMetric = writtenResource === "namespaces" && namespace === undefined;
        if (namespaceMetric) serve("get", CUSTOM, name, "metrics", "", metric);
        else serve("get", CUSTOM, namespace ?? "", writtenResource, metric, name);
        return [];
      },
    },
  }),
  externalMetrics: () => ({
    registry: () => registry,
    provider: {
      getValues: async ({ namespace, metric }) => {
        serve("list", EXTERNAL, namespace, metric, "", "");
        return [];
      },
    },
  }),
  resourceMetrics: () => ({
    provider: {
      listPods: async (namespace) => {
        serve("list", RESOURCE, namespace ?? "", "pods", "", "");
        return [];
      },
      getPod: async (namespace, name) => {
        serve("get", RESOURCE, namespace, "pods", "", name);
        throw notFound();
      },
      listNodes: async () => {
        serve("list", RESOURCE, "", "nodes", "", "");
        return [];
      },
      getNode: async (name) => {
        serve("get", RESOURCE, "", "nodes", "", name);
        throw notFound();
      },
    },
  }),
});

const PREFIXES = [
  ["apis", "custom.metrics.k8s.io", "v1beta2"],
  ["apis", "custom.metrics.k8s.io", "v1beta1"],
  ["apis", "external.metrics.k8s.io", "v1beta1"],
  ["apis", "metrics.k8s.io", "v1beta1"],
];
const SEGMENTS = [
  "namespaces",
  "default",
  "kube-system",
  "metrics",
  "status",
  "finalize",
  "pods",
  "nodes",
  "node-1",
  "web-0",
  "*",
  "watch",
  "proxy",
  "proxies",
  "http_requests",
  "deployments.apps",
  "services",
  "",
  "%2A",
  "%2F",
  "%77atch",
  "..",
];
const WATCH_VALUES = ["true", "TRUE", "True", "yes", "on", "1", "0", "false", "False", "FALSE", "", "no", "falſe"];

/** The comparable part of authorization attributes, in a fixed key order; "non-resource" or "invalid" otherwise. */
function canonical(attributes: RequestAttributes | Served | undefined): string {
  if (attributes === undefined) return "invalid";
  if ("kind" in attributes && attributes.kind === "nonResource") return "non-resource";
  const { verb, group, namespace, resource, subresource, name } = attributes as Served;
  return JSON.stringify({ verb, group, namespace, resource, subresource, name });
}

describe("one request reading for authorization and the handler", () => {
  test("6000 generated requests: what was served is what authorization saw, or the answer is 4xx", async () => {
    const random = createRandom(1211);
    const pick = <T>(list: readonly T[]) => list[random(list.length)]!;
    const mismatches: string[] = [];
    let servedCount = 0;
    for (let i = 0; i < 6000; i++) {
      const segments = [...pick(PREFIXES)];
      const depth = 1 + random(4);
      for (let d = 0; d < depth; d++) segments.push(pick(SEGMENTS));
      const query = new URLSearchParams();
      if (random(3) === 0) query.append("watch", pick(WATCH_VALUES));
      if (random(6) === 0) query.append("watch", pick(WATCH_VALUES));
      if (random(6) === 0) query.set("fieldSelector", pick(["metadata.name=web-0", "metadata.name=node-1"]));
      const target = `/${segments.join("/")}${random(10) === 0 ? "/" : ""}?${query}`;
      const url = new URL(`https://127.0.0.1:6443${target}`);
      served.length = 0;
      const response = await app.handle(new Request(url.href));
      let authorized: RequestAttributes | undefined;
      try {
        authorized = requestAttributesOf("GET", url);
      } catch {
        authorized = undefined;
      }
      if (served.length === 0) continue;
      servedCount += 1;
      if (served.length !== 1 || canonical(served[0]) !== canonical(authorized)) {
        const answer = `${target} (${response.status})`;
        mismatches.push(`${answer}: authorized ${canonical(authorized)}, served ${JSON.stringify(served)}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The generator must reach the providers often enough for the property to mean something.
    expect(servedCount).toBeGreaterThan(300);
  });

  test.each([
    ["?watch=TRUE", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?watch=TRUE"],
    ["?watch=yes", "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue?watch=yes"],
    ["?watch=on", "/apis/metrics.k8s.io/v1beta1/pods?watch=on"],
    ["?watch= (empty)", "/apis/metrics.k8s.io/v1beta1/nodes?watch="],
    ["a watch/ prefix", "/apis/custom.metrics.k8s.io/v1beta2/watch/nodes/node-1/power"],
  ])("a watch by %s is refused with 405 and never served", async (_name, target) => {
    served.length = 0;
    const response = await app.handle(new Request(`https://127.0.0.1:6443${target}`));
    expect({ status: response.status, served: served.length }).toEqual({ status: 405, served: 0 });
  });

  test("a proxy/ prefix is answered 404 and never served as another resource's metric", async () => {
    served.length = 0;
    const path = "/apis/custom.metrics.k8s.io/v1beta2/proxy/node-1/proxy_power_watts";
    const response = await app.handle(new Request(`https://127.0.0.1:6443${path}`));
    expect({ status: response.status, served: served.length }).toEqual({ status: 404, served: 0 });
  });

  test("?watch=false and ?watch=0 are lists, authorized and served as such", async () => {
    const statuses: number[] = [];
    for (const value of ["false", "FALSE", "0"]) {
      served.length = 0;
      const url = new URL(`https://127.0.0.1:6443/apis/metrics.k8s.io/v1beta1/pods?watch=${value}`);
      statuses.push((await app.handle(new Request(url.href))).status);
      const authorized = (requestAttributesOf("GET", url) as { verb: string }).verb;
      expect({ authorized, served: served.map((entry) => entry.verb) }).toEqual({
        authorized: "list",
        served: ["list"],
      });
    }
    expect(statuses).toEqual([200, 200, 200]);
  });
});
