/**
 * The public vocabulary of the kube-apiserver stand-in: resource definitions, objects, identities, policy rules and
 * the request log.
 */

/** A resource in an API group; `group` is `""` for the core group, `resource` the plural lower-case name. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** A subresource as discovery lists it (`pods/status`, `deployments/scale`). */
export interface SubresourceDefinition {
  /** The part after the slash, e.g. `status`. */
  name: string;
  /** Kind it serves; default the parent's kind. */
  kind?: string;
  /** Verbs, e.g. `["get","patch","update"]`. */
  verbs: string[];
  /** Group and version when they differ from the parent's (`deployments/scale` is `autoscaling/v1` Scale). */
  group?: string;
  version?: string;
}

/** One resource served in one group-version, as discovery describes it. */
export interface ResourceDefinition {
  /** API group; `""` for core. */
  group: string;
  /** Version, e.g. `v1`. A group's preferred version is the first one defined. */
  version: string;
  /** Plural lower-case name, e.g. `pods`. */
  resource: string;
  /** Singular lower-case name, e.g. `pod`. */
  singular: string;
  /** Kind, e.g. `Pod`. The list kind is `<kind>List`. */
  kind: string;
  namespaced: boolean;
  /** Discovery verbs. Only `get` and `list` are served; other verbs are advertised the way Kubernetes does. */
  verbs: string[];
  /** Short names, e.g. `["po"]`. Default none. */
  shortNames?: string[];
  /** Categories, e.g. `["all"]`. Default none. */
  categories?: string[];
  /** Subresources listed in discovery; `status` is also served (GET returns the whole object). Default none. */
  subresources?: SubresourceDefinition[];
  /**
   * Field selector labels beyond the defaults, mapped to the dotted path read from the object (`status.phase`).
   * When set, unknown labels fail with `field label not supported: <label>` (types with their own conversion
   * function); when absent only `metadata.name` and `metadata.namespace` are known and the error is apimachinery's
   * default `"<label>" is not a known field selector: only "metadata.name", "metadata.namespace"`.
   */
  fieldLabels?: Record<string, string>;
  /**
   * Served like a CustomResourceDefinition: list items keep `kind` and `apiVersion`, and adding it with
   * `addResource` also stores a `customresourcedefinitions` object. Default false (built-in types, whose list items
   * carry no `kind`/`apiVersion`).
   */
  custom?: boolean;
}

/** An object to store. Fields are laid out in Kubernetes' order (metadata, then data or spec and status). */
export interface ObjectInput {
  name: string;
  /** Required in effect for namespaced resources: default `"default"`. Must be absent for cluster-scoped ones. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Default a UUID derived from the group, resource, namespace and name (stable across runs). */
  uid?: string;
  /** RFC 3339 UTC, e.g. `2024-05-01T12:00:05Z`; default the time of `setObjects`, whole seconds. */
  creationTimestamp?: string;
  ownerReferences?: Record<string, unknown>[];
  /**
   * `status.phase`. NB: pods default to `Running` and namespaces to `Active`, the phases a healthy cluster shows, so
   * a fixture pod is listed by `fieldSelector=status.phase=Running` unless a test says otherwise.
   */
  phase?: string;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  /** Top-level `data` (ConfigMaps, Secrets). */
  data?: Record<string, string>;
}

/** An authenticated user, as TokenReview and SubjectAccessReview spell it. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** A token's answer in TokenReview: the user plus the audiences the token is valid for. */
export interface TokenIdentity extends UserInfo {
  /** Default `["https://kubernetes.default.svc.cluster.local"]` (the API server's own audience). */
  audiences?: string[];
}

/**
 * One rule of the stand-in's authorization table (SubjectAccessReview answers and its own callers). Rules are read
 * in order and the first one that matches decides; after them come Kubernetes' bootstrap discovery roles; when
 * nothing matches the answer is "not allowed" with no reason, like RBAC. Omitted selectors match anything.
 */
export interface PolicyRule {
  /** User names the rule applies to (`"*"` = everyone). With `groups`, either matching is enough. */
  users?: readonly string[];
  /** Groups the rule applies to. */
  groups?: readonly string[];
  /** Verbs, e.g. `["get","list"]` or `["*"]`. */
  verbs: readonly string[];
  /** API groups (`""` = core, `"*"` = all). Resource rules only. */
  apiGroups?: readonly string[];
  /** Resources as RBAC writes them: `pods`, `pods/status`, `*\/scale`, `*`. Resource rules only. */
  resources?: readonly string[];
  /** Namespaces the rule is limited to (a RoleBinding); omitted = cluster-wide (a ClusterRoleBinding). */
  namespaces?: readonly string[];
  /** Object names the rule is limited to. */
  resourceNames?: readonly string[];
  /** Makes it a non-resource rule: exact paths, or prefixes ending in `*`. */
  nonResourceURLs?: readonly string[];
  /** Default `allow`. `deny` answers `denied: true` (as a webhook authorizer can). */
  effect?: "allow" | "deny";
  /**
   * The `reason` text. Default for `allow`: RBAC's `RBAC: allowed by ClusterRoleBinding "<name>" of ClusterRole
   * "<name>" to User "<user>"` (RoleBinding `"<name>/<namespace>"` of Role when `namespaces` is set); for `deny`: none.
   */
  reason?: string;
  /** Binding and role name used in the default reason; default `test-policy-<index>`. */
  name?: string;
}

/** Who made a request to the stand-in, after authentication (and impersonation). */
export interface CallerIdentity extends UserInfo {
  /** How the caller proved it. */
  via: "token" | "certificate";
  /** Set when the request impersonated someone: the user who really sent it. */
  impersonatedBy?: string;
}

/** One request the stand-in received. */
export interface RecordedRequest {
  method: string;
  /** Path without the query, percent-decoding left as sent. */
  path: string;
  /** Query parameters (the last value when repeated). */
  query: Record<string, string>;
  /** Request headers, lower-case names. */
  headers: Record<string, string>;
  /** Body parsed as JSON, the raw text when it is not JSON, `undefined` when empty. */
  body: unknown;
  /** The authenticated caller; `undefined` when authentication failed or was not reached. */
  identity: CallerIdentity | undefined;
  /** HTTP status of the answer. */
  status: number;
}
