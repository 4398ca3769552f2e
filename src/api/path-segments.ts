/**
 * Splits the part of a request path after a group's prefix into percent-decoded segments (decoded once, so `%2A` is
 * `*`), for the routes that parse their own paths.
 */
import { BadRequestError } from "../apimachinery/status.ts";
import { pathNotFound } from "./status.ts";

/**
 * One path segment, percent-decoded once (`%2A` is `*`; `%2F` stays inside the segment). The only decoder of path
 * segments: the routes and authorization (server/request-info.ts) both use it, so authorization sees the names the
 * handler serves. Bad percent-encoding is a 400.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError("invalid request path");
  }
}

/** `""` gives `[]`. An empty segment (`a//b`, trailing `/`) is a 404; bad percent-encoding is a 400. */
export function pathSegments(rest: string): string[] {
  if (rest === "") return [];
  return rest.split("/").map((segment) => {
    if (segment === "") throw pathNotFound();
    return decodePathSegment(segment);
  });
}

/** The path of `request` after `prefix` and one `/`; null when the path is not under `prefix`. */
export function pathAfter(request: Request, prefix: string): { rest: string; url: URL } | null {
  const url = new URL(request.url);
  if (!url.pathname.startsWith(`${prefix}/`)) return null;
  return { rest: url.pathname.slice(prefix.length + 1), url };
}
