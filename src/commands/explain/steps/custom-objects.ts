import { formatGroupResource, type ResourceInfo } from "../../../apimachinery/rest-mapper.ts";
import { ApiError } from "../../../apimachinery/status.ts";
import { errorText, kubernetesUnreachable, listSome, type AnalysisContext } from "./shared.ts";
import type { ExplainStep } from "../types.ts";
import { KubernetesHttpError } from "../../../kubernetes/errors.ts";

/** Where the objects came from: `names` null = the result's label values (standalone `*`). */
type ObjectsOutcome =
  | { readonly stop: false; readonly names: readonly string[] | null }
  | { readonly stop: true; readonly unreachable: string | null };

/** The objects step: named in the path, LISTed from Kubernetes, or left to the result's labels (standalone). */
export async function findObjects(
  ctx: AnalysisContext,
  resource: ResourceInfo,
  namespaced: boolean,
  steps: ExplainStep[],
): Promise<ObjectsOutcome> {
  const { request } = ctx;
  const name = request.name as string;
  if (name !== "*") {
    const names = [name];
    steps.push({
      step: "objects",
      status: "ok",
      summary: `${name}, named in the path`,
      hints: [],
      data: { source: "path", names, labelSelector: "", error: null },
    });
    return { stop: false, names };
  }
  if (ctx.access.objects === undefined) {
    if (request.labelSelector !== "") {
      steps.push({
        step: "objects",
        status: "failed",
        reason: "bad-request",
        summary: "labelSelector needs the Kubernetes API to list objects; standalone mode answers 400",
        hints: ["run explain (and the server) with --kubeconfig instead of --standalone, or leave labelSelector out"],
        data: {
          source: "prometheus",
          names: null,
          labelSelector: request.labelSelector,
          error: "labelSelector is not supported in standalone mode",
        },
      });
      return { stop: true, unreachable: null };
    }
    steps.push({
      step: "objects",
      status: "ok",
      summary: "standalone mode: the objects are the values of the resource label in the query result",
      hints: [],
      data: { source: "prometheus", names: null, labelSelector: "", error: null },
    });
    return { stop: false, names: null };
  }
  const list = ctx.lists[0];
  const where = namespaced && resource.namespaced ? `in namespace ${request.namespace}` : "cluster-wide";
  const selectorText = request.labelSelector === "" ? "" : ` matching labelSelector ${request.labelSelector}`;
  if (list === undefined) return { stop: true, unreachable: null };
  if (list.error !== undefined) {
    const cause = (list.error as { cause?: unknown }).cause;
    const forbidden = cause instanceof KubernetesHttpError && cause.status === 403;
    steps.push({
      step: "objects",
      status: "failed",
      reason: list.error instanceof ApiError && list.error.code === 400 ? "bad-request" : "objects-list-failed",
      summary: `listing ${formatGroupResource(resource)} ${where} failed: ${errorText(list.error)}`,
      hints: forbidden
        ? [
            `the identity may not list ${formatGroupResource(resource)}: check with \`kubectl auth can-i list ${formatGroupResource(resource)} --as=system:serviceaccount:<namespace>:<service account>\`; the adapter's ServiceAccount needs get/list on it (ClusterRole prom-adapter-resource-reader)`,
          ]
        : [],
      data: { source: "kubernetes", names: null, labelSelector: request.labelSelector, error: errorText(list.error) },
    });
    return { stop: true, unreachable: kubernetesUnreachable(list) };
  }
  const names = list.names ?? [];
  if (names.length === 0) {
    let total: number | null = null;
    if (request.labelSelector !== "")
      total = (await ctx.access.objects.listNames(resource, request.namespace, "").catch(() => null))?.length ?? null;
    const filtered = total !== null && total > 0;
    steps.push({
      step: "objects",
      status: "failed",
      reason: filtered ? "selector-filtered-everything" : "no-objects",
      summary: filtered
        ? `no ${formatGroupResource(resource)} ${where}${selectorText}, though ${total} exist without it: the selector filters everything out`
        : `no ${formatGroupResource(resource)} ${where}${selectorText}`,
      hints: filtered
        ? ["an HPA sends its scale target's pod selector: check that the workload's selector matches the pods' labels"]
        : [],
      data: { source: "kubernetes", names, labelSelector: request.labelSelector, error: null },
    });
    return { stop: true, unreachable: null };
  }
  steps.push({
    step: "objects",
    status: "ok",
    summary: `${names.length} listed ${where}${selectorText}: ${listSome(names)}`,
    hints: [],
    data: { source: "kubernetes", names, labelSelector: request.labelSelector, error: null },
  });
  return { stop: false, names };
}
