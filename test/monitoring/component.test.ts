/**
 * deploy/components/monitoring as `kubectl kustomize` renders it, alone and added to deploy/, cross-checked like
 * test/deploy/manifests.test.ts does for the base: the ServiceMonitor reaches the Service's HTTPS port with the
 * job label the rules expect, the RBAC grants `get /metrics` and service discovery to the documented Prometheus
 * ServiceAccount, and the PrometheusRule and dashboard ConfigMap hold rules/alerts.yaml and
 * dashboards/prom-adapter.json unchanged.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { componentsSkipReason, kustomize, kustomizeWithComponents, type KubeObject } from "../deploy/kustomize.ts";
import { ALERTS_FILE, DASHBOARD_FILE, REPO_ROOT } from "./monitoring-files.ts";

const DEPLOY = join(REPO_ROOT, "deploy");
const COMPONENT = join(DEPLOY, "components", "monitoring");
/** The ServiceAccount the shipped bindings name: kube-prometheus' Prometheus (documented in deploy/README.md). */
const PROMETHEUS_SERVICE_ACCOUNT = { kind: "ServiceAccount", name: "prometheus-k8s", namespace: "monitoring" } as const;
const NAMESPACE = "custom-metrics";
const CLUSTER_SCOPED = new Set(["ClusterRole", "ClusterRoleBinding"]);
const APP_LABELS = { "app.kubernetes.io/name": "prom-adapter", "app.kubernetes.io/component": "metrics-adapter" };

const skip = componentsSkipReason();
if (skip) console.warn(`skipping the monitoring component tests: ${skip}`);

function find(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((object) => object.kind === kind && [undefined, object.metadata.name].includes(name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}

type Labels = Readonly<Record<string, string>>;

function selects(selector: Labels, labels: Labels | undefined): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

const key = (object: KubeObject) => `${object.kind}/${object.metadata.name}`;

describe.skipIf(skip !== null)("kubectl kustomize deploy/components/monitoring", () => {
  const objects = skip === null ? kustomize(COMPONENT) : [];

  test("renders the ServiceMonitor, the RBAC, the PrometheusRule and the dashboard ConfigMap", () => {
    expect(objects.map(key).sort()).toEqual(
      [
        "ServiceMonitor/prom-adapter",
        "ClusterRole/prom-adapter-metrics-reader",
        "ClusterRoleBinding/prom-adapter-metrics-reader",
        "Role/prom-adapter-prometheus-discovery",
        "RoleBinding/prom-adapter-prometheus-discovery",
        "PrometheusRule/prom-adapter",
        "ConfigMap/prom-adapter-dashboard",
      ].sort(),
    );
    expect(find(objects, "ServiceMonitor").apiVersion).toBe("monitoring.coreos.com/v1");
    expect(find(objects, "PrometheusRule").apiVersion).toBe("monitoring.coreos.com/v1");
  });

  test("namespaced objects are in custom-metrics, cluster-scoped ones have none, all have the app labels", () => {
    for (const object of objects) {
      const namespace = CLUSTER_SCOPED.has(object.kind) ? undefined : NAMESPACE;
      expect({ object: key(object), namespace: object.metadata.namespace }).toEqual({ object: key(object), namespace });
      expect(object.metadata.labels).toMatchObject(APP_LABELS);
    }
  });

  test("the PrometheusRule holds rules/alerts.yaml byte for byte, indented under spec", () => {
    const alertsText = readFileSync(ALERTS_FILE, "utf8");
    const copy = readFileSync(join(COMPONENT, "prometheus-rule.yaml"), "utf8");
    const specBody = copy.slice(copy.indexOf("\nspec:\n") + "\nspec:\n".length);
    // When this fails after a change to rules/alerts.yaml, refresh the copy (its header says how).
    expect(
      specBody
        .split("\n")
        .map((line) => line.replace(/^ {2}/, ""))
        .join("\n"),
    ).toBe(alertsText);
    expect(find(objects, "PrometheusRule").spec).toEqual(parseYaml(alertsText));
  });

  test("the dashboard ConfigMap holds dashboards/prom-adapter.json byte for byte, labelled for Grafana", () => {
    const configMap = find(objects, "ConfigMap", "prom-adapter-dashboard");
    expect(configMap.metadata.labels?.grafana_dashboard).toBe("1");
    expect(Object.keys(configMap.data)).toEqual(["prom-adapter.json"]);
    expect(configMap.data["prom-adapter.json"]).toBe(readFileSync(DASHBOARD_FILE, "utf8"));
  });

  test("the ClusterRole grants exactly get on /metrics, bound to the Prometheus ServiceAccount", () => {
    const binding = find(objects, "ClusterRoleBinding", "prom-adapter-metrics-reader");
    const role = find(objects, "ClusterRole", binding.roleRef.name);
    const name = role.metadata.name;
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name });
    expect(role.rules).toEqual([{ nonResourceURLs: ["/metrics"], verbs: ["get"] }]);
    expect(binding.subjects).toEqual([PROMETHEUS_SERVICE_ACCOUNT]);
  });

  test("the Role lets that ServiceAccount discover the pods behind the Service, in the Service's namespace", () => {
    const binding = find(objects, "RoleBinding", "prom-adapter-prometheus-discovery");
    const role = find(objects, "Role", binding.roleRef.name);
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name });
    expect(role.metadata.namespace).toBe(binding.metadata.namespace);
    expect(binding.subjects).toEqual([PROMETHEUS_SERVICE_ACCOUNT]);
    const granted = new Set<string>();
    for (const rule of role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
      expect(rule.verbs).toEqual(["get", "list", "watch"]);
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) granted.add(group === "" ? resource : `${resource}.${group}`);
      }
    }
    expect([...granted].sort()).toEqual(["endpoints", "endpointslices.discovery.k8s.io", "pods", "services"]);
  });
});

describe.skipIf(skip !== null)("kubectl kustomize deploy with the monitoring component", () => {
  const base = skip === null ? kustomize(DEPLOY) : [];
  const objects = skip === null ? kustomizeWithComponents(DEPLOY, [COMPONENT]) : [];
  const service = () => find(objects, "Service", "prom-adapter");
  const monitor = () => find(objects, "ServiceMonitor", "prom-adapter");
  const endpoint = (): KubeObject => {
    const endpoints: KubeObject[] = monitor().spec.endpoints;
    expect(endpoints).toHaveLength(1);
    return endpoints[0]!;
  };

  test("adds the component's objects and leaves every object of deploy/ unchanged", () => {
    const added = objects.filter((object) => !base.some((candidate) => key(candidate) === key(object)));
    expect(added.map(key).sort()).toEqual(kustomize(COMPONENT).map(key).sort());
    for (const object of base) expect(objects.find((candidate) => key(candidate) === key(object))).toEqual(object);
  });

  test("the ServiceMonitor selects the Service, in its namespace", () => {
    expect(selects(monitor().spec.selector.matchLabels, service().metadata.labels)).toBe(true);
    expect(monitor().spec.namespaceSelector).toEqual({ matchNames: [service().metadata.namespace] });
    expect(monitor().metadata.namespace).toBe(service().metadata.namespace);
  });

  test("it scrapes /metrics over HTTPS on the Service port that leads to the container's 6443", () => {
    const ports: { name: string; targetPort: string }[] = service().spec.ports;
    const port = ports.find((candidate) => candidate.name === endpoint().port);
    expect(port).toBeDefined();
    const container = find(objects, "Deployment", "prom-adapter").spec.template.spec.containers[0] as KubeObject;
    const containerPorts = container.ports as { name: string; containerPort: number }[];
    expect(containerPorts.find((candidate) => candidate.name === port!.targetPort)?.containerPort).toBe(6443);
    expect({ scheme: endpoint().scheme, path: endpoint().path }).toEqual({ scheme: "https", path: "/metrics" });
  });

  test("it presents the Prometheus pod's own ServiceAccount token and accepts the generated certificate", () => {
    expect(endpoint().bearerTokenFile).toBe("/var/run/secrets/kubernetes.io/serviceaccount/token");
    // The Deployment generates a self-signed certificate at start (no --tls-cert-file), as the APIServices know.
    const args: string[] = find(objects, "Deployment", "prom-adapter").spec.template.spec.containers[0].args;
    expect(args.some((arg) => arg.startsWith("--tls-cert-file"))).toBe(false);
    expect(endpoint().tlsConfig).toEqual({ insecureSkipVerify: true });
  });

  test("the job label comes out as prom-adapter, the job the rules and the dashboard select", () => {
    const jobLabel: string = monitor().spec.jobLabel;
    expect(service().metadata.labels?.[jobLabel]).toBe("prom-adapter");
    expect(readFileSync(ALERTS_FILE, "utf8")).toContain('up{job="prom-adapter"}');
  });

  test("the NetworkPolicy lets Prometheus reach the scraped port", () => {
    const policy = find(objects, "NetworkPolicy", "prom-adapter");
    const ingress = policy.spec.ingress as { from?: unknown[]; ports: { port: number }[] }[];
    expect(ingress.some((rule) => rule.from === undefined && rule.ports.some((port) => port.port === 6443))).toBe(true);
  });
});

describe("the layout of deploy/components/monitoring", () => {
  test("kustomization.yaml is a Component listing every manifest of the directory, and the dashboard copy", () => {
    const kustomization = parseYaml(readFileSync(join(COMPONENT, "kustomization.yaml"), "utf8")) as {
      kind: string;
      resources: string[];
      configMapGenerator: { files: string[] }[];
    };
    expect(kustomization.kind).toBe("Component");
    const files = readdirSync(COMPONENT).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(kustomization.configMapGenerator.flatMap((generator) => generator.files)).toEqual(["prom-adapter.json"]);
  });

  test("deploy/README.md documents the command and the Prometheus ServiceAccount the bindings name", () => {
    const readme = readFileSync(join(DEPLOY, "README.md"), "utf8");
    expect(readme).toContain("kubectl apply -k deploy/components/monitoring");
    expect(readme).toContain(`${PROMETHEUS_SERVICE_ACCOUNT.namespace}/${PROMETHEUS_SERVICE_ACCOUNT.name}`);
  });
});
