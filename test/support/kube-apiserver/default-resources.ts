/**
 * The resources a fresh Kubernetes 1.32 cluster serves in the groups prom-adapter cares about (core, apps, batch,
 * networking, autoscaling, policy, apiextensions, plus the API machinery groups), with the names, short names,
 * categories, verbs and subresources of its discovery documents. Groups are in kube-apiserver's priority order.
 */
import type { ResourceDefinition, SubresourceDefinition } from "./types.ts";

/** The verbs of an ordinary stored resource. */
export const STORED_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const STATUS_VERBS = ["get", "patch", "update"];
const CREATE_ONLY = ["create"];
// NB: the apiextensions server lists CRD verbs in this order, unlike built-in types.
const CUSTOM_RESOURCE_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"];

const status: SubresourceDefinition = { name: "status", verbs: STATUS_VERBS };
const scale: SubresourceDefinition = {
  name: "scale",
  kind: "Scale",
  group: "autoscaling",
  version: "v1",
  verbs: STATUS_VERBS,
};

type Shape = Omit<
  ResourceDefinition,
  "group" | "version" | "resource" | "singular" | "kind" | "namespaced" | "verbs"
> & {
  verbs?: string[];
};

function resourcesOf(
  group: string,
  version: string,
  namespaced: boolean,
  table: Record<string, [kind: string, shape?: Shape]>,
) {
  return Object.entries(table).map(
    ([resource, [kind, shape = {}]]): ResourceDefinition => ({
      group,
      version,
      resource,
      singular: kind.toLowerCase(),
      kind,
      namespaced,
      ...shape,
      verbs: shape.verbs ?? STORED_VERBS,
    }),
  );
}

const POD_FIELD_LABELS = {
  "spec.nodeName": "spec.nodeName",
  "spec.restartPolicy": "spec.restartPolicy",
  "spec.schedulerName": "spec.schedulerName",
  "spec.serviceAccountName": "spec.serviceAccountName",
  "spec.hostNetwork": "spec.hostNetwork",
  "status.phase": "status.phase",
  "status.podIP": "status.podIP",
  "status.nominatedNodeName": "status.nominatedNodeName",
};

const CORE_NAMESPACED = resourcesOf("", "v1", true, {
  bindings: ["Binding", { verbs: CREATE_ONLY }],
  configmaps: ["ConfigMap", { shortNames: ["cm"] }],
  endpoints: ["Endpoints", { shortNames: ["ep"] }],
  events: ["Event", { shortNames: ["ev"] }],
  limitranges: ["LimitRange", { shortNames: ["limits"] }],
  persistentvolumeclaims: ["PersistentVolumeClaim", { shortNames: ["pvc"], subresources: [status] }],
  pods: [
    "Pod",
    {
      shortNames: ["po"],
      categories: ["all"],
      fieldLabels: POD_FIELD_LABELS,
      subresources: [
        { name: "attach", kind: "PodAttachOptions", verbs: ["create", "get"] },
        { name: "binding", kind: "Binding", verbs: CREATE_ONLY },
        { name: "ephemeralcontainers", verbs: STATUS_VERBS },
        { name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: CREATE_ONLY },
        { name: "exec", kind: "PodExecOptions", verbs: ["create", "get"] },
        { name: "log", verbs: ["get"] },
        { name: "portforward", kind: "PodPortForwardOptions", verbs: ["create", "get"] },
        { name: "proxy", kind: "PodProxyOptions", verbs: ["create", "delete", "get", "patch", "update"] },
        status,
      ],
    },
  ],
  podtemplates: ["PodTemplate"],
  replicationcontrollers: [
    "ReplicationController",
    { shortNames: ["rc"], categories: ["all"], subresources: [scale, status] },
  ],
  resourcequotas: ["ResourceQuota", { shortNames: ["quota"], subresources: [status] }],
  secrets: ["Secret"],
  serviceaccounts: [
    "ServiceAccount",
    {
      shortNames: ["sa"],
      subresources: [
        { name: "token", kind: "TokenRequest", group: "authentication.k8s.io", version: "v1", verbs: CREATE_ONLY },
      ],
    },
  ],
  services: [
    "Service",
    {
      shortNames: ["svc"],
      categories: ["all"],
      subresources: [
        { name: "proxy", kind: "ServiceProxyOptions", verbs: ["create", "delete", "get", "patch", "update"] },
        status,
      ],
    },
  ],
});

const CORE_CLUSTER = resourcesOf("", "v1", false, {
  componentstatuses: ["ComponentStatus", { shortNames: ["cs"], verbs: ["get", "list"] }],
  namespaces: [
    "Namespace",
    {
      shortNames: ["ns"],
      verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      fieldLabels: { "status.phase": "status.phase" },
      subresources: [{ name: "finalize", verbs: ["update"] }, status],
    },
  ],
  nodes: [
    "Node",
    {
      shortNames: ["no"],
      fieldLabels: { "spec.unschedulable": "spec.unschedulable" },
      subresources: [
        { name: "proxy", kind: "NodeProxyOptions", verbs: ["create", "delete", "get", "patch", "update"] },
        status,
      ],
    },
  ],
  persistentvolumes: ["PersistentVolume", { shortNames: ["pv"], subresources: [status] }],
});

const HPA: Record<string, [string, Shape]> = {
  horizontalpodautoscalers: [
    "HorizontalPodAutoscaler",
    { shortNames: ["hpa"], categories: ["all"], subresources: [status] },
  ],
};

/** The default resource set of {@link startKubeApiServer}, in discovery order. */
export const DEFAULT_RESOURCES: readonly ResourceDefinition[] = [
  ...CORE_NAMESPACED,
  ...CORE_CLUSTER,
  ...resourcesOf("apiregistration.k8s.io", "v1", false, {
    apiservices: ["APIService", { categories: ["api-extensions"], subresources: [status] }],
  }),
  ...resourcesOf("apps", "v1", true, {
    controllerrevisions: ["ControllerRevision"],
    daemonsets: ["DaemonSet", { shortNames: ["ds"], categories: ["all"], subresources: [status] }],
    deployments: ["Deployment", { shortNames: ["deploy"], categories: ["all"], subresources: [scale, status] }],
    replicasets: ["ReplicaSet", { shortNames: ["rs"], categories: ["all"], subresources: [scale, status] }],
    statefulsets: ["StatefulSet", { shortNames: ["sts"], categories: ["all"], subresources: [scale, status] }],
  }),
  ...resourcesOf("authentication.k8s.io", "v1", false, {
    selfsubjectreviews: ["SelfSubjectReview", { verbs: CREATE_ONLY }],
    tokenreviews: ["TokenReview", { verbs: CREATE_ONLY }],
  }),
  ...resourcesOf("authorization.k8s.io", "v1", false, {
    selfsubjectaccessreviews: ["SelfSubjectAccessReview", { verbs: CREATE_ONLY }],
    selfsubjectrulesreviews: ["SelfSubjectRulesReview", { verbs: CREATE_ONLY }],
    subjectaccessreviews: ["SubjectAccessReview", { verbs: CREATE_ONLY }],
  }),
  ...resourcesOf("authorization.k8s.io", "v1", true, {
    localsubjectaccessreviews: ["LocalSubjectAccessReview", { verbs: CREATE_ONLY }],
  }),
  ...resourcesOf("autoscaling", "v2", true, HPA),
  ...resourcesOf("autoscaling", "v1", true, HPA),
  ...resourcesOf("batch", "v1", true, {
    cronjobs: ["CronJob", { shortNames: ["cj"], categories: ["all"], subresources: [status] }],
    jobs: ["Job", { categories: ["all"], subresources: [status] }],
  }),
  ...resourcesOf("networking.k8s.io", "v1", false, {
    ingressclasses: ["IngressClass"],
  }),
  ...resourcesOf("networking.k8s.io", "v1", true, {
    ingresses: ["Ingress", { shortNames: ["ing"], subresources: [status] }],
    networkpolicies: ["NetworkPolicy", { shortNames: ["netpol"] }],
  }),
  ...resourcesOf("policy", "v1", true, {
    poddisruptionbudgets: ["PodDisruptionBudget", { shortNames: ["pdb"], subresources: [status] }],
  }),
  ...resourcesOf("rbac.authorization.k8s.io", "v1", false, {
    clusterrolebindings: ["ClusterRoleBinding"],
    clusterroles: ["ClusterRole"],
  }),
  ...resourcesOf("rbac.authorization.k8s.io", "v1", true, {
    rolebindings: ["RoleBinding"],
    roles: ["Role"],
  }),
  ...resourcesOf("apiextensions.k8s.io", "v1", false, {
    customresourcedefinitions: [
      "CustomResourceDefinition",
      { shortNames: ["crd", "crds"], categories: ["api-extensions"], subresources: [status] },
    ],
  }),
  ...resourcesOf("discovery.k8s.io", "v1", true, {
    endpointslices: ["EndpointSlice"],
  }),
];

/** What a CustomResourceDefinition declares, for {@link customResourceDefinition}. */
export interface CustomResourceNames {
  group: string;
  version: string;
  /** Plural, e.g. `widgets`. */
  plural: string;
  /** Default the kind lower-cased. */
  singular?: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Whether the CRD enables the status subresource; default false. */
  statusSubresource?: boolean;
}

/** A resource definition served the way the apiextensions server serves a CRD's version. */
export function customResourceDefinition(names: CustomResourceNames): ResourceDefinition {
  return {
    group: names.group,
    version: names.version,
    resource: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    kind: names.kind,
    namespaced: names.namespaced,
    verbs: CUSTOM_RESOURCE_VERBS,
    ...(names.shortNames ? { shortNames: names.shortNames } : {}),
    ...(names.categories ? { categories: names.categories } : {}),
    ...(names.statusSubresource ? { subresources: [status] } : {}),
    custom: true,
  };
}
