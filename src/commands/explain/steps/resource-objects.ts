import { ApiError } from "../../../apimachinery/status.ts";
import { fieldSelectorMatches, parseFieldSelector } from "../../../apimachinery/fields.ts";
import { errorText, kubernetesUnreachable, listSome, prometheusUnreachable, responseMessage } from "./shared.ts";
import type { ExplainStep, ResourceRequest } from "../types.ts";
import { compareStrings } from "../../../util/compare.ts";
import { objectKey, type ResourceAnalysisContext, type ResourceObject } from "./resource-context.ts";
function describeScope(request: ResourceRequest): string {
  if (request.resource === "nodes") return request.name === undefined ? "nodes" : `node ${request.name}`;
  if (request.name !== undefined) return `pod ${request.namespace}/${request.name}`;
  return request.namespace === undefined ? "pods in all namespaces" : `pods in namespace ${request.namespace}`;
}

export function objectsStep(ctx: ResourceAnalysisContext): {
  step: ExplainStep;
  objects: ResourceObject[] | null;
  unreachable: string | null;
} {
  const { request, rules } = ctx;
  const kind = request.resource;
  const call = ctx.objectCalls[0];
  const source =
    ctx.mode === "cluster"
      ? ("kubernetes" as const)
      : request.name !== undefined
        ? ("path" as const)
        : ("prometheus" as const);
  const data = (names: readonly string[] | null, error: string | null) => ({
    source,
    names,
    labelSelector: request.labelSelector,
    error,
  });
  const failed = (
    reason: "bad-request" | "objects-list-failed" | "no-objects" | "selector-filtered-everything",
    summary: string,
    hints: string[],
    names: readonly string[] | null,
    error: string | null,
  ) => ({
    step: "objects" as const,
    status: "failed" as const,
    reason,
    summary,
    hints,
    data: data(names, error),
  });
  const standaloneHint =
    "standalone mode finds pods per namespace and nodes from Prometheus: ask /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods or /nodes, without labelSelector (or run with --kubeconfig)";

  if (call === undefined) {
    const message = responseMessage(ctx.response.body);
    return {
      step: failed(
        "bad-request",
        `the server answers ${ctx.response.status} before looking for objects: ${message}`,
        [],
        null,
        message,
      ),
      objects: null,
      unreachable: null,
    };
  }
  if (call.error !== undefined) {
    const message = errorText(call.error);
    if (call.error instanceof ApiError && call.error.code === 400) {
      return {
        step: failed(
          "bad-request",
          `the server answers 400: ${message}`,
          ctx.mode === "standalone" ? [standaloneHint] : [],
          null,
          message,
        ),
        objects: null,
        unreachable: null,
      };
    }
    const hints = [
      `the adapter's identity needs get/list/watch on pods and nodes: bind it to the ClusterRole prom-adapter-resource-reader`,
    ];
    return {
      step: failed("objects-list-failed", `listing ${kind} failed: ${message}`, hints, null, message),
      objects: null,
      unreachable: kubernetesUnreachable(call),
    };
  }
  const listing = ctx.objectQueries[0];
  if (ctx.mode === "standalone" && listing?.error !== undefined) {
    const message = errorText(listing.error);
    const step = failed(
      "objects-list-failed",
      `Prometheus failed the CPU query that lists ${kind}: ${message}`,
      [`the query was ${listing.query}`],
      null,
      message,
    );
    return { step, objects: null, unreachable: prometheusUnreachable(listing) };
  }

  const listed = (call.found ?? []).map((key): ResourceObject => {
    if (kind === "nodes") return { namespace: undefined, name: key };
    const slash = key.indexOf("/");
    return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
  });
  const scope = describeScope(request);
  const withSelector = request.labelSelector === "" ? "" : ` matching labelSelector ${request.labelSelector}`;
  if (listed.length === 0) {
    if (ctx.mode === "cluster") {
      const summary =
        request.name !== undefined
          ? `no ${kind === "pods" ? "Running pod" : "node"} ${request.namespace === undefined ? "" : `${request.namespace}/`}${request.name}`
          : `no ${kind === "pods" ? "Running " : ""}${scope}${withSelector}`;
      const hints =
        kind === "pods" ? ["metrics.k8s.io reports Running pods only (kubectl get pods shows their phase)"] : [];
      return { step: failed("no-objects", summary, hints, [], null), objects: [], unreachable: null };
    }
    const rule = rules.cpu;
    const label = kind === "pods" ? rule.podLabel : rule.nodeLabel;
    const hints = [
      listing === undefined ? "" : `the query was ${listing.query}`,
      kind === "pods"
        ? `pods are the values of label ${rule.podLabel} in the CPU containerQuery's result for ${rule.namespaceLabel}="${request.namespace}": check the namespace and pod labels of the series in Prometheus`
        : `nodes are the values of label ${rule.nodeLabel} in the CPU nodeQuery's result: if the series name the node in another label (e.g. node or instance), map that label to nodes in resourceRules.cpu.resources`,
    ].filter((hint) => hint !== "");
    return {
      step: failed(
        "no-objects",
        `no ${scope}: the CPU ${kind === "pods" ? "containerQuery" : "nodeQuery"} returns no sample with ${label}=~".+"`,
        hints,
        [],
        null,
      ),
      objects: [],
      unreachable: null,
    };
  }

  let objects = listed;
  if (request.fieldSelector !== "") {
    const fields = parseFieldSelector(request.fieldSelector);
    objects = listed.filter((object) =>
      fieldSelectorMatches(
        fields,
        kind === "pods" ? { name: object.name, namespace: object.namespace } : { name: object.name },
      ),
    );
    if (objects.length === 0) {
      const summary = `${listed.length} ${kind} found, none matching fieldSelector ${request.fieldSelector}: the selector filters everything out`;
      return {
        step: failed("selector-filtered-everything", summary, [], listed.map(objectKey), null),
        objects,
        unreachable: null,
      };
    }
  }
  objects = [...objects].sort(
    (a, b) => compareStrings(a.namespace ?? "", b.namespace ?? "") || compareStrings(a.name, b.name),
  );
  const names = objects.map(objectKey);
  const from =
    source === "kubernetes"
      ? ` (LISTed from the Kubernetes API${kind === "pods" ? ", Running only" : ""})`
      : source === "path"
        ? " (named in the path; standalone mode does not check it exists)"
        : ` (values of label ${kind === "pods" ? rules.cpu.podLabel : rules.cpu.nodeLabel} in the CPU query's result)`;
  const fieldNote =
    request.fieldSelector === ""
      ? ""
      : `, ${objects.length} of ${listed.length} matching fieldSelector ${request.fieldSelector}`;
  return {
    step: {
      step: "objects",
      status: "ok",
      summary: `${objects.length} ${scope}${withSelector}${from}${fieldNote}: ${listSome(names)}`,
      hints: [],
      data: data(names, null),
    },
    objects,
    unreachable: null,
  };
}
