/**
 * `Impersonate-User` / `Impersonate-Group` / `Impersonate-Uid` (what `kubectl --as` and `--as-group` send), after
 * k8s.io/apiserver's impersonation filter: the caller needs the `impersonate` verb on `users` (or `serviceaccounts`),
 * each group in `groups` and the uid in `authentication.k8s.io/uids`; the request then runs as the impersonated user.
 */
import { headerValuesOf } from "../../../src/server/raw-headers.ts";
import { decideAccess, forbiddenReason, type AccessAttributes } from "./policy.ts";
import { badRequest, forbidden, type StatusBody } from "./status.ts";
import type { CallerIdentity, PolicyRule } from "./types.ts";

/** The identity the request runs as, or the Status to answer with; `caller` unchanged when nothing is impersonated. */
export function applyImpersonation(
  request: Request,
  caller: CallerIdentity,
  rules: readonly PolicyRule[],
): CallerIdentity | StatusBody {
  const users = headerValuesOf(request, "impersonate-user");
  const groups = headerValuesOf(request, "impersonate-group");
  const uids = headerValuesOf(request, "impersonate-uid");
  if (users.length === 0) {
    return groups.length > 0 || uids.length > 0 ? badRequest("requested [] without impersonating a user") : caller;
  }
  const username = users[0]!;
  const checks: AccessAttributes[] = [];
  const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  checks.push(
    serviceAccount
      ? {
          kind: "resource",
          verb: "impersonate",
          group: "",
          version: "",
          namespace: serviceAccount[1]!,
          resource: "serviceaccounts",
          subresource: "",
          name: serviceAccount[2]!,
        }
      : {
          kind: "resource",
          verb: "impersonate",
          group: "",
          version: "",
          namespace: "",
          resource: "users",
          subresource: "",
          name: username,
        },
  );
  for (const group of groups) {
    checks.push({
      kind: "resource",
      verb: "impersonate",
      group: "",
      version: "",
      namespace: "",
      resource: "groups",
      subresource: "",
      name: group,
    });
  }
  for (const uid of uids) {
    checks.push({
      kind: "resource",
      verb: "impersonate",
      group: "authentication.k8s.io",
      version: "",
      namespace: "",
      resource: "uids",
      subresource: "",
      name: uid,
    });
  }
  for (const check of checks) {
    const decision = decideAccess(rules, { user: caller.username, groups: caller.groups ?? [] }, check);
    if (!decision.allowed && check.kind === "resource") {
      return forbidden(
        { group: check.group, resource: check.resource },
        check.name,
        forbiddenReason(caller.username, check, decision.reason ?? ""),
      );
    }
  }
  const impersonatedGroups = [...groups];
  if (serviceAccount && groups.length === 0)
    impersonatedGroups.push("system:serviceaccounts", `system:serviceaccounts:${serviceAccount[1]}`);
  if (
    username !== "system:anonymous" &&
    !impersonatedGroups.some((group) => group === "system:authenticated" || group === "system:unauthenticated")
  ) {
    impersonatedGroups.push("system:authenticated");
  }
  return {
    username,
    ...(uids[0] ? { uid: uids[0] } : {}),
    groups: impersonatedGroups,
    via: caller.via,
    impersonatedBy: caller.username,
  };
}
