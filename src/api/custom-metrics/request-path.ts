/**
 * Parses the part of a custom-metrics path after `/apis/custom.metrics.k8s.io/<version>/` (docs/api.md, Paths):
 *   C1 `{resource}/{name}/{metric}`                       cluster-scoped objects
 *   C2 `namespaces/{ns}/{resource}/{name}/{metric}`       namespaced objects
 *   C3 `namespaces/{ns}/metrics/{metric}`                 the Namespace {ns} itself (resource namespaces, name {ns})
 * Segments are percent-decoded once (`%2A` is `*`).
 */
import { BadRequestError } from "../../apimachinery/status.ts";
import { decodePathSegment } from "../path-segments.ts";
import { pathNotFound } from "../status.ts";

export interface CustomMetricPath {
  /** Resource as written (`pods`, `deployments.apps`); `namespaces` for C3. */
  readonly resource: string;
  /** Namespace of the objects; undefined for C1 and C3. */
  readonly namespace: string | undefined;
  readonly name: string;
  readonly metric: string;
}

/** Throws BadRequestError (`invalid request path`) or a 404 NotFoundError. */
export function parseCustomMetricPath(rest: string): CustomMetricPath {
  const segments = rest.split("/").map(decodePathSegment);
  if (segments.some((segment) => segment === "")) throw pathNotFound();
  if (segments[0] === "namespaces") {
    const [, namespace, ...tail] = segments as [string, string | undefined, ...string[]];
    if (namespace === undefined) throw new BadRequestError("invalid request path");
    if (tail.length === 2 && tail[0] === "metrics") {
      return { resource: "namespaces", namespace: undefined, name: namespace, metric: tail[1] as string };
    }
    if (tail.length < 3) throw new BadRequestError("invalid request path");
    if (tail.length > 3) throw pathNotFound();
    const [resource, name, metric] = tail as [string, string, string];
    return { resource, namespace, name, metric };
  }
  if (segments.length !== 3) throw pathNotFound();
  const [resource, name, metric] = segments as [string, string, string];
  return { resource, namespace: undefined, name, metric };
}
