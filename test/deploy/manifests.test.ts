/**
 * The deploy manifests as `kubectl kustomize` renders them, checked for the cross-references a cluster would only
 * reveal at install time: namespaces, Service ↔ Deployment ↔ APIService, RBAC role references and subjects, the
 * rules ConfigMap and its mount, probes, the security context, and that every container argument is a flag
 * prom-adapter accepts. Also the walkthrough's example application in deploy/examples.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import packageJson from "../../package.json" with { type: "json" };
import { parseOptions } from "../../src/options.ts";
import {
  componentsSkipReason,
  kustomize,
  kustomizeSkipReason,
  kustomizeWithComponents,
  type KubeObject,
} from "./kustomize.ts";
import { announceSkip } from "../support/skip.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const DEPLOY = join(REPO_ROOT, "deploy");
const COMPONENT = join(DEPLOY, "components", "resource-metrics");
const NAMESPACE = "custom-metrics";
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "APIService"]);
/** Roles every Kubernetes cluster has, which the manifests bind to without defining. */
const BUILT_IN_ROLES = [
  { kind: "ClusterRole", name: "system:auth-delegator", namespace: undefined },
  { kind: "Role", name: "extension-apiserver-authentication-reader", namespace: "kube-system" },
];
/** The arguments of the walkthrough's deployment, which prom-adapter must accept unchanged. */
const WALKTHROUGH_ARGS = [
  "--cert-dir=/var/run/serving-cert",
  "--secure-port=6443",
  "--logtostderr=true",
  "--prometheus-url=http://prometheus.monitoring.svc:9090/",
  "--metrics-relist-interval=1m",
  "--v=2",
  "--config=/etc/adapter/config.yaml",
];

const skip = kustomizeSkipReason();
const componentSkip = componentsSkipReason();
announceSkip("deploy manifest tests", skip);
if (skip === null) announceSkip("the resource-metrics component tests", componentSkip);

function find(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter(
    (object) => object.kind === kind && (name === undefined || object.metadata.name === name),
  );
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}

function all(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

function argValue(args: readonly string[], flag: string): string | undefined {
  return args.find((arg) => arg.startsWith(`--${flag}=`))?.slice(flag.length + 3);
}

function containerPort(container: KubeObject, port: string | number): number | undefined {
  const ports: { name?: string; containerPort: number }[] = container.ports ?? [];
  return typeof port === "number"
    ? ports.find((p) => p.containerPort === port)?.containerPort
    : ports.find((p) => p.name === port)?.containerPort;
}

function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** Checks that hold for the base install and for the install with the resource-metrics component. */
function describeInstall(title: string, render: () => KubeObject[], skipReason: string | null) {
  describe.skipIf(skipReason !== null)(title, () => {
    const objects = skipReason === null ? render() : [];
    const deployment = () => find(objects, "Deployment", "prom-adapter");
    const pod = () => deployment().spec.template;
    const adapter = (): KubeObject => {
      const containers: KubeObject[] = pod().spec.containers;
      expect(containers).toHaveLength(1);
      return containers[0]!;
    };
    const service = () => find(objects, "Service", "prom-adapter");

    test("every namespaced object is in custom-metrics, except the RoleBinding to the kube-system Role", () => {
      const misplaced = objects
        .filter((object) => !CLUSTER_SCOPED.has(object.kind))
        .filter((object) => object.metadata.namespace !== NAMESPACE)
        .map((object) => `${object.kind}/${object.metadata.namespace ?? "(none)"}/${object.metadata.name}`);
      expect(misplaced).toEqual(["RoleBinding/kube-system/prom-adapter-auth-reader"]);
      expect(
        objects.filter((object) => CLUSTER_SCOPED.has(object.kind) && object.metadata.namespace !== undefined),
      ).toEqual([]);
      expect(find(objects, "Namespace").metadata.name).toBe(NAMESPACE);
    });

    test("the Deployment selects its own pods and runs as the ServiceAccount defined here", () => {
      expect(selects(deployment().spec.selector.matchLabels, pod().metadata.labels)).toBe(true);
      const account = find(objects, "ServiceAccount", pod().spec.serviceAccountName);
      expect(account.metadata.namespace).toBe(deployment().metadata.namespace);
    });

    test("the Service selects the pods and maps port 443 to the named container port 6443", () => {
      expect(selects(service().spec.selector, pod().metadata.labels)).toBe(true);
      const ports: { name: string; port: number; targetPort: string | number }[] = service().spec.ports;
      expect(ports).toHaveLength(1);
      expect(ports[0]!.port).toBe(443);
      expect(typeof ports[0]!.targetPort).toBe("string");
      expect(containerPort(adapter(), ports[0]!.targetPort)).toBe(6443);
      expect(argValue(adapter().args, "secure-port")).toBe("6443");
    });

    test("every APIService points at that Service, namespace and port", () => {
      const apiServices = all(objects, "APIService");
      expect(apiServices.length).toBeGreaterThanOrEqual(3);
      for (const apiService of apiServices) {
        expect(apiService.metadata.name).toBe(`${apiService.spec.version}.${apiService.spec.group}`);
        expect(apiService.spec.service).toEqual({
          name: service().metadata.name,
          namespace: service().metadata.namespace,
          port: 443,
        });
        expect(apiService.spec.insecureSkipTLSVerify).toBe(true);
        expect(apiService.spec.groupPriorityMinimum).toBeGreaterThan(0);
      }
    });

    test("custom.metrics.k8s.io v1beta2 has the higher versionPriority, so HPAs use it", () => {
      const v1beta1 = find(objects, "APIService", "v1beta1.custom.metrics.k8s.io");
      const v1beta2 = find(objects, "APIService", "v1beta2.custom.metrics.k8s.io");
      expect(v1beta2.spec.versionPriority).toBeGreaterThan(v1beta1.spec.versionPriority);
      expect(v1beta2.spec.groupPriorityMinimum).toBe(v1beta1.spec.groupPriorityMinimum);
      find(objects, "APIService", "v1beta1.external.metrics.k8s.io");
    });

    test("every binding refers to a role defined here or built into Kubernetes", () => {
      for (const binding of [...all(objects, "RoleBinding"), ...all(objects, "ClusterRoleBinding")]) {
        const { kind, name } = binding.roleRef as { kind: string; name: string };
        const namespace = kind === "Role" ? binding.metadata.namespace : undefined;
        const defined = objects.some(
          (object) => object.kind === kind && object.metadata.name === name && object.metadata.namespace === namespace,
        );
        const builtIn = BUILT_IN_ROLES.some(
          (role) => role.kind === kind && role.name === name && role.namespace === namespace,
        );
        expect({ binding: binding.metadata.name, resolved: defined || builtIn }).toEqual({
          binding: binding.metadata.name,
          resolved: true,
        });
      }
    });

    test("bindings grant to the Deployment's ServiceAccount, and the HPA binding to the HPA controller", () => {
      const adapterAccount = {
        kind: "ServiceAccount",
        name: pod().spec.serviceAccountName,
        namespace: deployment().metadata.namespace,
      };
      for (const binding of [...all(objects, "RoleBinding"), ...all(objects, "ClusterRoleBinding")]) {
        const expected =
          binding.metadata.name === "hpa-controller-custom-metrics"
            ? { kind: "ServiceAccount", name: "horizontal-pod-autoscaler", namespace: "kube-system" }
            : adapterAccount;
        expect({ binding: binding.metadata.name, subjects: binding.subjects }).toEqual({
          binding: binding.metadata.name,
          subjects: [expected],
        });
      }
    });

    test("the ClusterRole the HPA binding names exists and grants get and list on both metrics APIs", () => {
      const binding = find(objects, "ClusterRoleBinding", "hpa-controller-custom-metrics");
      expect(binding.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "custom-metrics-server-resources",
      });
      expect(find(objects, "ClusterRole", "custom-metrics-server-resources").rules).toEqual([
        { apiGroups: ["custom.metrics.k8s.io", "external.metrics.k8s.io"], resources: ["*"], verbs: ["get", "list"] },
      ]);
    });

    test("the resource reader can get, list and watch every kind the rules resolve", () => {
      const granted = new Set<string>();
      for (const rule of find(objects, "ClusterRole", "prom-adapter-resource-reader").rules as {
        apiGroups: string[];
        resources: string[];
        verbs: string[];
      }[]) {
        expect(rule.verbs).toEqual(["get", "list", "watch"]);
        for (const group of rule.apiGroups)
          for (const resource of rule.resources) granted.add(group === "" ? resource : `${resource}.${group}`);
      }
      expect([...granted].sort()).toEqual(
        [
          "pods",
          "nodes",
          "namespaces",
          "services",
          "deployments.apps",
          "statefulsets.apps",
          "replicasets.apps",
          "daemonsets.apps",
          "jobs.batch",
          "ingresses.networking.k8s.io",
        ].sort(),
      );
    });

    test("the ConfigMap holds rules/default.yaml byte for byte, mounted where --config points", () => {
      const configMap = find(objects, "ConfigMap", "adapter-config");
      // When this fails after a change to rules/default.yaml, refresh deploy/manifests/config-map.yaml (its header
      // says how).
      expect(configMap.data["config.yaml"]).toBe(readFileSync(join(REPO_ROOT, "rules", "default.yaml"), "utf8"));
      const volumes: { name: string; configMap?: { name: string } }[] = pod().spec.volumes;
      const volume = volumes.find((candidate) => candidate.configMap?.name === "adapter-config");
      expect(volume).toBeDefined();
      const mount = (adapter().volumeMounts as { name: string; mountPath: string; subPath?: string }[]).find(
        (candidate) => candidate.name === volume!.name,
      );
      expect(mount?.subPath).toBeUndefined();
      expect(`${mount!.mountPath.replace(/\/$/, "")}/config.yaml`).toBe(argValue(adapter().args, "config")!);
    });

    test("the certificate directory is a writable emptyDir", () => {
      const certDir = argValue(adapter().args, "cert-dir")!;
      const mount = (adapter().volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[]).find(
        (candidate) => candidate.mountPath === certDir,
      );
      expect(mount).toBeDefined();
      expect(mount!.readOnly ?? false).toBe(false);
      expect(
        (pod().spec.volumes as { name: string; emptyDir?: object }[]).find((volume) => volume.name === mount!.name)
          ?.emptyDir,
      ).toBeDefined();
    });

    test("probes check /livez and /readyz over HTTPS on port 6443", () => {
      for (const [probe, path] of [
        ["livenessProbe", "/livez"],
        ["readinessProbe", "/readyz"],
      ] as const) {
        const httpGet = adapter()[probe].httpGet as { path: string; port: string | number; scheme: string };
        expect({
          probe,
          path: httpGet.path,
          scheme: httpGet.scheme,
          port: containerPort(adapter(), httpGet.port),
        }).toEqual({ probe, path, scheme: "HTTPS", port: 6443 });
      }
    });

    test("the pod runs as a numeric non-root user, read-only, without capabilities, under RuntimeDefault seccomp", () => {
      const podSecurity = pod().spec.securityContext;
      expect(podSecurity.runAsNonRoot).toBe(true);
      expect(podSecurity.runAsUser).toBeGreaterThan(0);
      expect(podSecurity.seccompProfile).toEqual({ type: "RuntimeDefault" });
      expect(adapter().securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(adapter().resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    });

    test("the image is prom-adapter at the version in package.json", () => {
      expect(adapter().image).toBe(`ghcr.io/prom-adapter/prom-adapter:${packageJson.version}`);
    });

    test("the arguments are the walkthrough's, and prom-adapter's flag parser accepts every one", () => {
      const args: string[] = adapter().args;
      expect(args).toEqual(WALKTHROUGH_ARGS);
      expect(adapter().command).toBeUndefined();
      for (const arg of args) expect(() => parseOptions([arg])).not.toThrow();
      const options = parseOptions(args);
      expect({
        certDir: options.certDir,
        securePort: options.securePort,
        prometheusUrl: options.prometheusUrl,
        relistInterval: options.relistInterval,
        verbosity: options.verbosity,
        configFile: options.configFile,
        standalone: options.standalone,
      }).toEqual({
        certDir: "/var/run/serving-cert",
        securePort: 6443,
        prometheusUrl: "http://prometheus.monitoring.svc:9090/",
        relistInterval: 60_000,
        verbosity: 2,
        configFile: "/etc/adapter/config.yaml",
        standalone: false,
      });
    });

    test("the PodDisruptionBudget and the NetworkPolicy select the pods, and the policy admits port 6443", () => {
      const budget = find(objects, "PodDisruptionBudget", "prom-adapter");
      expect(selects(budget.spec.selector.matchLabels, pod().metadata.labels)).toBe(true);
      expect(budget.spec.minAvailable).toBeLessThan(deployment().spec.replicas);
      const policy = find(objects, "NetworkPolicy", "prom-adapter");
      expect(selects(policy.spec.podSelector.matchLabels, pod().metadata.labels)).toBe(true);
      expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
      const ingressPorts = (policy.spec.ingress as { ports: { port: number | string }[] }[]).flatMap((rule) =>
        rule.ports.map((p) => containerPort(adapter(), p.port)),
      );
      expect(ingressPorts).toContain(6443);
      const egressPorts = (policy.spec.egress as { ports: { port: number }[] }[]).flatMap((rule) =>
        rule.ports.map((p) => p.port),
      );
      expect(egressPorts).toEqual(expect.arrayContaining([9090, 443, 53]));
    });
  });
}

describeInstall("kubectl kustomize deploy", () => kustomize(DEPLOY), skip);

describeInstall(
  "kubectl kustomize deploy with the resource-metrics component",
  () => kustomizeWithComponents(DEPLOY, [COMPONENT]),
  skip ?? componentSkip,
);

describe.skipIf(skip !== null)("the layout of deploy/", () => {
  const kustomization = parseYaml(readFileSync(join(DEPLOY, "kustomization.yaml"), "utf8")) as {
    resources: string[];
    namespace?: string;
  };

  test("kustomization.yaml lists every file of manifests/, and each file holds one object", () => {
    const files = readdirSync(join(DEPLOY, "manifests"))
      .filter((file) => file.endsWith(".yaml"))
      .map((file) => `manifests/${file}`);
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    for (const file of files) {
      const documents = parseAllDocuments(readFileSync(join(DEPLOY, file), "utf8"));
      expect({ file, objects: Array.isArray(documents) ? documents.length : 1 }).toEqual({ file, objects: 1 });
    }
  });

  test("kustomization.yaml sets no namespace, which would move the kube-system RoleBinding", () => {
    expect(kustomization.namespace).toBeUndefined();
  });

  test("metrics.k8s.io is served only with the component, which adds exactly its APIService and RBAC", () => {
    const base = kustomize(DEPLOY);
    expect(all(base, "APIService").map((object) => object.metadata.name)).not.toContain("v1beta1.metrics.k8s.io");
    if (componentSkip !== null) return;
    const withComponent = kustomizeWithComponents(DEPLOY, [COMPONENT]);
    const key = (object: KubeObject) => `${object.kind}/${object.metadata.name}`;
    const added = withComponent.map(key).filter((name) => !base.map(key).includes(name));
    expect(added.sort()).toEqual(
      [
        "APIService/v1beta1.metrics.k8s.io",
        "ClusterRole/prom-adapter-resource-metrics",
        "ClusterRole/system:aggregated-metrics-reader",
        "ClusterRoleBinding/prom-adapter-resource-metrics",
      ].sort(),
    );
    const reader = find(withComponent, "ClusterRole", "system:aggregated-metrics-reader");
    expect(reader.metadata.labels).toMatchObject({
      "rbac.authorization.k8s.io/aggregate-to-admin": "true",
      "rbac.authorization.k8s.io/aggregate-to-edit": "true",
      "rbac.authorization.k8s.io/aggregate-to-view": "true",
    });
    expect(reader.rules).toEqual([
      { apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] },
    ]);
  });
});

describe.skipIf(skip !== null)("kubectl kustomize deploy/examples (the walkthrough's podinfo)", () => {
  const objects = skip === null ? kustomize(join(DEPLOY, "examples")) : [];
  const deployment = () => find(objects, "Deployment", "podinfo");
  const podinfo = (): KubeObject => deployment().spec.template.spec.containers[0];

  test("uses current API versions: apps/v1, v1, monitoring.coreos.com/v1 and autoscaling/v2", () => {
    expect(objects.map((object) => `${object.apiVersion} ${object.kind}`).sort()).toEqual(
      [
        "apps/v1 Deployment",
        "autoscaling/v2 HorizontalPodAutoscaler",
        "monitoring.coreos.com/v1 ServiceMonitor",
        "v1 Service",
      ].sort(),
    );
  });

  test("the HPA scales the podinfo Deployment on the http_requests Pods metric to an average of 700m", () => {
    const hpa = find(objects, "HorizontalPodAutoscaler", "podinfo");
    expect(hpa.metadata.namespace).toBe(deployment().metadata.namespace);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" });
    expect(hpa.spec.metrics).toEqual([
      {
        type: "Pods",
        pods: { metric: { name: "http_requests" }, target: { type: "AverageValue", averageValue: "700m" } },
      },
    ]);
    expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
    expect(deployment().spec.replicas).toBeUndefined();
  });

  test("the Service and ServiceMonitor reach podinfo's metrics port", () => {
    const service = find(objects, "Service", "podinfo");
    expect(selects(service.spec.selector, deployment().spec.template.metadata.labels)).toBe(true);
    const monitor = find(objects, "ServiceMonitor", "podinfo");
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(monitor.spec.namespaceSelector.matchNames).toContain(service.metadata.namespace);
    const endpoint = monitor.spec.endpoints[0] as { port: string; path: string };
    const servicePort = (service.spec.ports as { name: string; targetPort: string }[]).find(
      (port) => port.name === endpoint.port,
    );
    expect(servicePort).toBeDefined();
    expect(containerPort(podinfo(), servicePort!.targetPort)).toBe(9797);
    expect(podinfo().command).toContain("--port-metrics=9797");
    expect(endpoint.path).toBe("/metrics");
  });

  test("runs a current podinfo release", () => {
    expect(podinfo().image).toMatch(/^ghcr\.io\/stefanprodan\/podinfo:6\.\d+\.\d+$/);
  });
});
