/**
 * prom-adapter in cluster mode, called exactly as the kube-aggregator calls it: the kube-apiserver stand-in supplies
 * discovery, objects, the authentication ConfigMap, TokenReview and SubjectAccessReview; a real Prometheus holds
 * the series. The adapter runs as its own ServiceAccount with only the RBAC the deploy manifests grant.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestAdapter, type TestAdapter } from "../support/adapter.ts";
import { customResourceDefinition } from "../support/kube-apiserver/default-resources.ts";
import { delegatedAuthenticationRules, startKubeApiServer, type KubeApiServer } from "../support/kube-apiserver.ts";
import { generateCertificateAuthority, generateSignedCertificate } from "../../src/server/certificates.ts";
import {
  openMetricsText,
  prometheusSkipReason,
  startPrometheus,
  type RunningPrometheus,
} from "../support/prometheus.ts";
import { recentSampleTimes, risingCounter, steadyGauge } from "../support/series.ts";
import { announceSkip } from "../support/skip.ts";

setDefaultTimeout(60_000);
const skip = prometheusSkipReason();
announceSkip("cluster-mode integration tests", skip);

const ADAPTER = "system:serviceaccount:custom-metrics:prom-adapter";
const HPA = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
// NB: one group only: Bun's fetch merges repeated headers into one comma-joined value, which the front-proxy
// authenticator rightly does not split; repeated X-Remote-Group headers are covered in src/server/authn.test.ts.
const HPA_GROUPS = ["system:serviceaccounts"];
const TIMES = recentSampleTimes();
const requests = (labels: Record<string, string>, perSecond: number) => risingCounter(labels, perSecond, TIMES);
const gauge = (name: string, labels: Record<string, string>, value: number) => steadyGauge(name, labels, value, TIMES);

describe.skipIf(skip !== null)("cluster mode behind the aggregator", () => {
  let cluster: KubeApiServer;
  let prometheus: RunningPrometheus;
  let adapter: TestAdapter;
  const hpaHeaders = {
    "X-Remote-User": HPA,
    "X-Remote-Group": HPA_GROUPS[0]!,
    accept: "application/vnd.kubernetes.protobuf, */*",
  };
  const asAggregator = (path: string, headers: Record<string, string> = hpaHeaders) =>
    adapter.getWithCertificate(path, cluster.frontProxy.client, headers);

  beforeAll(async () => {
    if (skip) return;
    cluster = await startKubeApiServer();
    cluster.setObjects({ group: "", resource: "pods" }, [
      { name: "podinfo-a", namespace: "default", labels: { app: "podinfo" } },
      { name: "other-0", namespace: "default", labels: { app: "other" } },
      { name: "podinfo-b", namespace: "default", labels: { app: "podinfo" } },
    ]);
    cluster.setObjects({ group: "apps", resource: "deployments" }, [
      { name: "web", namespace: "default", labels: { app: "web" } },
    ]);
    cluster.setTokens({
      "adapter-token": {
        username: ADAPTER,
        groups: ["system:serviceaccounts", "system:serviceaccounts:custom-metrics"],
      },
      "reader-token": { username: "jane", groups: ["dev"] },
      "denied-token": { username: "mallory", groups: ["guests"] },
    });
    cluster.setPolicy([
      ...delegatedAuthenticationRules({ users: [ADAPTER] }),
      {
        users: [ADAPTER],
        verbs: ["get", "list", "watch"],
        apiGroups: ["", "apps", "example.com"],
        resources: ["pods", "nodes", "namespaces", "deployments", "widgets"],
      },
      {
        users: [HPA, "jane"],
        verbs: ["get", "list"],
        apiGroups: ["custom.metrics.k8s.io"],
        resources: ["*"],
        name: "custom-metrics-server-resources",
      },
    ]);
    prometheus = await startPrometheus({
      openMetrics: openMetricsText([
        requests({ namespace: "default", pod: "podinfo-a" }, 0.6),
        requests({ namespace: "default", pod: "podinfo-b" }, 0.9),
        requests({ namespace: "default", pod: "other-0" }, 5),
        gauge("jobs_per_worker", { namespace: "default", deployment: "web" }, 4),
        gauge("widget_temperature", { widget: "w1" }, 21),
      ]),
    });
    const rules = `rules:
- seriesQuery: '{__name__="http_requests_total",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: ^(.*)_total$}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
- seriesQuery: '{__name__="jobs_per_worker"}'
  resources: {overrides: {namespace: {resource: namespace}, deployment: {group: apps, resource: deployment}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{__name__="widget_temperature"}'
  resources: {template: <<.Resource>>}
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
`;
    adapter = await startTestAdapter({
      prometheusUrl: prometheus.url,
      kubeconfig: cluster.kubeconfigFor({ token: "adapter-token" }),
      rules,
    });
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
  });
  afterAll(async () => {
    await adapter?.close();
    await prometheus?.stop();
    await cluster?.close();
  });

  test.each(["v1beta1", "v1beta2"])(
    "the HPA's pods/*/http_requests?labelSelector=app=podinfo (%s) answers only the selected pods, in LIST order",
    async (version) => {
      const response = await asAggregator(
        `/apis/custom.metrics.k8s.io/${version}/namespaces/default/pods/%2A/http_requests?labelSelector=app%3Dpodinfo`,
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        items: { describedObject: { name: string; kind: string; apiVersion: string } }[];
      };
      expect(body.items.map((i) => i.describedObject.name)).toEqual(["podinfo-a", "podinfo-b"]);
      expect(body.items[0]?.describedObject).toMatchObject({ kind: "Pod", apiVersion: "/v1" });

      const sar = cluster.reviews().subjectAccessReviews.at(-1) as { spec: Record<string, unknown> };
      expect(sar.spec).toMatchObject({
        resourceAttributes: {
          namespace: "default",
          verb: "get",
          group: "custom.metrics.k8s.io",
          version,
          resource: "pods",
          subresource: "http_requests",
          name: "*",
        },
        user: HPA,
        groups: [...HPA_GROUPS, "system:authenticated"],
      });
      const list = cluster
        .requests()
        .filter((r) => r.path === "/api/v1/namespaces/default/pods")
        .at(-1);
      expect(list?.query).toMatchObject({ labelSelector: "app=podinfo" });
      expect(list?.identity?.username).toBe(ADAPTER);
    },
  );

  test("a label selector that selects nothing is a 404 for the resource", async () => {
    const response = await asAggregator(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dnone",
    );
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toBe(
      "the server could not find the metric http_requests for pods",
    );
  });

  test("an Object metric on deployments.apps describes an apps/v1 Deployment", async () => {
    const body = (await (
      await asAggregator("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/web/jobs_per_worker")
    ).json()) as {
      items: { describedObject: unknown; value: string }[];
    };
    expect(body.items).toHaveLength(1);
    expect(body.items[0]?.describedObject).toEqual({
      kind: "Deployment",
      namespace: "default",
      name: "web",
      apiVersion: "apps/v1",
    });
    expect(body.items[0]?.value).toBe("4");
  });

  test("a cluster-scoped custom resource added later becomes queryable after the mapper's refresh", async () => {
    const path = "/apis/custom.metrics.k8s.io/v1beta2/widgets/w1/widget_temperature";
    expect((await asAggregator(path)).status).toBe(404);
    cluster.addResource(
      customResourceDefinition({
        group: "example.com",
        version: "v1",
        kind: "Widget",
        plural: "widgets",
        namespaced: false,
      }),
    );
    cluster.setObjects({ group: "example.com", resource: "widgets" }, [{ name: "w1" }]);
    expect(await adapter.adapter.relister.runOnce()).toBe(true);
    const discovery = await (await asAggregator("/apis/custom.metrics.k8s.io/v1beta2")).text();
    expect(discovery).toContain(
      '{"name":"widgets.example.com/widget_temperature","singularName":"","namespaced":false',
    );
    const body = (await (await asAggregator(path)).json()) as { items: { describedObject: unknown; value: string }[] };
    expect(body.items).toEqual([
      {
        describedObject: { kind: "Widget", name: "w1", apiVersion: "example.com/v1" },
        metric: { name: "widget_temperature", selector: null },
        timestamp: expect.any(String),
        value: "21",
      } as never,
    ]);
    const all = (await (
      await asAggregator("/apis/custom.metrics.k8s.io/v1beta2/widgets/*/widget_temperature")
    ).json()) as { items: unknown[] };
    expect(all.items).toHaveLength(1);
  });

  describe("forged identities are refused", () => {
    const path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/podinfo-a/http_requests";
    const forbiddenAnonymous =
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.custom.metrics.k8s.io \\"podinfo-a\\" is forbidden: User \\"system:anonymous\\" cannot get resource \\"pods/http_requests\\" in API group \\"custom.metrics.k8s.io\\" in the namespace \\"default\\"","reason":"Forbidden","details":{"name":"podinfo-a","group":"custom.metrics.k8s.io","kind":"pods"},"code":403}\n';

    test("X-Remote-User without a client certificate is ignored: the caller is anonymous and denied", async () => {
      const response = await adapter.get(path, hpaHeaders);
      expect(response.status).toBe(403);
      expect(await response.text()).toBe(forbiddenAnonymous);
    });

    test("X-Remote-User with a certificate from another CA is refused with 401", async () => {
      const evil = generateCertificateAuthority({ commonName: "evil-ca", now: new Date() });
      const certificate = generateSignedCertificate({
        ca: evil,
        commonName: "front-proxy-client",
        usage: "client",
        validityDays: 1,
        now: new Date(),
      });
      const response = await adapter.getWithCertificate(path, certificate, hpaHeaders);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { reason: string }).reason).toBe("Unauthorized");
    });

    test("a client certificate that is not the front proxy authenticates as its own CN, never as X-Remote-User", async () => {
      const certificate = cluster.issueClientCertificate("attacker");
      const response = await adapter.getWithCertificate(path, certificate, hpaHeaders);
      // The cluster CA is also the client CA: the certificate authenticates as itself, never as the header's user.
      expect(response.status).toBe(403);
      expect(((await response.json()) as { message: string }).message).toContain(
        'User \\"attacker\\"'.replaceAll("\\", ""),
      );
    });

    test("a valid token of a user without RBAC gets a 403 naming that user; an unknown token gets 401", async () => {
      const denied = await adapter.get(path, { authorization: "Bearer denied-token" });
      expect(denied.status).toBe(403);
      expect(((await denied.json()) as { message: string }).message).toBe(
        'pods.custom.metrics.k8s.io "podinfo-a" is forbidden: User "mallory" cannot get resource "pods/http_requests" in API group "custom.metrics.k8s.io" in the namespace "default"',
      );
      const unknown = await adapter.get(path, { authorization: "Bearer nobody-knows-this" });
      expect(unknown.status).toBe(401);
      const allowed = await adapter.get(path, { authorization: "Bearer reader-token" });
      expect(allowed.status).toBe(200);
    });

    test("health stays open, /metrics needs authorization", async () => {
      expect((await adapter.get("/healthz")).status).toBe(200);
      expect((await adapter.get("/readyz")).status).toBe(200);
      expect((await adapter.get("/metrics")).status).toBe(403);
      const asMaster = await adapter.getWithCertificate("/metrics", cluster.frontProxy.client, {
        "X-Remote-User": "admin",
        "X-Remote-Group": "system:masters",
      });
      expect(asMaster.status).toBe(200);
      const text = await asMaster.text();
      expect(text).toContain("prom_adapter_requests_total");
      expect(text).toContain('prom_adapter_reviews_total{kind="subjectaccessreview",result="allowed"}');
      expect(text).toContain('prom_adapter_reviews_total{kind="subjectaccessreview",result="denied"}');
      expect(text).toContain('prom_adapter_reviews_total{kind="tokenreview",result="accepted"}');
      expect(text).toContain('prom_adapter_reviews_total{kind="tokenreview",result="rejected"}');
    });
  });

  test("the aggregator's availability probe passes as system:kube-aggregator in system:masters", async () => {
    const before = cluster.reviews().subjectAccessReviews.length;
    const response = await asAggregator("/apis/custom.metrics.k8s.io/v1beta1", {
      "X-Remote-User": "system:kube-aggregator",
      "X-Remote-Group": "system:masters",
    });
    expect(response.status).toBe(200);
    expect(cluster.reviews().subjectAccessReviews.length).toBe(before);
  });
});
