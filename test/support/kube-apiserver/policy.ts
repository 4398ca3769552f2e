/**
 * The authorization table: decides SubjectAccessReviews and the stand-in's own requests. `system:masters` is always
 * allowed (kube-apiserver's privileged-group authorizer); then the test's rules in order, first match deciding; then
 * the bootstrap ClusterRoles every cluster grants (system:discovery, system:public-info-viewer, system:basic-user);
 * otherwise no opinion, i.e. not allowed and no reason.
 */
import type { PolicyRule } from "./types.ts";

/** The attributes of one access check, as SubjectAccessReview's spec carries them. */
export type AccessAttributes =
  | {
      kind: "resource";
      verb: string;
      group: string;
      version: string;
      namespace: string;
      resource: string;
      subresource: string;
      name: string;
    }
  | { kind: "nonResource"; verb: string; path: string };

/** The subject of an access check. */
export interface AccessSubject {
  user: string;
  groups: readonly string[];
}

/** SubjectAccessReviewStatus. */
export interface AccessDecision {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
}

const DISCOVERY_PATHS = [
  "/api",
  "/api/*",
  "/apis",
  "/apis/*",
  "/healthz",
  "/livez",
  "/openapi",
  "/openapi/*",
  "/readyz",
  "/version",
  "/version/",
];

/** Kubernetes' bootstrap roles that matter to a client: discovery, health and version, and self reviews. */
export const BOOTSTRAP_RULES: readonly PolicyRule[] = [
  { name: "system:discovery", groups: ["system:authenticated"], verbs: ["get"], nonResourceURLs: DISCOVERY_PATHS },
  {
    name: "system:public-info-viewer",
    groups: ["system:authenticated", "system:unauthenticated"],
    verbs: ["get"],
    nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"],
  },
  {
    name: "system:basic-user",
    groups: ["system:authenticated"],
    verbs: ["create"],
    apiGroups: ["authorization.k8s.io"],
    resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
  },
  {
    name: "system:basic-user",
    groups: ["system:authenticated"],
    verbs: ["create"],
    apiGroups: ["authentication.k8s.io"],
    resources: ["selfsubjectreviews"],
  },
];

/**
 * What an extension API server's ServiceAccount is granted in a real deployment: ClusterRole
 * `system:auth-delegator` (create TokenReviews and SubjectAccessReviews) and Role
 * `extension-apiserver-authentication-reader` in kube-system (read the authentication ConfigMap), for `subject`.
 */
export function delegatedAuthenticationRules(subject: {
  users?: readonly string[];
  groups?: readonly string[];
}): PolicyRule[] {
  return [
    {
      ...subject,
      name: "system:auth-delegator",
      verbs: ["create"],
      apiGroups: ["authentication.k8s.io"],
      resources: ["tokenreviews"],
    },
    {
      ...subject,
      name: "system:auth-delegator",
      verbs: ["create"],
      apiGroups: ["authorization.k8s.io"],
      resources: ["subjectaccessreviews"],
    },
    {
      ...subject,
      name: "extension-apiserver-authentication-reader",
      verbs: ["get", "list", "watch"],
      apiGroups: [""],
      resources: ["configmaps"],
      namespaces: ["kube-system"],
      resourceNames: ["extension-apiserver-authentication"],
    },
  ];
}

/** Decides `attributes` for `subject` under `rules` (then the bootstrap rules). */
export function decideAccess(
  rules: readonly PolicyRule[],
  subject: AccessSubject,
  attributes: AccessAttributes,
): AccessDecision {
  if (subject.groups.includes("system:masters")) return { allowed: true };
  const candidates = [
    ...rules.map((rule, index) => ({ rule, name: rule.name ?? `test-policy-${index}` })),
    ...BOOTSTRAP_RULES.map((rule) => ({ rule, name: rule.name! })),
  ];
  for (const { rule, name } of candidates) {
    const subjectText = matchingSubject(rule, subject);
    if (subjectText === undefined || !ruleMatches(rule, attributes)) continue;
    if (rule.effect === "deny")
      return { allowed: false, denied: true, ...(rule.reason ? { reason: rule.reason } : {}) };
    return { allowed: true, reason: rule.reason ?? rbacReason(rule, name, subjectText, attributes) };
  }
  return { allowed: false };
}

/** RBAC's reason text: `RBAC: allowed by ClusterRoleBinding "n" of ClusterRole "n" to User "u"`. */
function rbacReason(rule: PolicyRule, name: string, subjectText: string, attributes: AccessAttributes): string {
  if (rule.namespaces && attributes.kind === "resource") {
    return `RBAC: allowed by RoleBinding "${name}/${attributes.namespace}" of Role "${name}" to ${subjectText}`;
  }
  return `RBAC: allowed by ClusterRoleBinding "${name}" of ClusterRole "${name}" to ${subjectText}`;
}

/** How RBAC names the subject that matched (`User "x"`, `Group "g"`, `ServiceAccount "name/namespace"`), or undefined. */
function matchingSubject(rule: PolicyRule, subject: AccessSubject): string | undefined {
  if (rule.users?.includes("*") || rule.users?.includes(subject.user)) {
    const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject.user);
    return serviceAccount ? `ServiceAccount "${serviceAccount[2]}/${serviceAccount[1]}"` : `User "${subject.user}"`;
  }
  const group = rule.groups?.find((candidate) => candidate === "*" || subject.groups.includes(candidate));
  if (group !== undefined) return `Group "${group === "*" ? (subject.groups[0] ?? "*") : group}"`;
  if (rule.users === undefined && rule.groups === undefined) return `User "${subject.user}"`;
  return undefined;
}

function ruleMatches(rule: PolicyRule, attributes: AccessAttributes): boolean {
  if (!includesOrStar(rule.verbs, attributes.verb)) return false;
  if (attributes.kind === "nonResource") {
    return (
      rule.nonResourceURLs?.some(
        (url) => url === attributes.path || (url.endsWith("*") && attributes.path.startsWith(url.slice(0, -1))),
      ) ?? false
    );
  }
  if (rule.nonResourceURLs !== undefined) return false;
  if (rule.apiGroups && !includesOrStar(rule.apiGroups, attributes.group)) return false;
  if (rule.namespaces && !rule.namespaces.includes(attributes.namespace)) return false;
  if (rule.resourceNames && !rule.resourceNames.includes(attributes.name)) return false;
  return rule.resources === undefined || resourceMatches(rule.resources, attributes.resource, attributes.subresource);
}

/** rbac `ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*\/subresource`. */
function resourceMatches(ruleResources: readonly string[], resource: string, subresource: string): boolean {
  const combined = subresource === "" ? resource : `${resource}/${subresource}`;
  return ruleResources.some(
    (entry) => entry === "*" || entry === combined || (subresource !== "" && entry === `*/${subresource}`),
  );
}

function includesOrStar(values: readonly string[], value: string): boolean {
  return values.includes("*") || values.includes(value);
}

/**
 * responsewriters `forbiddenMessage`, with the reason appended: `User "x" cannot list resource "pods" in API group
 * "" in the namespace "default"`, `... at the cluster scope`, or `User "x" cannot get path "/apis"`.
 */
export function forbiddenReason(user: string, attributes: AccessAttributes, reason: string): string {
  let message: string;
  if (attributes.kind === "nonResource") {
    message = `User ${JSON.stringify(user)} cannot ${attributes.verb} path ${JSON.stringify(attributes.path)}`;
  } else {
    const resource =
      attributes.subresource === "" ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
    const scope =
      attributes.namespace === "" ? "at the cluster scope" : `in the namespace ${JSON.stringify(attributes.namespace)}`;
    message = `User ${JSON.stringify(user)} cannot ${attributes.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attributes.group)} ${scope}`;
  }
  return reason === "" ? message : `${message}: ${reason}`;
}
