/**
 * Where metrics.k8s.io takes its pods and nodes from (docs/api.md: Resource metrics, Standalone mode). Two
 * implementations:
 * - Kubernetes mode: the Kubernetes API. Pods in phase Running only (list with `fieldSelector=status.phase=Running`),
 *   every node; `labels` copied from `metadata.labels`.
 * - Standalone mode (prometheus-object-source.ts): the values of the pod / node label in Prometheus; no labels.
 *
 * Division of work with the provider, so that every source behaves alike:
 * - The provider parses `labelSelector` (400 on a syntax error) before it calls a source, and hands the source the
 *   raw text; the source returns only objects matching it (Kubernetes: pass it as the LIST's `labelSelector`).
 * - The provider applies `fieldSelector` (`metadata.name`, `metadata.namespace`) itself, after listing, as
 *   metrics-server does; sources never see it.
 * - The provider sorts (pods by namespace then name, nodes by name); sources may return any order.
 * - Errors a client should see are thrown as ApiError subclasses (providers/errors.ts), e.g.
 *   `InternalError("unable to list matching resources")` when a LIST fails, or a BadRequestError for a request
 *   the source cannot answer; anything else becomes a generic 500.
 */

/** A pod the API may report on. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  /** `metadata.labels`; `{}` when none (then omitted from the answer). */
  readonly labels: Readonly<Record<string, string>>;
}

/** A node the API may report on. */
export interface NodeRef {
  readonly name: string;
  /** `metadata.labels`; `{}` when none (then omitted from the answer). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface ResourceObjectSource {
  /**
   * Running pods matching `labelSelector` (raw text, already validated; `""` = all) in `namespace`, or in every
   * namespace when `namespace` is undefined (R3).
   */
  listPods(namespace: string | undefined, labelSelector: string): Promise<readonly PodRef[]>;
  /** The pod, or null when there is no such Running pod (the API then answers 404 `pods "<name>" not found`). */
  getPod(namespace: string, name: string): Promise<PodRef | null>;
  /** Nodes matching `labelSelector` (raw text, already validated; `""` = all). */
  listNodes(labelSelector: string): Promise<readonly NodeRef[]>;
  /** The node, or null when there is no such node (404 `nodes "<name>" not found`). */
  getNode(name: string): Promise<NodeRef | null>;
}
