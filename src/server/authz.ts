/**
 * Whether a user may make a request (docs/api.md, Authorization), as k8s.io/apiserver's delegating authorizer decides:
 * members of `system:masters` always may; plain paths listed in `--authorization-always-allow-paths` always may;
 * everything else is a SubjectAccessReview. Not allowed → 403 in apiserver's exact wording; a review that fails → 500.
 */
import type { Authorizer, SubjectAccessReviewSpec } from "../kubernetes/subject-access-review.ts";
import type { UserInfo } from "../kubernetes/token-review.ts";
import { goQuote } from "../golang/strconv.ts";
import type { Logger } from "../observability/logger.ts";
import { ApiError, InternalError, type StatusDetails } from "../apimachinery/status.ts";
import type { RequestAttributes } from "./request-info.ts";

/** The group whose members skip authorization. */
export const PRIVILEGED_GROUP = "system:masters";

/** 403 `Forbidden` with k8s.io/apiserver's message and details. */
export class ForbiddenError extends ApiError {
  override readonly name = "ForbiddenError";
  constructor(message: string, details: StatusDetails) {
    super(403, "Forbidden", message, details);
  }
}

/** An `--authorization-always-allow-paths` entry that cannot be used. */
export class AlwaysAllowPathError extends Error {
  override readonly name = "AlwaysAllowPathError";
}

/** Lets `user` make a request with `attributes`, or throws ForbiddenError (403) or InternalError (500). */
export type Authorize = (user: UserInfo, attributes: RequestAttributes) => Promise<void>;

/** Dependencies of {@link createAuthorization}. */
export interface AuthorizationDeps {
  readonly authorizer: Authorizer;
  /** `--authorization-always-allow-paths`: exact paths, or prefixes when ending in `*` (the only `*` allowed). */
  readonly alwaysAllowPaths: readonly string[];
  readonly logger: Logger;
}

/** Throws AlwaysAllowPathError for an entry with a `*` anywhere but at its end. */
export function createAuthorization({ authorizer, alwaysAllowPaths, logger }: AuthorizationDeps): Authorize {
  const isAlwaysAllowed = alwaysAllowedPathMatcher(alwaysAllowPaths);
  return async (user, attributes) => {
    if (user.groups.includes(PRIVILEGED_GROUP)) return;
    if (attributes.kind === "nonResource" && isAlwaysAllowed(attributes.path)) return;
    const spec = subjectAccessReviewSpecOf(user, attributes);
    let decision: Awaited<ReturnType<typeof authorizer.authorize>>;
    try {
      decision = await authorizer.authorize(spec);
    } catch (error) {
      throw new InternalError("unable to authorize the request", error);
    }
    if (decision.evaluationError !== "") {
      logger.info(2, "authorization evaluation error", { user: user.username, error: decision.evaluationError });
    }
    if (decision.allowed) return;
    logger.info(4, "forbidden", { user: user.username, reason: decision.reason });
    throw forbiddenError(user, attributes, decision.reason);
  };
}

/**
 * Matches a request path against the always-allow entries as k8s.io/apiserver's path authorizer does: leading `/`
 * ignored, exact match, or prefix match for entries ending in `*`.
 */
export function alwaysAllowedPathMatcher(entries: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of entries) {
    const trimmed = entry.replace(/^\//, "");
    if (trimmed.slice(0, -1).includes("*"))
      throw new AlwaysAllowPathError(
        `only a trailing * is allowed in --authorization-always-allow-paths, got "${entry}"`,
      );
    if (trimmed.endsWith("*")) prefixes.push(trimmed.slice(0, -1));
    else exact.add(trimmed);
  }
  return (path) => {
    const trimmed = path.replace(/^\//, "");
    return exact.has(trimmed) || prefixes.some((prefix) => trimmed.startsWith(prefix));
  };
}

/**
 * The SubjectAccessReview `spec` for `user` doing `attributes`: fields in the Go struct's order, empty ones omitted
 * (so equal requests give byte-equal JSON, the cache key).
 */
export function subjectAccessReviewSpecOf(user: UserInfo, attributes: RequestAttributes): SubjectAccessReviewSpec {
  const nonEmpty = <T extends Record<string, string>>(fields: T): Partial<T> =>
    Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== "")) as Partial<T>;
  const target =
    attributes.kind === "resource"
      ? {
          resourceAttributes: nonEmpty({
            namespace: attributes.namespace,
            verb: attributes.verb,
            group: attributes.group,
            version: attributes.version,
            resource: attributes.resource,
            subresource: attributes.subresource,
            name: attributes.name,
          }),
        }
      : { nonResourceAttributes: nonEmpty({ path: attributes.path, verb: attributes.verb }) };
  const extraEntries = Object.entries(user.extra);
  return {
    ...target,
    ...(user.username !== "" ? { user: user.username } : {}),
    ...(user.groups.length > 0 ? { groups: [...user.groups] } : {}),
    ...(extraEntries.length > 0
      ? { extra: Object.fromEntries(extraEntries.map(([key, values]) => [key, [...values]])) }
      : {}),
    ...(user.uid !== "" ? { uid: user.uid } : {}),
  };
}

const HTML_SPECIALS: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * k8s.io/apiserver's 403 (responsewriters.Forbidden + apierrors.NewForbidden): the "User ... cannot ..." sentence with
 * `&`, `<`, `>` HTML-escaped, then `: <reason>` as the authorizer gave it, behind `<resource>.<group> "<name>" is
 * forbidden: ` (or `forbidden: ` for a plain path); details name the object, group and resource, empty ones omitted.
 */
export function forbiddenError(user: UserInfo, attributes: RequestAttributes, reason: string): ForbiddenError {
  const sentence = forbiddenSentence(user.username, attributes).replace(/[&<>]/g, (char) => HTML_SPECIALS[char]!);
  const cause = reason === "" ? sentence : `${sentence}: ${reason}`;
  if (attributes.kind === "nonResource") return new ForbiddenError(`forbidden: ${cause}`, {});
  const { group, resource, name } = attributes;
  const details: { name?: string; group?: string; kind?: string } = {};
  if (name !== "") details.name = name;
  if (group !== "") details.group = group;
  if (resource !== "") details.kind = resource;
  if (group === "" && resource === "") return new ForbiddenError(`forbidden: ${cause}`, details);
  const qualified = group === "" ? resource : `${resource}.${group}`;
  const subject = name === "" ? qualified : `${qualified} ${goQuote(name)}`;
  return new ForbiddenError(`${subject} is forbidden: ${cause}`, details);
}

function forbiddenSentence(username: string, attributes: RequestAttributes): string {
  if (attributes.kind === "nonResource")
    return `User ${goQuote(username)} cannot ${attributes.verb} path ${goQuote(attributes.path)}`;
  const resource =
    attributes.subresource === "" ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
  const scope =
    attributes.namespace === "" ? "at the cluster scope" : `in the namespace ${goQuote(attributes.namespace)}`;
  return `User ${goQuote(username)} cannot ${attributes.verb} resource ${goQuote(resource)} in API group ${goQuote(attributes.group)} ${scope}`;
}
