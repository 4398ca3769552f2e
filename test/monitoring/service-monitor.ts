/**
 * Turns the ServiceMonitor deploy/components/monitoring renders into the Prometheus scrape config the Prometheus
 * Operator would generate for it, aimed at one test target, and the component's RBAC into the kube-apiserver
 * stand-in's policy rules, so the scrape test exercises the shipped objects rather than a hand-written copy.
 */
import type { KubeObject } from "../deploy/kustomize.ts";
import type { PolicyRule } from "../support/kube-apiserver.ts";

/** ServiceMonitor endpoint fields the translation understands; any other field fails the test instead of being lost. */
const KNOWN_ENDPOINT_FIELDS = new Set(["port", "scheme", "path", "interval", "bearerTokenFile", "tlsConfig"]);
const KNOWN_TLS_FIELDS = new Set(["insecureSkipVerify"]);

export interface ScrapeTarget {
  /** `host:port` of the running adapter. */
  readonly address: string;
  /** Where this test keeps the token the pod would find at the endpoint's `bearerTokenFile`. */
  readonly tokenFile: string;
  /** The target labels the operator's relabelling adds from service discovery (`namespace`, `pod`, `service`, ...). */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The scrape config of the ServiceMonitor's single endpoint: job from `jobLabel` (the Service's label, else its
 * name), scheme, path, bearer token file and TLS settings. NB: the scrape interval is left to the test's global one
 * (1 s) instead of the endpoint's 30 s; static targets stand in for Kubernetes service discovery.
 */
export function scrapeConfigFromServiceMonitor(
  monitor: KubeObject,
  service: KubeObject,
  target: ScrapeTarget,
): Record<string, unknown> {
  const endpoints: Record<string, unknown>[] = monitor.spec.endpoints;
  if (endpoints.length !== 1) throw new Error(`expected one ServiceMonitor endpoint, found ${endpoints.length}`);
  const endpoint = endpoints[0]!;
  const unknown = Object.keys(endpoint).filter((field) => !KNOWN_ENDPOINT_FIELDS.has(field));
  const tls = (endpoint.tlsConfig ?? {}) as Record<string, unknown>;
  for (const field of Object.keys(tls)) if (!KNOWN_TLS_FIELDS.has(field)) unknown.push(`tlsConfig.${field}`);
  if (unknown.length > 0) throw new Error(`cannot translate ServiceMonitor fields ${unknown.join(", ")}`);
  const jobLabel: string | undefined = monitor.spec.jobLabel;
  const job = (jobLabel === undefined ? undefined : service.metadata.labels?.[jobLabel]) ?? service.metadata.name;
  return {
    job_name: job,
    scheme: endpoint.scheme ?? "http",
    metrics_path: endpoint.path ?? "/metrics",
    ...(endpoint.bearerTokenFile === undefined
      ? {}
      : { authorization: { type: "Bearer", credentials_file: target.tokenFile } }),
    tls_config: { insecure_skip_verify: tls.insecureSkipVerify === true },
    static_configs: [{ targets: [target.address], labels: target.labels }],
  };
}

/** One rule of a rendered Role or ClusterRole. */
interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

/** The user name Kubernetes gives a ServiceAccount's tokens. */
export function serviceAccountUser(subject: { name: string; namespace: string }): string {
  return `system:serviceaccount:${subject.namespace}:${subject.name}`;
}

/**
 * The stand-in policy rules equivalent to the rendered ClusterRoleBindings and RoleBindings: one rule per role rule
 * and ServiceAccount subject (other subject kinds are not needed here and throw).
 */
export function policyFromRbac(objects: readonly KubeObject[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const bindings = objects.filter((object) => object.kind === "ClusterRoleBinding" || object.kind === "RoleBinding");
  for (const binding of bindings) {
    const role = objects.find(
      (object) =>
        object.kind === binding.roleRef.kind &&
        object.metadata.name === binding.roleRef.name &&
        (object.kind === "ClusterRole" || object.metadata.namespace === binding.metadata.namespace),
    );
    if (role === undefined) throw new Error(`${binding.kind} ${binding.metadata.name} refers to a role not rendered`);
    for (const subject of binding.subjects as { kind: string; name: string; namespace: string }[]) {
      if (subject.kind !== "ServiceAccount") throw new Error(`unsupported subject kind ${subject.kind}`);
      for (const rule of role.rules as RbacRule[]) {
        rules.push({
          name: binding.metadata.name,
          users: [serviceAccountUser(subject)],
          verbs: rule.verbs,
          ...(rule.nonResourceURLs ? { nonResourceURLs: rule.nonResourceURLs } : {}),
          ...(rule.apiGroups ? { apiGroups: rule.apiGroups } : {}),
          ...(rule.resources ? { resources: rule.resources } : {}),
          ...(binding.kind === "RoleBinding" ? { namespaces: [binding.metadata.namespace!] } : {}),
        });
      }
    }
  }
  return rules;
}
